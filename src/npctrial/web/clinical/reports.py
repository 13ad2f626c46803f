"""Live study report: CONSORT flow, AE rates, ORR, KM of PFS/OS by arm, follow-up, deviations,
completeness and the Simon stage-1 rule. Page (HTML with an SVG figure) and PDF (reportlab).

Efficacy by arm is computed only when asked (``by_arm``): who may see it is the interim
confidentiality rule of :mod:`npctrial.web.clinical.interim`; everyone else gets the endpoints
pooled over arms (one curve, no test).

Every number comes from the domain, stats and survival layers:

1. Patient courses (:class:`npctrial.domain.PatientCourse`) from the CRFs: assessments (RECIST and
   follow-up visits with an adequate disease assessment), failures (RECIST PD -> progression,
   locoregional relapse -> local, distant metastasis -> distant), death, last contact.
2. PFS/OS by :func:`npctrial.domain.derive_endpoint` with the protocol's endpoint definitions.
3. KM curves and log-rank by :func:`npctrial.survival.kaplan_meier` / :func:`logrank_test`;
   median follow-up by reverse Kaplan-Meier (Schemper & Smith, Control Clin Trials 1996).
4. AE rate (patients, worst grade) by :func:`npctrial.domain.compute_ae_rate`; per-term rates and
   ORR with exact Clopper-Pearson intervals by :func:`npctrial.stats.proportion_ci`.
"""

from __future__ import annotations

import io
import warnings
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from django.utils import translation
from django.utils.translation import gettext, gettext_lazy

from npctrial.design.interim import simon_interim_decision
from npctrial.domain import clinical_terms, compute_ae_rate, derive_worst_grades, lab_terms
from npctrial.domain.endpoints import DAYS_PER_MONTH
from npctrial.errors import ValidationError
from npctrial.stats import proportion_ci
from npctrial.survival import kaplan_meier, logrank_test
from npctrial.web.clinical.analysis_set import (
    AnalysisSet,
    NotEvaluable,
    best_response,
    build_analysis_set,
    load_records,
    patient_course,
    protocol_cache,
    safety_records,
    treated_ids,
)
from npctrial.web.clinical.models import (
    Baseline,
    DrugAdministration,
    FollowUpVisit,
    LabResult,
    RadiotherapyCourse,
    TumourAssessment,
)
from npctrial.web.clinical.report_cache import cached_by_content
from npctrial.web.core.models import Study
from npctrial.web.core.screening import protocol_of
from npctrial.web.core.snapshot import read_snapshot

__all__ = ["AT_RISK_MONTHS", "StudyReport", "best_response", "compute_report", "load_records", "patient_course",
           "protocol_cache", "report_pdf", "survival_summary"]

AT_RISK_MONTHS = (0, 6, 12, 18, 24, 36)


@dataclass(frozen=True)
class Rate:
    label: str
    x: int
    n: int
    proportion: float
    lower: float
    upper: float


@dataclass(frozen=True)
class SurvivalSummary:
    endpoint: str
    groups: tuple[str, ...]
    n: tuple[int, ...]
    events: tuple[int, ...]
    medians: tuple[float | None, ...]
    at_risk: dict[str, tuple[int, ...]]
    logrank_chisq: float | None
    logrank_p: float | None
    svg: str
    times: dict[str, list[float]] = field(default_factory=dict)
    status: dict[str, list[int]] = field(default_factory=dict)

    @property
    def rows(self) -> list[dict[str, Any]]:
        return [{"group": g, "n": n, "events": e, "median": m, "at_risk": self.at_risk[g]}
                for g, n, e, m in zip(self.groups, self.n, self.events, self.medians, strict=True)]


