"""Domain errors of servicenet, in one place.

Each error carries a bilingual message (Chinese first, then English) and, where
it applies, the file, row and column it is about. The command line turns these
into exit code 2 (unusable input) or 1 (analysis impossible); the app shows the
message. Anything else raised is a bug.
"""

from __future__ import annotations


class ServicenetError(Exception):
    """Base class of every expected, user-facing error."""

    exit_code = 1

    def __init__(
        self,
        zh: str,
        en: str,
        *,
        file: str | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.zh = zh
        self.en = en
        self.file = file
        self.row = row
        self.column = column
        super().__init__(self.message)

    @property
    def where(self) -> str:
        """Location prefix such as ``sites.csv, row 3, column 经度: ``."""
        parts = []
        if self.file:
            parts.append(str(self.file))
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column:
            parts.append(f"column {self.column}")
        return ", ".join(parts) + ": " if parts else ""

    @property
    def message(self) -> str:
        """Bilingual message with the location."""
        return f"{self.where}{self.zh} / {self.en}"


class InputError(ServicenetError, ValueError):
    """Input that cannot be used as given (exit code 2)."""

    exit_code = 2


class SiteImportError(InputError):
    """A site or demand table that cannot be read at all."""


class StandardsError(InputError):
    """A standards file that is malformed."""


class RoadNetworkError(InputError):
    """A road file that cannot be turned into a network."""


class AnalysisError(ServicenetError, RuntimeError):
    """An analysis that cannot be carried out on valid input (exit code 1)."""

    exit_code = 1
