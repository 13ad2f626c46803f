"""Running the analyses of a plan on a prepared cohort into one :class:`CohortReport`.

Each configured analysis becomes tables (and a figure). With ``lenient`` (a config that was
inferred, not written by the user) an analysis that cannot run on these data is left out with
its reason, listed in the report under "Analyses not run"; otherwise its error stops the run.
The methods paragraph names only the analyses that ran (:mod:`npctrial.cohort.methods`).
"""

from __future__ import annotations

import contextlib
import platform
import re
import warnings
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from npctrial.cohort.config import CoxSpec, StudyConfig
from npctrial.cohort.figures import (
    cif_figure,
    forest_figure,
    km_figure,
    save_figure,
    toxicity_figure,
)
from npctrial.cohort.immortal_time import find_immortal_time, landmark_analysis, time_dependent_cox
from npctrial.cohort.methods import compose_methods
from npctrial.cohort.plan import AnalysisPlan, build_plan
from npctrial.cohort.report import CohortReport, ReportFigure, ReportTable
from npctrial.cohort.report_language import localise_report
from npctrial.cohort.table_one import UNKNOWN, association_table
from npctrial.cohort.tables import frequency_table, toxicity_table
from npctrial.cohort.units import format_time
from npctrial.errors import MissingGlyphWarning, NpcTrialError, StatisticalWarning
from npctrial.fonts import find_font_chain, warn_missing_glyphs
from npctrial.i18n import translator

Progress = Callable[[str], None]

#: Steps reported to the progress callback, in order.
STEPS = ("read", "validate", "derive", "association", "toxicity", "survival", "competing risks", "cox", "write")
_PREFIX = re.compile(r"^(Table|Figure)\s+(\w+)[.:]\s*")


def _software() -> tuple[tuple[str, str], ...]:
    import matplotlib
    import numpy
    import scipy

    import npctrial

    return (("npctrial", getattr(npctrial, "__version__", "0.1.0")), ("Python", platform.python_version()),
            ("numpy", numpy.__version__), ("scipy", scipy.__version__), ("pandas", pd.__version__),
            ("matplotlib", matplotlib.__version__))


class _Builder:
    """Collects tables, figures (numbered as figures), omitted analyses and the methods that ran."""

    def __init__(self, plan: AnalysisPlan, work: Path, lenient: bool, tr: Callable[[str], str] = str):
        self.plan = plan
        self.lenient = lenient
        self.tr = tr
        self.tables: list[ReportTable] = []
        self.figures: list[ReportFigure] = []
        self.omitted: list[str] = []
        self.ran: set[str] = set()
        self.fig_dir = work / "figures"
        self.fig_dir.mkdir(parents=True, exist_ok=True)

    def table(self, name: str, title: str, frame: pd.DataFrame, notes: tuple[str, ...] = ()) -> None:
        self.tables.append(ReportTable(name, title, frame, tuple(notes)))

    def figure(self, name: str, title: str, fig: Figure) -> None:
        """Save ``fig`` and caption it as a figure: a title that names a table ("Table 2. Acute
        toxicity") becomes "Figure N. Acute toxicity (data in Table 2)"."""
        png, svg = save_figure(fig, self.fig_dir / name)
        m = _PREFIX.match(title)
        if m and m.group(1) == "Figure":
            caption = title
        else:
            body = title[m.end():] if m else title
            caption = f"Figure {len(self.figures) + 1}. {body}" + (f" (data in Table {m.group(2)})" if m else "")
        self.figures.append(ReportFigure(name, caption, f"figures/{png.name}", f"figures/{svg.name}"))

    @contextlib.contextmanager
    def analysis(self, what: str) -> Iterator[None]:
        """Run one analysis; in lenient mode an npctrial error leaves it out with its reason."""
        try:
            yield
        except NpcTrialError as exc:
            if not self.lenient:
                raise
            self.omitted.append(f"{what}: {exc}")