@dataclass(frozen=True)
class StudyReport:
    study: str
    as_of: date
    flow: dict[str, int]
    ae_rate: Rate | None
    ae_min_grade: int
    ae_terms: list[dict[str, Any]]
    orr: Rate | None
    best_responses: dict[str, str]
    survival: list[SurvivalSummary]
    median_follow_up_months: float | None
    deviations: list[dict[str, Any]]
    completeness: list[dict[str, Any]]
    simon: dict[str, Any] | None
    notes: list[str]
    not_evaluable: list[dict[str, str]] = field(default_factory=list)
    #: how efficacy is split: "by_arm", "pooled" (randomised, arms not shown to this reader), "single_arm"
    efficacy: str = field(default="by_arm", kw_only=True)

    @property
    def efficacy_heading(self) -> Any:
        """The heading pattern of a PFS/OS section (``%(endpoint)s``)."""
        return EFFICACY_HEADINGS[self.efficacy]

    def summary(self) -> str:
        lines = [f"Study {self.study} report as of {self.as_of}",
                 "Flow: " + ", ".join(f"{k} {v}" for k, v in self.flow.items())]
        if self.ae_rate:
            r = self.ae_rate
            lines.append(f"AE rate (grade >= {self.ae_min_grade}): {r.x}/{r.n} = {r.proportion:.1%} "
                         f"(95% CI {r.lower:.1%}-{r.upper:.1%})")
        if self.orr:
            lines.append(f"ORR: {self.orr.x}/{self.orr.n} = {self.orr.proportion:.1%}")
        for s in self.survival:
            lines.append(f"{s.endpoint}: " + "; ".join(f"{g} n={n} events={e}" for g, n, e in
                                                      zip(s.groups, s.n, s.events, strict=True))
                         + (f"; log-rank p={s.logrank_p:.4g}" if s.logrank_p is not None else ""))
        return "\n".join(lines)


#: Headings of the PFS/OS sections by how efficacy is split (StudyReport.efficacy).
EFFICACY_HEADINGS = {"by_arm": gettext_lazy("%(endpoint)s by arm"),
                     "pooled": gettext_lazy("%(endpoint)s, all arms pooled"),
                     "single_arm": gettext_lazy("%(endpoint)s")}
POOLED_NOTE = gettext_lazy("Efficacy is shown pooled over the arms: results by arm are seen by the "
                           "statistician and the data monitoring committee only (interim confidentiality).")

#: Display labels of the participant-flow boxes and the Simon stage-1 decision (keys stay English).
FLOW_LABELS = {"screened": gettext_lazy("screened"), "eligible": gettext_lazy("eligible"),
               "enrolled": gettext_lazy("enrolled"), "randomised": gettext_lazy("randomised"),
               "treated": gettext_lazy("treated"), "assessed": gettext_lazy("assessed")}
SIMON_STATUS_LABELS = {"continue to stage 2": gettext_lazy("continue to stage 2"),
                       "stop for futility": gettext_lazy("stop for futility"),
                       "stage 1 ongoing": gettext_lazy("stage 1 ongoing")}


def _rate(label: str, x: int, n: int) -> Rate:
    ci = proportion_ci(x, n, method="clopper-pearson")
    return Rate(label, x, n, x / n, float(ci.conf_int[0]), float(ci.conf_int[1]))


def _figure_of(times: dict[str, list[float]], status: dict[str, list[int]], title: str, fmt: str = "svg",
               fitted: tuple[Any, Any] | None = None) -> str | bytes:
    """The figure of these times and statuses, drawn once per content (report_cache, step 3);
    ``fitted`` is their (KM, log-rank) when the caller has it, else fitted only if drawn."""
    content = {"times": times, "status": status, "title": title, "fmt": fmt, "ticks": list(AT_RISK_MONTHS),
               "drawn_by": "plot_survival_svg" if fmt == "svg" else "plot_survival"}

    def draw() -> str | bytes:
        km, lr = fitted if fitted is not None else _fit(times, status)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return _figure(km, lr, title, fmt)

    return cached_by_content("km-figure", content, draw)


