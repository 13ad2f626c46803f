"""One call from a cohort file to the whole report, written atomically.

:func:`run_analysis` reads, validates (stopping with every problem listed, or dropping the
invalid rows with ``drop_invalid``), derives variables, runs the configured analyses and
writes HTML, PDF, XLSX, DOCX, CSV tables and PNG/SVG figures into a temporary directory next
to ``out_dir`` that is renamed into place only when everything succeeded.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from npctrial.cohort.config import StudyConfig, dump_config, load_config
from npctrial.cohort.cross_checks import select_patient_rows
from npctrial.cohort.derive import derive_variables
from npctrial.cohort.inference import infer_config
from npctrial.cohort.loading import RawCohort, load_cohort
from npctrial.cohort.output_folder import check_output_folder, staged_output
from npctrial.cohort.plan import AnalysisPlan, build_plan
from npctrial.cohort.report import CohortReport
from npctrial.cohort.report_builder import STEPS, Progress, build_report
from npctrial.cohort.report_docx import write_docx
from npctrial.cohort.report_html import write_html
from npctrial.cohort.report_pdf import write_pdf
from npctrial.cohort.report_xlsx import write_xlsx
from npctrial.cohort.validation import validate_cohort
from npctrial.errors import NpcTrialError
from npctrial.i18n import check_language

__all__ = ["STEPS", "PreparedCohort", "build_report", "load_prepared", "prepare_cohort", "run_analysis",
           "write_report"]


@dataclass(frozen=True)
class PreparedCohort:
    """A validated, derived cohort: the analysis frame, the rows left out (with why), the number
    of data rows read and how the file was read (header row, date orders, ...)."""

    frame: pd.DataFrame
    excluded: pd.DataFrame
    n_rows: int
    notes: tuple[str, ...]
    plan: AnalysisPlan


def load_prepared(cohort: str | Path | RawCohort, config: StudyConfig, *, drop_invalid: bool = False) -> PreparedCohort:
    """Read, validate and derive. Without ``drop_invalid`` any problem raises a
    :class:`~npctrial.errors.ValidationError` listing all of them; a whole-column problem
    (missing column, ambiguous dates) always raises."""
    build_plan(config)  # config errors before the file is read
    raw = cohort if isinstance(cohort, RawCohort) else load_cohort(
        cohort, sheet=config.sheet, header_row=config.header_row, encoding=config.encoding)
    typed, report = validate_cohort(raw, config)
    if not report.ok and (report.fatal or not drop_invalid):
        report.raise_if_invalid()
    keep = ~np.isin(np.arange(len(typed)), report.invalid_positions)
    rows, not_analysed, rule = select_patient_rows(typed.loc[keep], config)
    frame = derive_variables(rows, config)
    excluded = pd.concat([report.to_frame(), not_analysed], ignore_index=True) if len(not_analysed) else report.to_frame()
    notes = report.notes + ((rule,) if rule else ())
    return PreparedCohort(frame, excluded, len(raw), notes, build_plan(config, frame))


def prepare_cohort(
    cohort: str | Path, config: StudyConfig, *, drop_invalid: bool = False
) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """Read, validate and derive: (analysis frame, excluded problems, rows read); see :func:`load_prepared`."""
    prepared = load_prepared(cohort, config, drop_invalid=drop_invalid)
    return prepared.frame, prepared.excluded, prepared.n_rows


def write_report(report: CohortReport, work: Path) -> None:
    """Write every output file of ``report`` into ``work`` (figures are already there)."""
    tdir = work / "tables"
    tdir.mkdir(exist_ok=True)
    for t in report.tables:
        t.frame.to_csv(tdir / f"{t.name}.csv", index=False, lineterminator="\n")
    if len(report.excluded):
        report.excluded.to_csv(work / "excluded_rows.csv", index=False, lineterminator="\n")
    write_html(report, work / "report.html", work)
    write_pdf(report, work / "report.pdf", work)
    write_xlsx(report, work / "tables.xlsx")
    write_docx(report, work / "tables.docx", work)


def run_analysis(
    cohort: str | Path,
    out_dir: str | Path,
    *,
    config: StudyConfig | str | Path | None = None,
    drop_invalid: bool = False,
    progress: Progress | None = None,
    language: str = "en",
) -> CohortReport:
    """Analyse ``cohort`` as configured and write the report to ``out_dir`` in ``language``
    (``en``; ``zh`` for Simplified Chinese headings, column names, figure axes and methods).

    ``out_dir`` must be new, empty, or a previous npctrial report (see
    :mod:`npctrial.cohort.output_folder`); the report is written to a staging folder and takes
    its place only when every file was written. With ``config=None`` a draft config is inferred
    (written as ``study.inferred.yaml``, with what was guessed in the warnings).
    """
    step: Progress = progress or (lambda _s: None)
    language = check_language(language)
    out = Path(out_dir)
    inputs = [Path(cohort)] + ([Path(config)] if isinstance(config, str | Path) else [])
    check_output_folder(out, inputs)
    step("read")
    notes: list[str] = []
    if config is None:
        raw = load_cohort(cohort)
        cfg, notes = infer_config(raw.frame)
        source: str | Path | RawCohort = raw
    else:
        cfg = config if isinstance(config, StudyConfig) else load_config(config)
        source = cohort
    try:
        return _analyse(source, cfg, out, inputs, Path(cohort).name, drop_invalid=drop_invalid, progress=step,
                        inferred=tuple(notes) if config is None else None, language=language)
    except NpcTrialError as exc:
        if config is None:
            _write_draft(out, inputs, cfg, exc)
        raise


def _analyse(source: str | Path | RawCohort, cfg: StudyConfig, out: Path, inputs: list[Path], cohort_name: str, *,
             drop_invalid: bool, progress: Progress, inferred: tuple[str, ...] | None, language: str) -> CohortReport:
    progress("validate")
    prepared = load_prepared(source, cfg, drop_invalid=drop_invalid)
    progress("derive")
    with staged_output(out, inputs=inputs) as work:
        report = build_report(prepared.frame, prepared.plan, work, cohort_name=cohort_name, n_rows=prepared.n_rows,
                              excluded=prepared.excluded, progress=progress, reading=prepared.notes,
                              lenient=inferred is not None, language=language)
        report = replace(report, inferred=inferred or ())
        progress("write")
        (work / ("study.inferred.yaml" if inferred is not None else "study.yaml")).write_text(dump_config(cfg), "utf-8")
        write_report(report, work)
    return report


def _write_draft(out: Path, inputs: list[Path], cfg: StudyConfig, exc: NpcTrialError) -> None:
    """When an inferred config cannot be run, leave it in ``out`` (a report folder of its own,
    with a manifest) so the user can correct it; the error then says where it is."""
    try:
        with staged_output(out, inputs=inputs, kind="draft-config") as work:
            (work / "study.inferred.yaml").write_text(dump_config(cfg), "utf-8")
    except NpcTrialError:
        return  # --out itself is refused: the original error is the one to show
    exc.args = (f"{exc}\nThe config inferred from the file is {out / 'study.inferred.yaml'}: correct it and run "
                "again with --config.",)