def _association(b: _Builder, frame: pd.DataFrame) -> None:
    a = b.plan.config.association
    if a is None:
        return
    with b.analysis(f"association table {a.title!r}"):
        continuous = [v for v in a.variables if b.plan.variable(v).kind in ("number", "time")]
        outcome = b.plan.variable(a.outcome)
        given = a.outcome_labels or ({"1": "Yes", "0": "No"} if outcome.kind == "binary" else {})
        groups = list(given.items()) + [(lv, lv) for lv in outcome.levels if lv not in given]
        if outcome.kind == "binary" and len(groups) == 2:
            kw: dict = {"positive": groups[0][0], "positive_label": groups[0][1], "negative_label": groups[1][1]}
        else:
            kw = {"groups": groups}
        t1 = association_table(
            frame, a.outcome, a.variables, continuous=continuous, labels={v: b.plan.label(v) for v in a.variables},
            levels={v: b.plan.levels(v) for v in a.variables}, trend=a.trend, fisher_below=a.fisher_below,
            title=a.title, **kw)
        b.table("table1", a.title, t1.to_frame(), t1.footnotes)
        b.ran.add("association")
        tests = {r.test for r in t1.rows}
        b.ran |= {key for key, test in (("fisher", "Fisher's exact test"), ("continuous", "Wilcoxon rank-sum test"),
                                        ("continuous", "Kruskal-Wallis test")) if test in tests}
        if a.trend:
            b.ran.add("trend")
        if any(r.level == UNKNOWN for r in t1.rows):
            b.ran.add("unknown")


def _toxicity_and_frequencies(b: _Builder, frame: pd.DataFrame) -> None:
    from npctrial.cohort.survival_tables import select_rows

    for tox in b.plan.config.toxicity:
        with b.analysis(f"toxicity table {tox.name!r}"):
            tt = toxicity_table(frame, tox.variables, grades=tox.grades,
                                labels={v: b.plan.label(v) for v in tox.variables}, title=tox.title)
            b.table(tox.name, tox.title, tt.to_frame(), tt.notes)
            b.figure(tox.name, tox.title, toxicity_figure(tt.counts, None, tr=b.tr))
            b.ran.add("toxicity")
    for fq in b.plan.config.frequencies:
        with b.analysis(f"frequency table {fq.name!r}"):
            ft = frequency_table(select_rows(frame, fq.subset), fq.variable, levels=b.plan.levels(fq.variable),
                                 landmarks=fq.landmarks, title=fq.title)
            b.table(fq.name, fq.title, ft.to_frame(), ft.notes)


def _survival(b: _Builder, frame: pd.DataFrame) -> None:
    from npctrial.cohort.survival_tables import (
        compute_median_follow_up,
        select_rows,
        survival_analysis,
    )

    plan = b.plan
    for s in plan.config.survival:
        with b.analysis(f"Kaplan-Meier {s.name!r}"):
            an_frame = select_rows(frame, s.subset)
            an = survival_analysis(an_frame, name=s.name, title=s.title, time=s.time,
                                   event=s.event, group=s.group, group_order=plan.levels(s.group) or None,
                                   landmarks=plan.landmarks[s.name], pairwise=s.pairwise, failure=s.failure,
                                   unit=plan.unit(s.time), entry=s.entry)
            immortal = find_immortal_time(plan, an_frame, s.time, [s.group] if s.group else [], f"survival {s.name!r}")
            for msg in immortal:
                warnings.warn(msg, StatisticalWarning, stacklevel=2)
            extra = tuple(f"Warning: {m}" for m in immortal) + ((s.note,) if s.note else ())
            b.table(s.name, s.title, an.to_frame(), an.notes + extra)
            if _from_event(plan, s.time):
                b.ran.add("from_event")
            b.table(f"{s.name}_median", f"{s.title}: median {'time to event' if s.failure else 'survival'}",
                    an.medians)
            if an.pairwise is not None:
                b.table(f"{s.name}_pairwise", s.title + " - pairwise log-rank (Holm)", an.pairwise)
                b.ran.add("pairwise")
            b.figure(s.name, s.title, km_figure(an, unit=plan.unit(s.time), tr=b.tr))
            b.ran.add("km")
            if an.logrank_p is not None:
                b.ran.add("logrank")
    if plan.config.survival:
        first = plan.config.survival[0]
        with b.analysis("median follow-up"):
            med, lo, hi = compute_median_follow_up(frame, first.time, first.event)
            unit = plan.unit(first.time)
            suffix = f" ({unit})" if unit else ""
            b.table("follow_up", "Follow-up", pd.DataFrame(
                [{"Endpoint time": plan.label(first.time), f"Median follow-up, reverse KM{suffix}": format_time(round(med, 1)),
                  f"Minimum{suffix}": format_time(round(lo, 1)), f"Maximum{suffix}": format_time(round(hi, 1))}]))
            b.ran.add("follow_up")


