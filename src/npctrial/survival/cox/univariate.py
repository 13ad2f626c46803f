"""Univariate Cox screening: one model per covariate, the shape of a paper's Table 4.

Steps: 1. for each covariate fit ``cox_ph(data, duration, event, [covariate])`` on the rows complete
for that covariate (R fits each model on its own complete cases); 2. report one row per coefficient
(a categorical covariate gives one row per non-reference level) with the hazard ratio, its Wald
confidence interval and Wald p-value, plus the term's likelihood-ratio p-value (the usual global
p for a multi-level factor), n and events used.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import pandas as pd

from npctrial.errors import ValidationError
from npctrial.survival.confidence import check_conf_level
from npctrial.survival.cox.fit import cox_ph
from npctrial.survival.memory_pages import without_huge_page_hint

__all__ = ["cox_univariate"]


@without_huge_page_hint
def cox_univariate(
    data: pd.DataFrame,
    duration: str,
    event: str,
    covariates: Sequence[str],
    *,
    categorical: Sequence[str] = (),
    reference: Mapping[str, Any] | None = None,
    strata: str | None = None,
    ties: str = "efron",
    conf_level: float = 0.95,
    event_codes: tuple[Any, Any] | None = None,
) -> pd.DataFrame:
    """One row per covariate term: covariate, term, reference, n, events, HR, CI, Wald p, LR p."""
    if isinstance(covariates, str):
        covariates = [covariates]
    if not covariates:
        raise ValidationError("covariates must name at least one column", field="covariates")
    check_conf_level(conf_level)
    reference = dict(reference or {})
    rows = []
    for cov in covariates:
        fit = cox_ph(data, duration, event, [cov], categorical=[c for c in categorical if c == cov],
                     reference={cov: reference[cov]} if cov in reference else None, strata=strata, ties=ties,
                     event_codes=event_codes)
        if conf_level != fit.conf_level:
            fit = replace(fit, conf_level=conf_level)
        ci = fit.conf_int
        levels = fit.xlevels.get(cov)
        for j, name in enumerate(fit.names):
            rows.append({
                "covariate": cov,
                "term": name,
                "reference": None if levels is None else levels[0],
                "n": fit.n,
                "events": fit.n_events,
                "hazard_ratio": fit.hazard_ratio[j],
                "lower": ci[j, 0],
                "upper": ci[j, 1],
                "p": fit.p[j],
                "p_lr": fit.lr_test.p_value,
            })
    return pd.DataFrame(rows)
