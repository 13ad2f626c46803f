"""The paper's Table 4: univariate Cox models and the multivariate model, with diagnostics.

Computations come from :func:`npctrial.survival.cox_univariate` and
:func:`npctrial.survival.cox_ph`; this module chooses the rows and covariates, collects the
warnings and lays out N, hazard ratios (95 % CI) and p-values side by side, with the reference
level of each categorical covariate on its own row, and the proportional-hazards test table.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from npctrial.cohort.tables import format_p_value, p_statement
from npctrial.cohort.values import as_level, check_columns
from npctrial.errors import SmallSampleWarning, StatisticalWarning
from npctrial.survival import cox_ph, cox_univariate


def _p_text(p: float) -> str:
    """Three decimals or '<0.001'; 'NA' where the model gives no p-value."""
    return format_p_value(p) or "NA"


def hr_text(hr: float, lo: float, hi: float) -> str:
    """'0.303 (0.141-0.652)'."""
    return f"{hr:.3f} ({lo:.3f}-{hi:.3f})"


@dataclass(frozen=True)
class CoxTable:
    """Table 4: univariate HRs for every covariate (on the patients with it known), multivariate
    HRs for the selected ones (on the patients complete in all of them).

    ``forest`` has one row per term and model: label, covariate, model ("univariate" /
    "multivariate"), n, events, hr, lower, upper, p. ``zph`` is R's ``cox.zph`` table of the
    multivariate model (chisq, df, p per term and GLOBAL), or None."""

    title: str
    frame: pd.DataFrame
    n: int  # patients in the multivariate model (the largest univariate model without one)
    n_events: int
    notes: tuple[str, ...] = field(default_factory=tuple)
    forest: pd.DataFrame | None = None
    zph: pd.DataFrame | None = None
    multivariate: tuple[str, ...] = ()

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


def _univariate(data: pd.DataFrame, time: str, event: str, covariates: Sequence[str], categorical: Sequence[str],
                reference: Mapping[str, Any], ties: str, entry: str | None) -> pd.DataFrame:
    """One model per covariate on the rows where it is known (cox_univariate's layout)."""
    refs = {c: v for c, v in reference.items() if c in covariates}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        if entry is None:
            return cox_univariate(data, time, event, list(covariates), categorical=list(categorical), reference=refs,
                                  ties=ties)
        rows = []
        for cov in covariates:
            fit = cox_ph(data, time, event, [cov], categorical=[cov] if cov in categorical else [],
                         reference={cov: refs[cov]} if cov in refs else None, ties=ties, entry=entry)
            levels = fit.xlevels.get(cov)
            for j, term in enumerate(fit.names):
                rows.append({"covariate": cov, "term": term, "reference": None if levels is None else levels[0],
                             "n": fit.n, "events": fit.n_events, "hazard_ratio": fit.hazard_ratio[j],
                             "lower": fit.conf_int[j, 0], "upper": fit.conf_int[j, 1], "p": fit.p[j]})
        return pd.DataFrame(rows)


def _multivariate(data: pd.DataFrame, time: str, event: str, chosen: Sequence[str], categorical: Sequence[str],
                  reference: Mapping[str, Any], ties: str, notes: list[str], entry: str | None = None
                  ) -> tuple[Any, pd.DataFrame | None]:
    """The multivariate fit on complete cases, its warnings as notes, and its cox.zph table."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", StatisticalWarning)
        fit = cox_ph(data, time, event, list(chosen), categorical=[c for c in chosen if c in categorical],
                     reference={c: v for c, v in reference.items() if c in chosen} or None, ties=ties, entry=entry)
    notes += [f"Warning: {w.message}" for w in caught]
    epv = fit.n_events / max(len(fit.names), 1)
    if epv < 10:
        msg = f"{fit.n_events} events for {len(fit.names)} parameters: {epv:.1f} events per variable (< 10)"
        warnings.warn(msg, SmallSampleWarning, stacklevel=3)
        notes.append("Warning: " + msg)
    zph = fit.zph().to_frame()
    bad = [str(i) for i, p in zip(zph.index, zph["p"], strict=True) if p < 0.05]
    if bad:
        msg = f"proportional hazards rejected (cox.zph p < 0.05) for: {', '.join(bad)}"
        warnings.warn(msg, StatisticalWarning, stacklevel=3)
        notes.append("Warning: " + msg)
    else:
        notes.append(f"Proportional hazards: cox.zph global test {p_statement(float(zph['p'].iloc[-1]))}.")
    return fit, zph


def _zph_table(zph: pd.DataFrame, labels: Mapping[str, str]) -> pd.DataFrame:
    return pd.DataFrame({
        "Term": [labels.get(str(i), str(i)) if str(i) != "GLOBAL" else "Global test" for i in zph.index],
        "Chi-square": [f"{v:.3f}" for v in zph["chisq"]],
        "df": [int(round(v)) for v in zph["df"]],
        "p value": [_p_text(p) for p in zph["p"]],
    })


def cox_table(
    frame: pd.DataFrame, *, title: str, time: str, event: str, covariates: Sequence[str],
    categorical: Sequence[str] = (), multivariate: Sequence[str] | None = None,
    screen_p: float | None = None, labels: Mapping[str, str] | None = None,
    reference: Mapping[str, Any] | None = None, ordinal: Sequence[str] = (), ties: str = "efron",
    entry: str | None = None, levels: Mapping[str, Sequence[str]] | None = None,
) -> CoxTable:
    """Univariate Cox model per covariate, then a multivariate model on ``multivariate`` (or on
    the covariates with univariate p < ``screen_p``), laid out as the paper's Table 4.

    1. Univariate: :func:`npctrial.survival.cox_univariate` on the rows complete in time, event
       and that covariate (available cases, as R, SPSS and gtsummary), treatment contrasts
       against ``reference`` or the first level (``levels`` order, else sorted); N and events
       on each row.
    2. Multivariate: :func:`npctrial.survival.cox_ph` on the rows complete in all its covariates.
    3. Diagnostics: events per variable < 10 (SmallSampleWarning, Peduzzi et al. 1996) and the
       proportional-hazards test of Grambsch and Therneau (1994), R's ``cox.zph``, at 0.05
       (StatisticalWarning); both are also kept as notes under the table.
    """
    labels = dict(labels or {})
    reference = dict(reference or {})
    cols = list(dict.fromkeys([time, event, *covariates, *([entry] if entry else [])]))
    check_columns(frame, cols, f"Cox table {title!r}")
    data = frame[cols].copy()
    for c in categorical:
        text = data[c].map(as_level)
        present = set(text.dropna())
        order = [lv for lv in (levels or {}).get(c, ()) if lv in present]
        data[c] = pd.Categorical(text, categories=order + sorted(present - set(order)))
    data = data[data[time].notna() & data[event].notna()]
    screen = _univariate(data, time, event, covariates, categorical, reference, ties, entry)
    chosen = list(multivariate) if multivariate is not None else [
        c for c in covariates if screen_p is not None and bool((screen.loc[screen.covariate == c, "p"] < screen_p).any())]
    notes: list[str] = []
    multi: dict[str, tuple[float, float, float, float]] = {}
    zph = None
    n_multi = events_multi = 0
    if chosen:
        fit, zph = _multivariate(data, time, event, chosen, categorical, reference, ties, notes, entry)
        n_multi, events_multi = fit.n, fit.n_events
        for k, term in enumerate(fit.names):
            lo, hi = fit.conf_int[k]
            multi[term] = (float(fit.hazard_ratio[k]), float(lo), float(hi), float(fit.p[k]))
    rows, forest = _layout(screen, multi, labels, ordinal, chosen, n_multi, events_multi)
    undrawable = sorted({f["label"] for f in forest if not all(np.isfinite([f["hr"], f["lower"], f["upper"]]))})
    if undrawable:
        notes.append("Not drawn in the forest plot (hazard ratio or interval not finite): " + "; ".join(undrawable) + ".")
    ref_text = "complete cases" if chosen else ""
    notes.insert(0, f"Cox proportional-hazards models ({ties.capitalize()} ties). Univariate: each covariate on the "
                    "patients with it known (N per row). Multivariate: "
                    + (", ".join(labels.get(c, c) for c in chosen) + f" on the {n_multi} {ref_text} "
                       f"({events_multi} events)" if chosen else "none") + ". * p < 0.05.")
    n_all = n_multi if chosen else int(screen["n"].max()) if len(screen) else 0
    events_all = events_multi if chosen else int(screen["events"].max()) if len(screen) else 0
    return CoxTable(title, pd.DataFrame(rows), n_all, events_all, tuple(notes), pd.DataFrame(forest),
                    None if zph is None else _zph_table(zph, _term_labels(screen, labels, ordinal)), tuple(chosen))


def _term_labels(screen: pd.DataFrame, labels: Mapping[str, str], ordinal: Sequence[str]) -> dict[str, str]:
    out = {}
    for r in screen.itertuples(index=False):
        ref = r.reference if isinstance(r.reference, str) else None
        out[r.term] = f"{labels.get(r.covariate, r.covariate)}: {_term_label(r.term, r.covariate, ref, ordinal)}"
        out.setdefault(r.covariate, labels.get(r.covariate, r.covariate))
    return out


def _layout(screen: pd.DataFrame, multi: Mapping[str, tuple[float, float, float, float]], labels: Mapping[str, str],
            ordinal: Sequence[str], chosen: Sequence[str], n_multi: int, events_multi: int
            ) -> tuple[list[dict], list[dict]]:
    """Table rows (a reference row first for each categorical covariate) and forest rows."""
    rows: list[dict] = []
    forest: list[dict] = []
    seen: set[str] = set()
    empty_multi = {"HR (95% CI), multivariate": "", "p value, multivariate": ""}
    for r in screen.itertuples(index=False):
        ref = r.reference if isinstance(r.reference, str) else None
        var = labels.get(r.covariate, r.covariate)
        if ref is not None and r.covariate not in seen:
            in_multi = r.covariate in chosen
            rows.append({"Variable": var, "Term": f"{ref} (reference)", "N": "", "Events": "",
                         "HR (95% CI)": "1", "p value": "",
                         **({"HR (95% CI), multivariate": "1", "p value, multivariate": ""} if in_multi else empty_multi)})
        seen.add(r.covariate)
        term = _term_label(r.term, r.covariate, ref, ordinal)
        hr, lo, hi, p = float(r.hazard_ratio), float(r.lower), float(r.upper), float(r.p)
        row = {"Variable": var, "Term": term, "N": int(r.n), "Events": int(r.events), "HR (95% CI)": hr_text(hr, lo, hi),
               "p value": _p_text(p) + ("*" if p < 0.05 else ""), **empty_multi}
        forest.append({"label": f"{var}: {term}", "covariate": r.covariate, "model": "univariate", "n": int(r.n),
                       "events": int(r.events), "hr": hr, "lower": lo, "upper": hi, "p": p})
        if r.term in multi:
            mh, ml, mu, mp = multi[r.term]
            row.update({"HR (95% CI), multivariate": hr_text(mh, ml, mu),
                        "p value, multivariate": _p_text(mp) + ("*" if mp < 0.05 else "")})
            forest.append({"label": f"{var}: {term}", "covariate": r.covariate, "model": "multivariate",
                           "n": n_multi, "events": events_multi, "hr": mh, "lower": ml, "upper": mu, "p": mp})
        rows.append(row)
    return rows, forest