def _from_event(plan: AnalysisPlan, time: str) -> bool:
    """A duration whose origin is the date of an event flag (survival from the event date)."""
    origin = plan.variable(time).origin
    return any(v.kind == "binary" and origin in v.dates for v in plan.variables.values())


def _competing(b: _Builder, frame: pd.DataFrame) -> None:
    from npctrial.cohort.survival_tables import competing_risk_analysis

    plan = b.plan
    for c in plan.config.competing_risks:
        with b.analysis(f"cumulative incidence {c.name!r}"):
            cr = competing_risk_analysis(frame, name=c.name, title=c.title, time=c.time, event=c.event,
                                         competing=c.competing, group=c.group,
                                         group_order=plan.levels(c.group) or None, landmarks=plan.landmarks[c.name],
                                         competing_label=plan.label(c.competing))
            b.table(c.name, c.title, cr.to_frame(), cr.notes)
            b.figure(c.name, c.title, cif_figure(cr, unit=plan.unit(c.time), tr=b.tr))
            b.ran.add("cif")
            if cr.gray_p is not None:
                b.ran.add("gray")


def _ordinal_scores(b: _Builder, frame: pd.DataFrame, x: CoxSpec) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """Ordinal covariates scored 1, 2, ... in level order (levels present only)."""
    out = frame.copy()
    orders: dict[str, list[str]] = {}
    for var in x.ordinal:
        present = set(out[var].dropna())
        order = [lv for lv in b.plan.levels(var) if lv in present] + sorted(present - set(b.plan.levels(var)))
        orders[var] = order
        out[var] = out[var].map(lambda v, o=order: float(o.index(v) + 1) if v in o else None).astype(float)
    return out, orders


def _cox(b: _Builder, frame: pd.DataFrame) -> None:
    from npctrial.cohort.cox_table import cox_table
    from npctrial.cohort.survival_tables import select_rows

    for k, x in enumerate(b.plan.config.cox_models):
        with b.analysis(f"Cox models {x.title!r}"):
            cox_frame, orders = _ordinal_scores(b, select_rows(frame, x.subset), x)
            immortal = find_immortal_time(b.plan, cox_frame, x.time, x.covariates, f"Cox models {x.name!r}")
            for msg in immortal:
                warnings.warn(msg, StatisticalWarning, stacklevel=2)
            ct = cox_table(cox_frame, title=x.title, time=x.time, event=x.event, covariates=x.covariates,
                           categorical=x.categorical, multivariate=x.multivariate, screen_p=x.screen_p,
                           labels={v: b.plan.label(v) for v in x.covariates}, ordinal=x.ordinal,
                           reference={v: r for v in x.categorical if (r := b.plan.reference(v, x))}, ties=x.ties,
                           entry=x.entry, levels={v: b.plan.levels(v) for v in x.categorical})
            notes = ct.notes + tuple(f"{b.plan.label(v)}: scored 1-{len(o)} in the order {', '.join(o)}; HR per step."
                                     for v, o in orders.items())
            notes += tuple(f"Warning: {m}" for m in immortal) + ((x.note,) if x.note else ())
            name = "table4" if k == 0 else f"table4_{x.name}"
            b.table(name, x.title, ct.to_frame(), notes)
            if ct.zph is not None:
                b.table(f"{name}_ph_test", f"{x.title}: test of proportional hazards (multivariate model)", ct.zph,
                        ("Grambsch-Therneau test on scaled Schoenfeld residuals, Kaplan-Meier time scale (R cox.zph).",))
            b.figure("forest" if k == 0 else f"forest_{x.name}", x.title, forest_figure(ct, tr=b.tr))
            b.ran.add("cox")
            if ct.multivariate:
                b.ran.add("cox_multi")
            if _from_event(b.plan, x.time):
                b.ran.add("from_event")


