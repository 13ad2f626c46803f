"""The assembled cohort report: tables, figures, methods text and provenance, ready for writers."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd


@dataclass(frozen=True)
class ReportTable:
    """One table of the report (one XLSX sheet, one DOCX table)."""

    name: str
    title: str
    frame: pd.DataFrame
    notes: tuple[str, ...] = ()

    @property
    def sheet_name(self) -> str:
        """Excel-safe sheet name (<= 31 characters, no []:*?/\\)."""
        return re.sub(r"[\[\]:*?/\\]", "_", self.name)[:31]


@dataclass(frozen=True)
class ReportFigure:
    """One figure, written as PNG (300 dpi) and SVG; paths are relative to the report directory."""

    name: str
    title: str
    png: str
    svg: str


@dataclass(frozen=True)
class CohortReport:
    """Everything the writers need; no file handles, so it can be written anywhere."""

    title: str
    source: str | None
    cohort_file: str
    n_rows: int
    n_analysed: int
    tables: tuple[ReportTable, ...]
    figures: tuple[ReportFigure, ...]
    methods: str
    software: tuple[tuple[str, str], ...]
    warnings: tuple[str, ...] = ()
    excluded: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["row", "patient", "column", "value", "expected"]))
    reading: tuple[str, ...] = ()  # how the file was read: sheet and header row, date orders, skipped rows
    omitted: tuple[str, ...] = ()  # analyses that could not run on these data, with the reason
    inferred: tuple[str, ...] = ()  # what was guessed when the config was inferred from the file
    language: str = "en"  # the writers' headings; tables are localised by report_language.localise_report

    def table(self, name: str) -> ReportTable:
        for t in self.tables:
            if t.name == name:
                return t
        raise KeyError(f"no table {name!r}; tables: {', '.join(t.name for t in self.tables)}")

    def texts(self) -> list[str]:
        """Every text the writers draw (titles, methods, warnings, headers, cells, notes), for
        font selection and the missing-glyph check."""
        out = [self.title, self.source or "", self.cohort_file, self.methods, *self.reading, *self.omitted,
               *self.inferred, *self.warnings]
        for t in self.tables:
            out += [t.title, *map(str, t.frame.columns), *t.notes]
            out += [str(v) for v in t.frame.to_numpy().ravel() if v is not None and v == v]
        out += [f.title for f in self.figures]
        out += [str(v) for v in self.excluded.to_numpy().ravel() if v is not None and v == v]
        out += [*map(str, self.excluded.columns)]
        out += [f"{k} {v}" for k, v in self.software]
        return out

    def to_frame(self) -> pd.DataFrame:
        """One row per output: kind (table/figure), name, title and rows (tables only)."""
        return pd.DataFrame(
            [{"kind": "table", "name": t.name, "title": t.title, "rows": len(t.frame)} for t in self.tables]
            + [{"kind": "figure", "name": f.name, "title": f.title, "rows": None} for f in self.figures]
        )

    def summary(self) -> str:
        """What was analysed, the outputs and the statistical warnings, as text."""
        lines = [self.title, f"{self.cohort_file}: {self.n_analysed} of {self.n_rows} rows analysed", ""]
        lines += [f"table  {t.name}: {t.title}" for t in self.tables]
        lines += [f"figure {f.name}: {f.title}" for f in self.figures]
        lines += [f"reading: {r}" for r in self.reading]
        lines += [f"not run: {o}" for o in self.omitted]
        lines += [f"guessed: {g}" for g in self.inferred]
        lines += [f"warning: {w}" for w in self.warnings]
        return "\n".join(lines)


def freeze_zip_timestamps(path: Path) -> Path:
    """Rewrite a zip container (XLSX, DOCX) with every entry dated 1980-01-01, so re-runs are byte-identical."""
    import zipfile

    with zipfile.ZipFile(path) as src:
        entries = [(info, src.read(info.filename)) for info in src.infolist()]
    tmp = path.with_suffix(path.suffix + ".tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for info, data in entries:
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rb"\g<1>2000-01-01T00:00:00Z", data)
            fixed = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            dst.writestr(fixed, data)
    tmp.replace(path)
    return path
