"""The cohort report in the reader's language (``npctrial analyze --lang zh``).

The analyses always run in English (their tables name columns and tests in English, which the
tests and the R comparisons read). :func:`localise_report` then translates what is npctrial's
own wording - column headers, fixed cells ("All cases", test names), notes, the methods
paragraph - through the ``npctrial`` gettext catalogue (:mod:`npctrial.i18n`); the writers
translate their headings with :func:`report_text`. The user's own labels (config titles,
variable labels, levels) are shown as written, in whatever language they are.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

import pandas as pd

from npctrial.cohort.report import CohortReport, ReportTable
from npctrial.i18n import check_language, translator

__all__ = ["localise_report", "report_text"]


def N_(text: str) -> str:
    """Marks a string for the catalogue (xgettext keyword) without translating it."""
    return text


#: npctrial's own texts that appear in report tables (headers and fixed cells), for the catalogue.
TABLE_TEXTS = (
    N_("Characteristic"), N_("Level"), N_("Total"), N_("p value"), N_("Test"), N_("All cases"),
    N_("Pearson chi-square"), N_("Fisher's exact test"), N_("Cochran-Armitage trend"), N_("Toxicity"),
    N_("Up to"), N_("Group"), N_("Time"), N_("Events"), N_("Survival (%)"), N_("Cumulative rate (%)"),
    N_("Cumulative incidence (%)"), N_("Group 1"), N_("Group 2"), N_("Chi-square"), N_("p (Holm)"),
    N_("Variable"), N_("Term"), N_("HR (multi)"), N_("95% CI (multi)"), N_("p value (multi)"),
    N_("Endpoint time"), N_("Median follow-up (reverse KM)"), N_("Minimum"), N_("Maximum"), N_("All"),
    N_("Median (months)"), N_("Median"), N_("NA"), N_("NR"), N_("Follow-up"), N_("Excluded rows"),
    N_("row"), N_("column"), N_("value"), N_("expected"), N_("Grade %(grade)s"),
    N_("Number at risk"), N_("Time (months)"), N_("Survival probability"), N_("Cumulative event rate"),
    N_("Cumulative incidence"), N_("log-rank test"), N_("Gray's test"), N_("Hazard ratio (95% CI), univariate"),
    N_("Patients (%)"), N_("p"), N_("1 - KM (%)"), N_("df"), N_("per step"), N_("* p < 0.05."),
    N_("p values: Pearson chi-square test without continuity correction."),
    N_("† Fisher's exact test, used because an expected count was below 5."),
    N_("Cumulative incidence: Aalen-Johansen with death as competing risk; 1 - KM censors deaths and "
       "overestimates the incidence."),
    # headings of the writers (report_html, report_pdf, report_xlsx)
    N_("Analyses after:"), N_("Data"), N_("patient"), N_("Methods"), N_("Warnings"), N_("Tables"), N_("Figures"), N_("Software"),
    N_("Analyses not run"), N_("Config inferred from the file"), N_("Data: "), N_("Not run: "), N_("Guessed: "),
    # the journal layout: numbers at risk, medians, Table 1 rows, Cox rows, PH test, forest plot
    N_("At risk"), N_("Events so far"), N_("HR (95% CI)"), N_("HR (95% CI), multivariate"), N_("p value, multivariate"),
    N_("Median follow-up, reverse KM"), N_("median (IQR)"), N_("Unknown"), N_("per unit"), N_("Global test"),
    N_("Wilcoxon rank-sum test"), N_("Kruskal-Wallis test"), N_("adjusted"), N_("univariate"), N_("multivariate"),
    N_("Hazard ratio (95% CI, log scale)"), N_("days"), N_("weeks"), N_("months"), N_("years"),
    N_("p values: Pearson chi-square test without continuity correction; continuous variables: median (IQR), "
       "Wilcoxon rank-sum or Kruskal-Wallis test."),
    N_("Unknown: missing values, counted in the column percentages and left out of the tests."),
    N_("Grambsch-Therneau test on scaled Schoenfeld residuals, Kaplan-Meier time scale (R cox.zph)."),
    # immortal time: landmark and time-dependent tables
    N_("Landmark"), N_("Events after"), N_("p value (log-rank)"), N_("HR (95% CI), time-dependent"),
    N_("HR (95% CI), fixed at baseline"), N_("p value, fixed"),
)
#: a heading with a time unit, "Minimum (months)": both parts translated.
_WITH_UNIT = re.compile(r"^(?P<head>.+) \((?P<unit>days|weeks|months|years)\)$")
#: npctrial's texts with values inside: (pattern, catalogue message with the same named fields).
PATTERNS = (
    (re.compile(r"^Grade (?P<grade>\d), n \(%\)$"), N_("Grade %(grade)s, n (%%)")),
    (re.compile(r"^Grade (?P<grade>\d)$"), N_("Grade %(grade)s")),
    (re.compile(r"^(?P<label>.+) \(col %\)$"), N_("%(label)s (col %%)")),
    (re.compile(r"^p value \(Holm\)$"), N_("p value (Holm)")),
    (re.compile(r"^Log-rank test: chi-square = (?P<chisq>[^,]+), df = (?P<df>[^,]+), p = (?P<p>.+)\.$"),
     N_("Log-rank test: chi-square = %(chisq)s, df = %(df)s, p = %(p)s.")),
    (re.compile(r"^Gray's test: statistic = (?P<stat>[^,]+), p = (?P<p>.+)\.$"),
     N_("Gray's test: statistic = %(stat)s, p = %(p)s.")),
    (re.compile(r"^(?P<var>.+): scored 1-(?P<k>\d+) in the order (?P<order>.+); HR per step\.$"),
     N_("%(var)s: scored 1-%(k)s in the order %(order)s; HR per step.")),
    (re.compile(r"^Cox proportional hazards models \(Efron ties\), n = (?P<n>\d+), events = (?P<events>\d+); "
                r"multivariate: (?P<terms>.+)\. \* p < 0\.05\.$"),
     N_("Cox proportional hazards models (Efron ties), n = %(n)s, events = %(events)s; multivariate: %(terms)s. "
        "* p < 0.05.")),
    (re.compile(r"^Warning: proportional hazards rejected \(cox\.zph p < 0\.05\) for: (?P<terms>.+)$"),
     N_("Warning: proportional hazards rejected (cox.zph p < 0.05) for: %(terms)s")),
    (re.compile(r"^Cumulative incidence: Aalen-Johansen with (?P<competing>.+) as competing risk; 1 - KM censors it "
                r"and overestimates the incidence\.$"),
     N_("Cumulative incidence: Aalen-Johansen with %(competing)s as competing risk; 1 - KM censors it and "
        "overestimates the incidence.")),
    (re.compile(r"^(?P<n>\d+) rows with missing values excluded\.$"), N_("%(n)s rows with missing values excluded.")),
    (re.compile(r"^(?P<n>\d+) of (?P<total>\d+) patients left out: (?P<columns>.+) not known for them\.$"),
     N_("%(n)s of %(total)s patients left out: %(columns)s not known for them.")),
    (re.compile(r"^Not graded \(left out of N and the percentages\): (?P<counts>.+)\.$"),
     N_("Not graded (left out of N and the percentages): %(counts)s.")),
    (re.compile(r"^Not known: (?P<n>\d+) \(left out of the percentages\)\.$"),
     N_("Not known: %(n)s (left out of the percentages).")),
    (re.compile(r"^(?P<a>.+) vs (?P<b>.+)$"), N_("%(a)s vs %(b)s")),
    (re.compile(r"^(?P<level>.+) \(reference\)$"), N_("%(level)s (reference)")),
    (re.compile(r"^Log-rank test: chi-square = (?P<chisq>[^,]+), df = (?P<df>[^,]+), (?P<p>p [<=] .+)\.$"),
     N_("Log-rank test: chi-square = %(chisq)s, df = %(df)s, %(p)s.")),
    (re.compile(r"^Gray's test: statistic = (?P<stat>[^,]+), (?P<p>p [<=] .+)\.$"),
     N_("Gray's test: statistic = %(stat)s, %(p)s.")),
    (re.compile(r"^Proportional hazards: cox\.zph global test (?P<p>p [<=] .+)\.$"),
     N_("Proportional hazards: cox.zph global test %(p)s.")),
    (re.compile(r"^Cox proportional-hazards models \((?P<ties>\w+) ties\)\. Univariate: each covariate on the patients "
                r"with it known \(N per row\)\. Multivariate: (?P<terms>.+) on the (?P<n>\d+) complete cases "
                r"\((?P<events>\d+) events\)\. \* p < 0\.05\.$"),
     N_("Cox proportional-hazards models (%(ties)s ties). Univariate: each covariate on the patients with it known "
        "(N per row). Multivariate: %(terms)s on the %(n)s complete cases (%(events)s events). * p < 0.05.")),
    (re.compile(r"^Cox proportional-hazards models \((?P<ties>\w+) ties\)\. Univariate: each covariate on the patients "
                r"with it known \(N per row\)\. Multivariate: none\. \* p < 0\.05\.$"),
     N_("Cox proportional-hazards models (%(ties)s ties). Univariate: each covariate on the patients with it known "
        "(N per row). Multivariate: none. * p < 0.05.")),
    (re.compile(r"^(?P<n>\d+) patient\(s\) with an unknown (?P<outcome>.+) are not in this table\.$"),
     N_("%(n)s patient(s) with an unknown %(outcome)s are not in this table.")),
)


def report_text(language: str, text: str) -> str:
    """A fixed text of the report writers (headings, labels) in ``language``."""
    return translator(check_language(language))(text)


def _translate(tr: Callable[[str], str], text: str) -> str:
    """The catalogue's translation of ``text``, exact first, then through :data:`PATTERNS`."""
    out = tr(text)
    if out != text:
        return out
    unit = _WITH_UNIT.match(text)
    if unit and tr(unit["head"]) != unit["head"]:
        return f"{tr(unit['head'])}（{tr(unit['unit'])}）"
    for pattern, message in PATTERNS:
        m = pattern.match(text)
        if m:
            translated = tr(message)
            return text if translated == message else translated % m.groupdict()
    return text


def _cell(tr: Callable[[str], str], value: object) -> object:
    return _translate(tr, value) if isinstance(value, str) and value else value


def _table(tr: Callable[[str], str], t: ReportTable) -> ReportTable:
    frame = t.frame.rename(columns=lambda c: _translate(tr, str(c)))
    frame = frame.apply(lambda col: col.map(lambda v: _cell(tr, v)) if col.dtype == object else col)
    return replace(t, frame=pd.DataFrame(frame), notes=tuple(_translate(tr, n) for n in t.notes))


def localise_report(report: CohortReport, language: str) -> CohortReport:
    """``report`` with npctrial's own wording in ``language`` (``en`` returns it unchanged)."""
    lang = check_language(language)
    if lang == "en":
        return report
    tr = translator(lang)
    excluded = report.excluded.rename(columns=lambda c: tr(str(c)))
    return replace(report, tables=tuple(_table(tr, t) for t in report.tables), methods=tr(report.methods),
                   excluded=excluded, language=lang)