def _immortal_time(b: _Builder, frame: pd.DataFrame) -> None:
    """Landmark analyses, time-dependent Cox models (survival from an event date is a duration)."""
    plan = b.plan
    for lm in plan.config.landmark:
        with b.analysis(f"landmark analysis {lm.name!r}"):
            la = landmark_analysis(frame, name=lm.name, title=lm.title, time=lm.time, event=lm.event, status=lm.status,
                                   status_time=lm.status_time, at=lm.at, labels=lm.labels, unit=plan.unit(lm.time))
            b.table(lm.name, lm.title, la.table, la.notes + ((lm.note,) if lm.note else ()))
            for an in la.analyses:
                b.table(f"{an.name}_rates", an.title, an.to_frame(), an.notes)
                b.figure(an.name, an.title, km_figure(an, unit=plan.unit(lm.time), tr=b.tr))
            b.ran |= {"landmark", "km", "logrank"}
    for td in plan.config.time_dependent:
        with b.analysis(f"time-dependent Cox model {td.name!r}"):
            res = time_dependent_cox(frame, name=td.name, title=td.title, time=td.time, event=td.event,
                                     status=td.status, status_time=td.status_time, covariates=td.covariates,
                                     categorical=td.categorical,
                                     labels={v: plan.label(v) for v in (td.status, *td.covariates)},
                                     levels={v: plan.levels(v) for v in td.categorical})
            b.table(td.name, td.title, res.table, res.notes + ((td.note,) if td.note else ()))
            b.ran |= {"time_dependent", "cox"}


def build_report(
    frame: pd.DataFrame, config: StudyConfig | AnalysisPlan, work: Path, *, cohort_name: str, n_rows: int,
    excluded: pd.DataFrame, progress: Progress | None = None, reading: tuple[str, ...] = (), lenient: bool = False,
    language: str = "en",
) -> CohortReport:
    """Run every analysis of the plan on a prepared frame; figures are written under ``work``.
    ``language`` (``en``, ``zh``) is the language of npctrial's own wording in figures and tables."""
    plan = config if isinstance(config, AnalysisPlan) else build_plan(config, frame)
    step = progress or (lambda _s: None)
    tr = translator(language)
    b = _Builder(plan, work, lenient, tr)
    with warnings.catch_warnings(record=True) as wlist:
        warnings.simplefilter("always", StatisticalWarning)
        warnings.simplefilter("always", MissingGlyphWarning)
        step("association")
        _association(b, frame)
        step("toxicity")
        _toxicity_and_frequencies(b, frame)
        step("survival")
        _survival(b, frame)
        step("competing risks")
        _competing(b, frame)
        step("cox")
        _cox(b, frame)
        _immortal_time(b, frame)
        cfg = plan.config
        report = CohortReport(
            title=cfg.title, source=cfg.source, cohort_file=cohort_name, n_rows=n_rows, n_analysed=len(frame),
            tables=tuple(b.tables), figures=tuple(b.figures), methods=compose_methods(b.ran, plan, tr),
            software=_software(), excluded=excluded, reading=reading, omitted=tuple(b.omitted))
        report = localise_report(report, language)
        warn_missing_glyphs(report.texts(), find_font_chain(), where="report text")  # PDF, DOCX, HTML
        caught = list(dict.fromkeys(str(w.message) for w in wlist
                                    if issubclass(w.category, (StatisticalWarning, MissingGlyphWarning))))
    invalid = excluded[~excluded["expected"].astype(str).str.startswith("not analysed:")] if len(excluded) else excluded
    if len(invalid):
        caught.insert(0, f"{invalid['row'].nunique()} invalid row(s) excluded (--drop-invalid); see 'Excluded rows'.")
    return replace(report, warnings=tuple(caught))
