"""One call from a cohort file to the whole report, written atomically.

:func:`run_analysis` reads, validates (stopping with every problem listed, or dropping the
invalid rows with ``drop_invalid``), derives variables, runs the configured analyses and
writes HTML, PDF, XLSX, DOCX, CSV tables and PNG/SVG figures into a temporary directory next
to ``out_dir`` that is renamed into place only when everything succeeded.
"""

from __future__ import annotations

import platform
import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from npctrial.cohort.config import StudyConfig, dump_config, load_config
from npctrial.cohort.derive import derive_variables
from npctrial.cohort.figures import (
    cif_figure,
    forest_figure,
    km_figure,
    save_figure,
    toxicity_figure,
)
from npctrial.cohort.inference import infer_config
from npctrial.cohort.loading import RawCohort, load_cohort
from npctrial.cohort.output_folder import check_output_folder, staged_output
from npctrial.cohort.report import CohortReport, ReportFigure, ReportTable
from npctrial.cohort.report_docx import write_docx
from npctrial.cohort.report_html import write_html
from npctrial.cohort.report_language import N_, localise_report
from npctrial.cohort.report_pdf import write_pdf
from npctrial.cohort.report_xlsx import write_xlsx
from npctrial.cohort.tables import association_table, frequency_table, toxicity_table
from npctrial.cohort.validation import validate_cohort
from npctrial.errors import MissingGlyphWarning, StatisticalWarning
from npctrial.fonts import find_font_chain, warn_missing_glyphs
from npctrial.i18n import check_language, translator

Progress = Callable[[str], None]

#: Steps reported to the progress callback, in order.
STEPS = ("read", "validate", "derive", "association", "toxicity", "survival", "competing risks", "cox", "write")


def _levels(config: StudyConfig, name: str) -> list[str]:
    if name in config.columns:
        return list(config.columns[name].levels or [])
    for d in config.derived:
        if d.name == name:
            if d.kind == "threshold":
                return list(d.labels or [])
            if d.kind == "recode":
                mapping = d.mapping or {}
                src = _levels(config, d.source) if isinstance(d.source, str) else []
                return list(dict.fromkeys([mapping.get(v, v) for v in src] + list(mapping.values())))
            if d.kind == "stage_group":
                from npctrial.domain.staging import STAGE_ORDER

                return list(STAGE_ORDER)
    return []


def _software() -> tuple[tuple[str, str], ...]:
    import matplotlib
    import numpy
    import scipy

    import npctrial

    return (("npctrial", getattr(npctrial, "__version__", "0.1.0")), ("Python", platform.python_version()),
            ("numpy", numpy.__version__), ("scipy", scipy.__version__), ("pandas", pd.__version__),
            ("matplotlib", matplotlib.__version__))


METHODS = N_(
    "Associations between baseline factors and the outcome were tested with Pearson's chi-square test "
    "without continuity correction; Fisher's exact test (exact conditional p-value for r x c tables) was "
    "used automatically when any expected count was below 5, and the Cochran-Armitage test for trend "
    "for ordered factors where requested. Toxicities are given as the number (%) of patients by worst "
    "grade. Survival was estimated by the Kaplan-Meier method (Greenwood variance, log-transformed 95% "
    "confidence intervals) and compared with the log-rank test, with Holm-adjusted pairwise log-rank "
    "tests where listed; median follow-up was estimated by the reverse Kaplan-Meier method. The "
    "cumulative incidence of the event with death as a competing risk was estimated by the "
    "Aalen-Johansen estimator (95% confidence intervals on the log(-log) scale) and compared with Gray's "
    "test; it is shown next to 1 - KM, which treats "
    "deaths as censoring and therefore overestimates the incidence. Hazard ratios come from Cox "
    "proportional-hazards models (Efron ties; univariate screen, then the multivariate model given in "
    "the configuration) with the proportional-hazards assumption checked by scaled Schoenfeld "
    "residuals (cox.zph) and a warning below 10 events per variable. Tests are two-sided."
)


@dataclass(frozen=True)
class PreparedCohort:
    """A validated, derived cohort: the analysis frame, the rows left out (with why), the number
    of data rows read and how the file was read (header row, date orders, ...)."""

    frame: pd.DataFrame
    excluded: pd.DataFrame
    n_rows: int
    notes: tuple[str, ...]


