"""The paper's Table 4: univariate Cox screen and multivariate model, with diagnostics.

Computations come from :func:`npctrial.survival.cox_univariate` and
:func:`npctrial.survival.cox_ph`; this module chooses the covariates, collects the warnings
and lays out hazard ratios (95 % CI) and p-values side by side.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from npctrial.cohort.tables import format_p_value
from npctrial.cohort.values import as_level, check_columns
from npctrial.errors import SmallSampleWarning, StatisticalWarning
from npctrial.survival import cox_ph, cox_univariate


def _p_text(p: float) -> str:
    """Three decimals or '<0.001'; 'NA' where the model gives no p-value."""
    return format_p_value(p) or "NA"


@dataclass(frozen=True)
class CoxTable:
    """Table 4: univariate HRs for every covariate, multivariate HRs for the selected ones."""

    title: str
    frame: pd.DataFrame
    n: int
    n_events: int
    notes: tuple[str, ...] = field(default_factory=tuple)
    forest: pd.DataFrame | None = None  # term, hr, lower, upper (univariate)

    def to_frame(self) -> pd.DataFrame:
        return self.frame.copy()

    def summary(self) -> str:
        return "\n".join([self.title, self.frame.to_string(index=False), *self.notes])


def _term_label(term: str, cov: str, reference: Any, ordinal: Sequence[str] = ()) -> str:
    """'T2 vs T1' for a treatment-contrast term of a categorical covariate (``reference`` is its
    reference level); 'per step' for ordinal scores, 'per unit' for other numeric covariates."""
    if reference is not None and term.startswith(cov):
        return f"{term[len(cov):]} vs {reference}"
    if term == cov:
        return "per step" if cov in ordinal else "per unit"
    return term


def cox_table(
    frame: pd.DataFrame, *, title: str, time: str, event: str, covariates: Sequence[str],
    categorical: Sequence[str] = (), multivariate: Sequence[str] | None = None,
    screen_p: float | None = None, labels: Mapping[str, str] | None = None,
    reference: Mapping[str, Any] | None = None, ordinal: Sequence[str] = (),
) -> CoxTable:
    """Univariate Cox model per covariate, then a multivariate model on ``multivariate`` (or on
    the covariates with univariate p < ``screen_p``), laid out as the paper's Table 4.

    1. Keep the rows complete in time, event and every covariate (one analysis set for all models).
    2. Univariate screen: :func:`npctrial.survival.cox_univariate` (Efron ties, Wald p, treatment
       contrasts against ``reference`` or the first level of a categorical covariate).
    3. Multivariate model: :func:`npctrial.survival.cox_ph` on the chosen covariates.
    4. Diagnostics: events per variable < 10 (SmallSampleWarning, Peduzzi et al. 1996) and the
       proportional-hazards test of Grambsch and Therneau (1994), R's ``cox.zph``, at 0.05
       (StatisticalWarning); both are also kept as notes under the table.
    """
    labels = dict(labels or {})
    reference = dict(reference or {})
    cols = list(dict.fromkeys([time, event, *covariates]))
    check_columns(frame, cols, f"Cox table {title!r}")
    data = frame[cols].dropna().copy()
    for c in categorical:
        data[c] = data[c].map(as_level)
    notes: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        screen = cox_univariate(data, time, event, list(covariates), categorical=list(categorical),
                                reference={c: v for c, v in reference.items() if c in covariates})
    uni: dict[str, tuple[str, float, float, float, float]] = {}
    term_labels: dict[str, str] = {}
    for r in screen.itertuples(index=False):
        uni[r.term] = (r.covariate, float(r.hazard_ratio), float(r.lower), float(r.upper), float(r.p))
        term_labels[r.term] = _term_label(r.term, r.covariate, r.reference if isinstance(r.reference, str) else None,
                                         ordinal)
    forest = [{"term": f"{labels.get(cov, cov)}: {term_labels[term]}", "hr": hr, "lower": lo, "upper": hi, "p": p}
              for term, (cov, hr, lo, hi, p) in uni.items()]
    chosen = list(multivariate) if multivariate is not None else [
        c for c in covariates if screen_p is not None and any(v[0] == c and v[4] < screen_p for v in uni.values())]
    multi: dict[str, tuple[float, float, float, float]] = {}
    n_events = int(data[event].sum())
    if chosen:
        n_params = 0
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", StatisticalWarning)
            fit = cox_ph(data, time, event, chosen, categorical=[c for c in chosen if c in categorical],
                         reference={c: v for c, v in reference.items() if c in chosen} or None)
        for w in caught:
            notes.append(f"Warning: {w.message}")
        n_params = len(fit.names)
        for k, term in enumerate(fit.names):
            lo, hi = fit.conf_int[k]
            multi[term] = (float(fit.hazard_ratio[k]), float(lo), float(hi), float(fit.p[k]))
        epv = n_events / max(n_params, 1)
        if epv < 10:
            msg = f"{n_events} events for {n_params} parameters: {epv:.1f} events per variable (< 10)"
            warnings.warn(msg, SmallSampleWarning, stacklevel=2)
            notes.append("Warning: " + msg)
        try:
            zph = fit.zph()
            tab = zph.to_frame()
            bad = [str(i) for i, p in zip(tab.index, tab["p"], strict=True) if p < 0.05]
            if bad:
                msg = f"proportional hazards rejected (cox.zph p < 0.05) for: {', '.join(bad)}"
                warnings.warn(msg, StatisticalWarning, stacklevel=2)
                notes.append("Warning: " + msg)
            else:
                notes.append(f"Proportional hazards: cox.zph global p = {float(tab['p'].iloc[-1]):.3f}.")
        except Exception as exc:  # pragma: no cover - diagnostics must not stop the report
            notes.append(f"cox.zph not available: {exc}")
    rows = []
    for term, (cov, hr, lo, hi, p) in uni.items():
        star = "*" if p < 0.05 else ""
        row = {"Variable": labels.get(cov, cov), "Term": term_labels[term], "HR": f"{hr:.3f}", "95% CI": f"{lo:.3f}-{hi:.3f}",
               "p value": _p_text(p) + star, "HR (multi)": "", "95% CI (multi)": "", "p value (multi)": ""}
        if term in multi:
            mh, ml, mu, mp = multi[term]
            row.update({"HR (multi)": f"{mh:.3f}", "95% CI (multi)": f"{ml:.3f}-{mu:.3f}",
                        "p value (multi)": _p_text(mp) + ("*" if mp < 0.05 else "")})
        rows.append(row)
    notes.insert(0, f"Cox proportional hazards models (Efron ties), n = {len(data)}, events = {n_events}; "
                    "multivariate: " + (", ".join(labels.get(c, c) for c in chosen) or "none") + ". * p < 0.05.")
    return CoxTable(title, pd.DataFrame(rows), len(data), n_events, tuple(notes), pd.DataFrame(forest))