def _figure(km: Any, pvalue: Any, title: str, fmt: str = "svg") -> str | bytes:
    """KM curves with numbers at risk as SVG text for the page (npctrial.survival.plot_survival_svg,
    about a millisecond) or PNG bytes for the PDF (npctrial.survival.plot_survival, matplotlib)."""
    ticks, xlabel, at_risk_title = list(AT_RISK_MONTHS), str(gettext_lazy("Months")), str(gettext_lazy("Number at risk"))
    if fmt == "svg":
        from npctrial.survival import plot_survival_svg

        return plot_survival_svg(km, pvalue=pvalue, ticks=ticks, xlabel=xlabel, title=title, at_risk_title=at_risk_title)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from npctrial.survival import plot_survival

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    try:
        plot_survival(km, ax=ax, pvalue=pvalue, ticks=ticks, xlabel=xlabel, title=title, at_risk_title=at_risk_title)
        out = io.BytesIO()
        fig.savefig(out, format="png", dpi=110, bbox_inches="tight")
        return out.getvalue()
    finally:
        plt.close(fig)


def _fit(times: dict[str, list[float]], status: dict[str, list[int]]) -> tuple[Any, Any]:
    groups = sorted(times)
    t = np.concatenate([np.asarray(times[g], float) for g in groups])
    e = np.concatenate([np.asarray(status[g], int) for g in groups])
    # A named Series gives R-style curve labels ("arm=CCRT") in the legend and at-risk table.
    g = pd.Series(np.concatenate([np.asarray([x] * len(times[x]), object) for x in groups]), name="arm")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        km = kaplan_meier(t, e, group=g if len(groups) > 1 else None)
        lr = logrank_test(t, e, g) if len(groups) > 1 and e.sum() > 0 else None
    return km, lr


def _by_arm(analysis: AnalysisSet, endpoint: str,
            by_arm: bool = True) -> tuple[dict[str, list[float]], dict[str, list[int]]]:
    """Times (months) and event status per arm (or pooled: "All") of the subjects evaluable for ``endpoint``."""
    times: dict[str, list[float]] = defaultdict(list)
    status: dict[str, list[int]] = defaultdict(list)
    for row in analysis.rows:
        value = row.values.get(endpoint)
        group = row.arm if by_arm else "All"
        if value is None or group is None:  # listed in analysis.not_evaluable
            continue
        times[group].append(value.time_days / DAYS_PER_MONTH)
        status[group].append(1 if value.status == 1 else 0)
    return times, status


def survival_summary(analysis: AnalysisSet, endpoint: str, *, figure: bool = True,
                     by_arm: bool = True) -> SurvivalSummary | None:
    """Steps 2-3 for one endpoint (by arm, or pooled over arms); None when no subject is evaluable for it."""
    times, status = _by_arm(analysis, endpoint, by_arm)
    groups = tuple(sorted(times))
    if not groups:
        return None
    km, lr = _fit(times, status)
    medians = []
    for c in km.curves:
        m = c.median()[0]
        medians.append(None if m is None or not np.isfinite(m) else float(m))
    at_risk = {grp: tuple(int(np.sum(np.asarray(times[grp]) >= m)) for m in AT_RISK_MONTHS) for grp in groups}
    svg = str(_figure_of(times, status, endpoint, fitted=(km, lr))) if figure else ""
    return SurvivalSummary(endpoint, groups, tuple(len(times[x]) for x in groups),
                           tuple(int(sum(status[x])) for x in groups), tuple(medians), at_risk,
                           None if lr is None else float(lr.chisq), None if lr is None else float(lr.p), svg,
                           {k: list(v) for k, v in times.items()}, {k: list(v) for k, v in status.items()})


def median_follow_up(analysis: AnalysisSet) -> float | None:
    """Reverse Kaplan-Meier median of OS follow-up (censoring is the event), in months."""
    values = [row.values["OS"] for row in analysis.rows if "OS" in row.values]
    t = [v.time_days / DAYS_PER_MONTH for v in values]
    e = [0 if v.status == 1 else 1 for v in values]
    if not t or sum(e) == 0:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = kaplan_meier(np.asarray(t), np.asarray(e)).curves[0].median()[0]
    return None if m is None or not np.isfinite(m) else float(m)


