"""The statistical-methods paragraph of a cohort report, naming only the analyses that ran.

Each analysis that produced a table adds a key to the set passed in (``association``,
``fisher``, ``trend``, ``continuous``, ``unknown``, ``toxicity``, ``km``, ``logrank``,
``pairwise``, ``follow_up``, ``cif``, ``gray``, ``cox``, ``cox_multi``, ``landmark``,
``time_dependent``, ``from_event``); the paragraph has one sentence per family, in the order a
manuscript gives them. Sentences are catalogue messages (``N_``) filled with ``%`` fields, so
that ``tr`` (:func:`npctrial.i18n.translator`) translates them one by one.
"""

from __future__ import annotations

from collections.abc import Callable, Set

from npctrial.cohort.plan import AnalysisPlan
from npctrial.cohort.report_language import N_

Sentence = tuple[str, dict[str, object]]
_TIES = {"efron": "Efron", "breslow": "Breslow", "exact": "exact partial likelihood"}


def _association(ran: Set[str], plan: AnalysisPlan) -> list[Sentence]:
    if "association" not in ran:
        return []
    a = plan.config.association
    fields: dict[str, object] = {"outcome": plan.label(a.outcome) if a is not None else "the outcome",
                                 "fisher": f"{a.fisher_below:g}" if a is not None else "5"}
    if "fisher" in ran:
        out = [(N_("Associations between categorical baseline factors and %(outcome)s were tested with Pearson's "
                   "chi-square test without continuity correction, replaced by Fisher's exact test (exact "
                   "conditional p-value for r x c tables) when an expected count was below %(fisher)s."), fields)]
    else:
        out = [(N_("Associations between categorical baseline factors and %(outcome)s were tested with Pearson's "
                   "chi-square test without continuity correction."), fields)]
    if "continuous" in ran:
        out.append((N_("Continuous factors are given as median (interquartile range) and compared with the Wilcoxon "
                       "rank-sum test (two groups) or the Kruskal-Wallis test (more groups)."), {}))
    if "trend" in ran:
        out.append((N_("For ordered factors the Cochran-Armitage test for trend is given."), {}))
    if "unknown" in ran:
        out.append((N_("Missing values are shown as 'Unknown' rows, counted in the denominators of the percentages "
                       "and left out of the tests."), {}))
    return out


def _survival(ran: Set[str]) -> list[Sentence]:
    out: list[Sentence] = []
    if "toxicity" in ran:
        out.append((N_("Toxicities are given as the number (%%) of patients by worst grade."), {}))
    if "km" in ran:
        if "pairwise" in ran:
            text = N_("Survival was estimated by the Kaplan-Meier method (Greenwood variance, log-transformed 95%% "
                      "confidence intervals; medians with the 95%% confidence interval read from these bands, as "
                      "R's survfit) and compared with the log-rank test, with Holm-adjusted pairwise log-rank tests.")
        elif "logrank" in ran:
            text = N_("Survival was estimated by the Kaplan-Meier method (Greenwood variance, log-transformed 95%% "
                      "confidence intervals; medians with the 95%% confidence interval read from these bands, as "
                      "R's survfit) and compared with the log-rank test.")
        else:
            text = N_("Survival was estimated by the Kaplan-Meier method (Greenwood variance, log-transformed 95%% "
                      "confidence intervals; medians with the 95%% confidence interval read from these bands, as "
                      "R's survfit).")
        out.append((text, {}))
    if "follow_up" in ran:
        out.append((N_("Median follow-up was estimated by the reverse Kaplan-Meier method."), {}))
    if "cif" in ran:
        if "gray" in ran:
            text = N_("The cumulative incidence of an event with a competing event was estimated by the "
                      "Aalen-Johansen estimator (95%% confidence intervals on the log(-log) scale) and compared with "
                      "Gray's test; it is shown next to 1 - KM, which treats competing events as censoring and "
                      "therefore overestimates the incidence.")
        else:
            text = N_("The cumulative incidence of an event with a competing event was estimated by the "
                      "Aalen-Johansen estimator (95%% confidence intervals on the log(-log) scale); it is shown next "
                      "to 1 - KM, which treats competing events as censoring and therefore overestimates the "
                      "incidence.")
        out.append((text, {}))
    return out


def _cox(ran: Set[str], plan: AnalysisPlan) -> list[Sentence]:
    if "cox" not in ran or not plan.config.cox_models:
        return []
    ties = dict.fromkeys(_TIES[x.ties] for x in plan.config.cox_models)
    fields: dict[str, object] = {"ties": "/".join(ties)}
    if "cox_multi" in ran:
        return [(N_("Hazard ratios come from Cox proportional-hazards models (%(ties)s method for tied event times): "
                    "univariate models on the patients with the covariate known, and a multivariate model on the "
                    "patients complete in all its covariates; the proportional-hazards assumption was checked with "
                    "scaled Schoenfeld residuals (R's cox.zph, Kaplan-Meier time scale), with a warning below 10 "
                    "events per model parameter."), fields)]
    return [(N_("Hazard ratios come from univariate Cox proportional-hazards models (%(ties)s method for tied event "
                "times), each on the patients with the covariate known."), fields)]


def _immortal_time(ran: Set[str]) -> list[Sentence]:
    out: list[Sentence] = []
    if "landmark" in ran:
        out.append((N_("To avoid immortal-time bias, factors that arise during follow-up were also analysed by "
                       "landmark analysis: patients alive and event-free at the landmark, grouped by their status at "
                       "that time, followed from the landmark."), {}))
    if "time_dependent" in ran:
        out.append((N_("Such factors were also entered in Cox models as time-dependent covariates (counting-process "
                       "form, the value changing on the date it arose)."), {}))
    if "from_event" in ran:
        out.append((N_("Survival after an event was measured from the date of that event."), {}))
    return out


def compose_methods(ran: Set[str], plan: AnalysisPlan, tr: Callable[[str], str] = str) -> str:
    """The methods paragraph for the analyses in ``ran`` (see the module docstring); ``tr``
    translates it sentence by sentence."""
    parts = _association(ran, plan) + _survival(ran) + _cox(ran, plan) + _immortal_time(ran)
    if not parts:
        return tr(N_("No statistical analysis was configured; the report lists the data as read."))
    unit = plan.time_unit
    if unit is not None and ran & {"km", "cif", "cox", "follow_up", "landmark", "time_dependent"}:
        parts.append((N_("Times are in %(unit)s (a month is 30.4375 days, a year 365.25 days)."), {"unit": tr(unit)}))
    parts.append((N_("Tests are two-sided."), {}))
    return " ".join(tr(text) % fields for text, fields in parts)
