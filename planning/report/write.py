"""A report in the format its file name asks for: .html, .pdf or .xlsx."""

from __future__ import annotations

from pathlib import Path

from planning.report.html import write_html, write_pdf
from planning.report.inputs import ReportInputs
from planning.report.xlsx import write_xlsx


def write_report(inputs: ReportInputs, path: str | Path) -> None:
    """Write the report in the format the file name asks for (.html, .pdf or .xlsx)."""
    from geo.errors import InputError

    suffix = Path(path).suffix.lower()
    if suffix in (".html", ".htm"):
        write_html(inputs, path)
    elif suffix == ".pdf":
        write_pdf(inputs, path)
    elif suffix == ".xlsx":
        write_xlsx(inputs, path)
    else:
        raise InputError(
            f"不支持的报告格式 {suffix}（可用 .html .pdf .xlsx）",
            f"unsupported report format {suffix} (use .html, .pdf or .xlsx)",
            file=str(path),
        )