def ae_counts(subjects: list[Any], treated: set[int], min_grade: int,
              not_evaluable: list[NotEvaluable], within: Any = None) -> tuple[Rate | None, list[dict[str, Any]]]:
    """AE rate and per-term worst grades over the safety population (AEs and lab-derived grades;
    ``within``: a query of subject keys holding ``subjects``, as for ``load_records``)."""
    population = [s for s in subjects if s.pk in treated]
    ids = {s.subject_id for s in population}
    records = [r for r in safety_records(population, not_evaluable, within) if r.subject_id in ids]
    by_term: dict[str, dict[str, int]] = defaultdict(dict)
    for r in records:
        by_term[r.term][r.subject_id] = max(by_term[r.term].get(r.subject_id, 0), r.grade)
    ae_rate = None
    if population:
        worst = derive_worst_grades([(r.subject_id, r.grade) for r in records], sorted(ids))
        rate = compute_ae_rate(worst, min_grade=min_grade)
        ae_rate = Rate(f"grade >= {min_grade}", rate.x, rate.n, rate.proportion, rate.lower, rate.upper)
    labels: dict[str, str] = {t.key: t.term for t in clinical_terms()}
    labels.update({t.key: t.term for t in lab_terms()})
    terms = []
    for term in sorted(by_term):
        grades = list(by_term[term].values())
        row: dict[str, Any] = {"term": term, "label": labels.get(term, term),
                               **{f"g{g}": grades.count(g) for g in range(1, 6)}}
        row["any"] = _rate("any", len(grades), len(population))
        row["severe"] = _rate(f">= {min_grade}", sum(1 for g in grades if g >= min_grade), len(population))
        terms.append(row)
    return ae_rate, terms


def compute_report(study: Study, subjects: Any, screenings: Any, today: date, *, figures: bool = True,
                   by_arm: bool = True) -> StudyReport:
    """The report over the subjects/screenings in the user's scope (querysets already scoped);
    PFS/OS by arm, or pooled over arms when ``by_arm`` is False.

    No subject's data can take the report down: whatever makes a subject not evaluable for an
    endpoint is listed in ``not_evaluable`` (shown on the page, the PDF and the API).
    """
    with read_snapshot():
        return _compute_report(study, subjects, screenings, today, figures=figures, by_arm=by_arm)


