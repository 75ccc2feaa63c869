"""Vocabularies: header synonyms, kinds, levels, grades and statuses, read from TOML."""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from geo.errors import InputError

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
DEFAULT_VOCABULARY = DATA_DIR / "vocabulary.toml"

_BRACKETS = re.compile(r"[(\[][^)\]]*[)\]]")
_SEPARATORS = re.compile(r"[\s_\-·.:：*]+")


def normalise_key(text: str) -> str:
    """Fold a header or vocabulary term for matching.

    NFKC (full-width letters, digits and brackets become ASCII), lower case,
    bracketed notes removed, and spaces, underscores, hyphens, dots, colons and
    the asterisks of form templates (``*站点名称``) dropped.
    """
    folded = unicodedata.normalize("NFKC", text).strip().lower()
    without_notes = _BRACKETS.sub("", folded)
    # A header that is nothing but a bracketed note keeps it.
    core = without_notes if without_notes.strip() else folded
    return _SEPARATORS.sub("", core)


def bracket_note(text: str) -> str:
    """The bracketed note of a header (``经度（GCJ-02）`` gives ``gcj-02``), or ``""``."""
    folded = unicodedata.normalize("NFKC", text).lower()
    match = _BRACKETS.search(folded)
    return match.group(0)[1:-1].strip() if match else ""


@dataclass(frozen=True)
class Term:
    """One canonical value and the folded spellings that map to it."""

    code: str
    spellings: tuple[str, ...]
    default_level: str | None = None
    rank: int | None = None


@dataclass(frozen=True)
class Vocabulary:
    """All vocabularies the importer uses."""

    columns: dict[str, tuple[str, ...]]
    kinds: dict[str, Term]
    levels: dict[str, Term]
    grades: dict[str, Term]
    statuses: dict[str, Term]

    def lookup(self, table: str, value: str) -> str | None:
        """Canonical code of ``value`` in one of kinds/levels/grades/statuses, or None."""
        key = normalise_key(value)
        terms: dict[str, Term] = getattr(self, table)
        for term in terms.values():
            if key in term.spellings:
                return term.code
        return None

    def codes_in_text(self, table: str, text: str) -> list[str]:
        """Every code with a spelling inside ``text``, longest spelling first.

        Only spellings of three or more characters count ("市" alone is too
        weak). A spelling contained in a longer one that also occurs does not
        count on its own: in 社区卫生服务站 the clinic's 卫生服务站 wins over the
        service station's 服务站. Two codes left means the text is ambiguous
        (职工服务站、职工书屋).
        """
        folded = normalise_key(text)
        found: list[tuple[str, str]] = []
        terms: dict[str, Term] = getattr(self, table)
        for term in terms.values():
            found.extend(
                (spelling, term.code)
                for spelling in term.spellings
                if len(spelling) >= 3 and spelling in folded
            )
        found.sort(key=lambda f: -len(f[0]))
        codes: list[str] = []
        kept: list[str] = []
        for spelling, code in found:
            if any(spelling in longer for longer in kept):
                continue
            kept.append(spelling)
            if code not in codes:
                codes.append(code)
        return codes

    def word(self, table: str, code: str) -> str:
        """A code as a Chinese reader knows it (its first Chinese spelling, else the code)."""
        terms: dict[str, Term] = getattr(self, table)
        term = terms.get(code)
        if term is None:
            return code
        return next(
            (s for s in term.spellings if any("\u4e00" <= ch <= "\u9fff" for ch in s)), code
        )

    def words(self, table: str) -> str:
        """All codes of a vocabulary in Chinese words (see :meth:`word`), joined by 、."""
        return "、".join(self.word(table, code) for code in getattr(self, table))

    def known(self, table: str) -> list[str]:
        """Canonical codes of a vocabulary, in file order."""
        return list(getattr(self, table))


def _terms(raw: dict[str, object], section: str, source: Path) -> dict[str, Term]:
    out: dict[str, Term] = {}
    for code, body in raw.get(section, {}).items():  # type: ignore[attr-defined]
        if not isinstance(body, dict) or not isinstance(body.get("terms"), list):
            raise InputError(
                f"词表 [{section}.{code}] 缺少 terms 列表",
                f"vocabulary [{section}.{code}] needs a 'terms' list",
                file=str(source),
            )
        spellings = tuple(dict.fromkeys(normalise_key(str(t)) for t in [code, *body["terms"]]))
        level = body.get("default_level")
        rank = body.get("rank")
        out[code] = Term(
            code=code,
            spellings=spellings,
            default_level=str(level) if level is not None else None,
            rank=int(rank) if rank is not None else None,
        )
    return out


@lru_cache(maxsize=8)
def load_vocabulary(path: Path = DEFAULT_VOCABULARY) -> Vocabulary:
    """Read a vocabulary TOML file (the default ships in ``data/vocabulary.toml``)."""
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(
            f"无法读取词表：{exc}", f"cannot read vocabulary: {exc}", file=str(path)
        ) from exc
    columns = {
        field: tuple(normalise_key(str(s)) for s in body.get("synonyms", []))
        for field, body in raw.get("columns", {}).items()
    }
    return Vocabulary(
        columns=columns,
        kinds=_terms(raw, "kinds", path),
        levels=_terms(raw, "levels", path),
        grades=_terms(raw, "grades", path),
        statuses=_terms(raw, "statuses", path),
    )