def load_prepared(cohort: str | Path | RawCohort, config: StudyConfig, *, drop_invalid: bool = False) -> PreparedCohort:
    """Read, validate and derive. Without ``drop_invalid`` any problem raises a
    :class:`~npctrial.errors.ValidationError` listing all of them; a whole-column problem
    (missing column, ambiguous dates) always raises."""
    raw = cohort if isinstance(cohort, RawCohort) else load_cohort(
        cohort, sheet=config.sheet, header_row=config.header_row, encoding=config.encoding)
    typed, report = validate_cohort(raw, config)
    if not report.ok and (report.fatal or not drop_invalid):
        report.raise_if_invalid()
    keep = ~np.isin(np.arange(len(typed)), report.invalid_positions)
    frame = derive_variables(typed.loc[keep], config)
    return PreparedCohort(frame, report.to_frame(), len(raw), report.notes)


def prepare_cohort(
    cohort: str | Path, config: StudyConfig, *, drop_invalid: bool = False
) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """Read, validate and derive: (analysis frame, excluded problems, rows read); see :func:`load_prepared`."""
    prepared = load_prepared(cohort, config, drop_invalid=drop_invalid)
    return prepared.frame, prepared.excluded, prepared.n_rows


def build_report(
    frame: pd.DataFrame, config: StudyConfig, work: Path, *, cohort_name: str, n_rows: int,
    excluded: pd.DataFrame, progress: Progress | None = None, reading: tuple[str, ...] = (),
    language: str = "en",
) -> CohortReport:
    """Run every configured analysis on a prepared frame; figures are written under ``work``.
    ``language`` (``en``, ``zh``) is the language of npctrial's own wording in figures and tables."""
    from npctrial.cohort.cox_table import cox_table
    from npctrial.cohort.survival_tables import (
        competing_risk_analysis,
        compute_median_follow_up,
        select_rows,
        survival_analysis,
    )

    step = progress or (lambda _s: None)
    tr = translator(language)
    lab = config.label
    tables: list[ReportTable] = []
    figures: list[ReportFigure] = []
    caught: list[str] = []
    fig_dir = work / "figures"
    fig_dir.mkdir(parents=True, exist_ok=True)

    def fig_out(name: str, title: str, fig: object) -> None:
        png, svg = save_figure(fig, fig_dir / name)  # type: ignore[arg-type]
        figures.append(ReportFigure(name, title, f"figures/{png.name}", f"figures/{svg.name}"))

    with warnings.catch_warnings(record=True) as wlist:
        warnings.simplefilter("always", StatisticalWarning)
        warnings.simplefilter("always", MissingGlyphWarning)
        step("association")
        if config.association:
            a = config.association
            pos = next(iter(a.outcome_labels))
            t1 = association_table(
                frame, a.outcome, a.variables, positive=pos, positive_label=a.outcome_labels[pos],
                negative_label=list(a.outcome_labels.values())[-1], labels={v: lab(v) for v in a.variables},
                levels={v: _levels(config, v) for v in a.variables}, trend=a.trend,
                fisher_below=a.fisher_below, title=a.title)
            tables.append(ReportTable("table1", a.title, t1.to_frame(), t1.footnotes))
        step("toxicity")
        for tox in config.toxicity:
            tt = toxicity_table(frame, tox.variables, grades=tox.grades, labels={v: lab(v) for v in tox.variables},
                                title=tox.title)
            tables.append(ReportTable(tox.name, tox.title, tt.to_frame()))
            fig_out(tox.name, tox.title, toxicity_figure(tt.counts, tox.title, tr=tr))
        for fq in config.frequencies:
            ft = frequency_table(select_rows(frame, fq.subset), fq.variable, levels=_levels(config, fq.variable),
                                 landmarks=fq.landmarks, title=fq.title)
            tables.append(ReportTable(fq.name, fq.title, ft.to_frame()))
        step("survival")
        for s in config.survival:
            sub = select_rows(frame, s.subset)
            an = survival_analysis(sub, name=s.name, title=s.title, time=s.time, event=s.event, group=s.group,
                                   group_order=_levels(config, s.group) if s.group else None,
                                   landmarks=s.landmarks, pairwise=s.pairwise, failure=s.failure)
            tables.append(ReportTable(s.name, s.title, an.to_frame(), an.notes))
            if an.pairwise is not None:
                tables.append(ReportTable(f"{s.name}_pairwise", s.title + " - pairwise log-rank (Holm)", an.pairwise))
            fig_out(s.name, s.title, km_figure(an, tr=tr))
        if config.survival:
            first = config.survival[0]
            med, lo, hi = compute_median_follow_up(frame, first.time, first.event)
            tables.append(ReportTable("follow_up", "Follow-up", pd.DataFrame(
                [{"Endpoint time": lab(first.time), "Median follow-up (reverse KM)": round(med, 1),
                  "Minimum": round(lo, 1), "Maximum": round(hi, 1)}])))
        step("competing risks")
        for c in config.competing_risks:
            cr = competing_risk_analysis(frame, name=c.name, title=c.title, time=c.time, event=c.event,
                                         competing=c.competing, group=c.group,
                                         group_order=_levels(config, c.group) if c.group else None,
                                         landmarks=c.landmarks)
            tables.append(ReportTable(c.name, c.title, cr.to_frame(), cr.notes))
            fig_out(c.name, c.title, cif_figure(cr, tr=tr))
        step("cox")
        if config.cox:
            x = config.cox
            cox_frame = select_rows(frame, x.subset).copy()
            ordinal_levels: dict[str, list[str]] = {}
            for var in x.ordinal:
                present = set(cox_frame[var].dropna())
                order = [lv for lv in _levels(config, var) if lv in present]
                order += sorted(present - set(order))
                ordinal_levels[var] = order
                cox_frame[var] = cox_frame[var].map(lambda v, o=order: float(o.index(v) + 1) if v in o else None)
                cox_frame[var] = cox_frame[var].astype(float)
            ct = cox_table(cox_frame, title=x.title, time=x.time, event=x.event,
                           covariates=x.covariates, categorical=x.categorical, multivariate=x.multivariate,
                           screen_p=x.screen_p, labels={v: lab(v) for v in x.covariates}, ordinal=x.ordinal,
                           reference=x.reference)
            cox_notes = ct.notes + tuple(f"{lab(v)}: scored 1-{len(o)} in the order {', '.join(o)}; HR per step."
                                     for v, o in ordinal_levels.items())
            tables.append(ReportTable("table4", x.title, ct.to_frame(), cox_notes))
            fig_out("forest", x.title, forest_figure(ct, tr=tr))
        report = CohortReport(
            title=config.title, source=config.source, cohort_file=cohort_name, n_rows=n_rows, n_analysed=len(frame),
            tables=tuple(tables), figures=tuple(figures), methods=METHODS, software=_software(), excluded=excluded)
        report = localise_report(report, language)
        warn_missing_glyphs(report.texts(), find_font_chain(), where="report text")  # PDF, DOCX, HTML
        caught = list(dict.fromkeys(str(w.message) for w in wlist
                                    if issubclass(w.category, (StatisticalWarning, MissingGlyphWarning))))
    if len(excluded):
        caught.insert(0, f"{excluded['row'].nunique()} invalid row(s) excluded (--drop-invalid); see 'Excluded rows'.")
    return replace(report, warnings=tuple(caught), reading=reading)


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
    step = progress or (lambda _s: None)
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
    step("validate")
    prepared = load_prepared(source, cfg, drop_invalid=drop_invalid)
    step("derive")
    with staged_output(out, inputs=inputs) as work:
        report = build_report(prepared.frame, cfg, work, cohort_name=Path(cohort).name, n_rows=prepared.n_rows,
                              excluded=prepared.excluded, progress=progress, reading=prepared.notes,
                              language=language)
        if notes:
            report = replace(report, warnings=("Config inferred from column names: " + "; ".join(notes),
                                               *report.warnings))
        step("write")
        (work / ("study.inferred.yaml" if config is None else "study.yaml")).write_text(dump_config(cfg), "utf-8")
        write_report(report, work)
    return report