def _compute_report(study: Study, scoped: Any, screenings: Any, today: date, *, figures: bool,
                    by_arm: bool) -> StudyReport:
    """:func:`compute_report` inside its snapshot: the subject list is read once, and every other
    query selects its subjects with the same scoped query as a subquery (no list of keys)."""
    subjects = list(scoped.select_related("randomisation", "site"))
    within = scoped.values("pk")
    version = study.current_protocol
    if version is None:
        raise ValidationError(gettext("study %(study)s has no protocol version") % {"study": study.code}, field="protocol")
    protocol = protocol_of(version)
    ids = {s.pk for s in subjects}
    crf = load_records(subjects, within)
    analysis = build_analysis_set(subjects, protocol.randomisation is not None, records=crf)
    treated = treated_ids(subjects, crf, within)
    bors = {row.subject.subject_id: row.bor for row in analysis.rows}
    flow = {
        "screened": screenings.count(),
        "eligible": screenings.filter(outcome="eligible").count(),
        "enrolled": len(subjects),
        "randomised": sum(1 for s in subjects if getattr(s, "randomisation", None) is not None),
        "treated": len(treated),
        "assessed": sum(1 for v in bors.values() if v is not None),
    }
    if protocol.randomisation is None:  # single-arm protocol: no randomisation box in the flow
        del flow["randomised"]
    ae_spec = next((e for e in protocol.endpoints if e.kind == "proportion" and e.min_grade), None)
    min_grade = ae_spec.min_grade if ae_spec else 3
    not_evaluable = list(analysis.not_evaluable)
    ae_rate, ae_terms = ae_counts(subjects, treated, min_grade, not_evaluable, within)
    evaluable = [v for v in bors.values() if v is not None]
    orr = _rate("CR+PR", sum(1 for v in evaluable if v in ("CR", "PR")), len(evaluable)) if evaluable else None
    survival = [x for x in (survival_summary(analysis, "PFS", figure=figures, by_arm=by_arm),
                            survival_summary(analysis, "OS", figure=figures, by_arm=by_arm)) if x is not None]
    deviations = [{"subject": d.subject.subject_id, "drug": d.drug, "date": d.date, "planned": d.planned_dose_mg,
                   "given": d.dose_mg, "reason": d.get_deviation_reason_display(), "note": d.deviation_note}
                  for d in DrugAdministration.objects.filter(subject_id__in=within, deviation=True)
                  .select_related("subject").order_by("date")]
    completeness = []
    for label, model in ((gettext_lazy("Baseline"), Baseline), (gettext_lazy("Radiotherapy"), RadiotherapyCourse),
                         (gettext_lazy("Weekly labs"), LabResult), (gettext_lazy("Tumour assessment"), TumourAssessment),
                         (gettext_lazy("Follow-up visit"), FollowUpVisit)):
        have = len(ids.intersection(model.objects.filter(subject_id__in=within).order_by()
                                    .values_list("subject_id", flat=True).distinct()))
        completeness.append({"form": str(label), "subjects": have, "of": len(subjects),
                             "percent": 100.0 * have / len(subjects) if subjects else 0.0})
    simon = None
    if protocol.simon is not None:  # the decision rule is design.interim's; the report only orders the patients
        order = sorted(subjects, key=lambda s: (s.enrolment_date, s.enrolled_at, s.pk))
        interim = simon_interim_decision(protocol.simon, [bors[s.subject_id] in ("CR", "PR") for s in order
                                                          if bors[s.subject_id] is not None])
        simon = {"n1": interim.n1, "r1": interim.r1, "n": interim.n, "r": interim.r,
                 "evaluated": interim.evaluated_stage1, "responses": interim.responses_stage1,
                 "evaluated_total": interim.evaluated, "responses_total": interim.responses,
                 "status": interim.status}
    notes = []
    if protocol.simon is None:
        notes.append(gettext("The protocol defines no Simon two-stage design: no stopping rule to monitor."))
    efficacy = "single_arm" if protocol.randomisation is None else "by_arm" if by_arm else "pooled"
    return StudyReport(study.code, today, flow, ae_rate, min_grade, ae_terms, orr,
                       {k: v for k, v in bors.items() if v}, survival, median_follow_up(analysis),
                       deviations, completeness, simon, notes, [n.as_dict() for n in not_evaluable],
                       efficacy=efficacy)


def report_pdf(report: StudyReport) -> bytes:
    """The report as a PDF (reportlab; KM figures as PNG drawn from the same numbers). Fonts
    cover every text (a CJK subset is embedded when a text needs one: npctrial.fonts)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.platypus import SimpleDocTemplate

    from npctrial.fonts import build_with_fonts

    figures: dict[str, bytes] = {}
    for s in report.survival:
        png = _figure_of(s.times, s.status, s.endpoint, fmt="png")
        assert isinstance(png, bytes)
        figures[s.endpoint] = png
    story, _ = build_with_fonts(lambda fonts: _pdf_story(report, fonts, figures))
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, title=f"{report.study} study report", lang=translation.get_language())
    doc.build(story)
    return buf.getvalue()


def _pdf_story(report: StudyReport, fonts: Any, figures: dict[str, bytes]) -> list[Any]:
    """The flowables of the report PDF, every text through ``fonts.markup``."""
    from django.utils.translation import gettext as _
    from reportlab.lib import colors
    from reportlab.lib.units import cm
    from reportlab.platypus import Image, Paragraph, Spacer, Table, TableStyle

    styles = fonts.stylesheet()
    cell = styles["BodyText"].clone("cell", fontSize=8, leading=9.5)

    def para(text: object, style: str = "Normal") -> Paragraph:
        return Paragraph(fonts.markup(text), styles[style])

    def table(rows: list[list[Any]]) -> Table:
        t = Table([[Paragraph(fonts.markup(c), cell) for c in row] for row in rows], hAlign="LEFT")
        t.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                               ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey)]))
        return t

    story: list[Any] = [para(_("Study report: %(study)s") % {"study": report.study}, "Title"),
                        para(_("Data as of %(date)s") % {"date": report.as_of.isoformat()}), Spacer(1, 0.3 * cm)]
    story += [para(_("Participant flow"), "Heading2"),
              table([[_("Stage"), "n"], *[[FLOW_LABELS.get(k, k), v] for k, v in report.flow.items()]])]
    story.append(para(_("Adverse events"), "Heading2"))
    if report.ae_rate:
        r = report.ae_rate
        story.append(para(_("AE rate (worst grade >= %(grade)s): %(x)s/%(n)s = %(p)s (95%% CI %(lo)s to %(hi)s, "
                            "Clopper-Pearson)") % {"grade": report.ae_min_grade, "x": r.x, "n": r.n,
                                                   "p": f"{r.proportion:.1%}", "lo": f"{r.lower:.1%}",
                                                   "hi": f"{r.upper:.1%}"}))
    story.append(table([[_("Term"), "G1", "G2", "G3", "G4", "G5", _(">= G%(grade)s (95%% CI)") % {"grade": report.ae_min_grade}],
                        *[[t["label"], t["g1"], t["g2"], t["g3"], t["g4"], t["g5"],
                           f"{t['severe'].x}/{t['severe'].n} ({t['severe'].lower:.1%}-{t['severe'].upper:.1%})"]
                          for t in report.ae_terms]]))
    if report.orr:
        o = report.orr
        story += [para(_("Response (RECIST 1.1)"), "Heading2"),
                  para(_("ORR %(x)s/%(n)s = %(p)s (95%% CI %(lo)s to %(hi)s)")
                       % {"x": o.x, "n": o.n, "p": f"{o.proportion:.1%}", "lo": f"{o.lower:.1%}", "hi": f"{o.upper:.1%}"})]
    for s in report.survival:
        story.append(para(str(report.efficacy_heading) % {"endpoint": s.endpoint}, "Heading2"))
        if report.efficacy == "pooled":
            story.append(para(str(POOLED_NOTE), "Italic"))
        story.append(Image(io.BytesIO(figures[s.endpoint]), width=14 * cm, height=9.5 * cm, kind="proportional"))
        story.append(table([[_("Arm"), "n", _("events"), _("median (months)"),
                             *[_("at risk %(month)sm") % {"month": m} for m in AT_RISK_MONTHS]],
                            *[[g, n, e, _("NR") if m is None else f"{m:.1f}", *s.at_risk[g]]
                              for g, n, e, m in zip(s.groups, s.n, s.events, s.medians, strict=True)]]))
        if s.logrank_p is not None:
            story.append(para(_("Log-rank chi-square %(chisq)s, p = %(p)s")
                              % {"chisq": f"{s.logrank_chisq:.3f}", "p": f"{s.logrank_p:.4g}"}))
    mf = report.median_follow_up_months
    story.append(para(_("Median follow-up (reverse KM): %(value)s")
                      % {"value": _("not reached") if mf is None else _("%(months)s months") % {"months": f"{mf:.1f}"}}))
    story += [para(_("Protocol deviations"), "Heading2"),
              table([[_("Subject"), _("Drug"), _("Date"), _("Planned"), _("Given"), _("Reason")],
                     *[[d["subject"], d["drug"], str(d["date"]), d["planned"], d["given"], d["reason"]]
                       for d in report.deviations]]),
              para(_("Data completeness"), "Heading2"),
              table([[_("Form"), _("Subjects"), _("Of"), "%"],
                     *[[c["form"], c["subjects"], c["of"], f"{c['percent']:.0f}"] for c in report.completeness]])]
    if report.simon:
        sm = report.simon
        story.append(para(_("Simon stage 1: %(responses)s responses in %(evaluated)s/%(n1)s (r1 = %(r1)s): %(status)s")
                          % {**sm, "status": SIMON_STATUS_LABELS.get(sm["status"], sm["status"])}))
    story += [para(n, "Italic") for n in report.notes]
    story += [para(_("Not evaluable"), "Heading2"),
              table([[_("Endpoint"), _("Subject"), _("Site"), _("Reason")],
                     *[[n["endpoint"], n["subject"], n["site"], n["reason"]] for n in report.not_evaluable]])
              if report.not_evaluable else para(_("Every subject is evaluable for every endpoint."))]
    return story
