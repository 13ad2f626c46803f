"""Aalen-Johansen state probabilities for competing risks, as R's multi-state ``survfit``.

For right-censored competing-risks data (everyone starts event-free in state ``(s0)``; each
cause is an absorbing state) ``survfit(Surv(time, factor(event)) ~ group)`` reports, at every
distinct time of each curve, the state occupation probabilities ``pstate`` (``(s0)`` is the
all-cause Kaplan-Meier, the others the cumulative incidences) and ``std.err`` from the
infinitesimal jackknife (IJ): the square root of the sum over subjects of the squared
derivative of the estimate with respect to the subject's case weight (Therneau, survival
package "methods" vignette, section on the Aalen-Johansen estimate; Efron 1982).

R evaluates the per-subject influence at every time (O(n x times)). Here the subjects are
split into those still at risk, who share one influence vector, and those who left, whose
influence is propagated in closed form, so the variance is a set of cumulative sums: one sort
plus O(n) work.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from npctrial.errors import ValidationError
from npctrial.frozen import FrozenResult
from npctrial.survival._competing_input import validate_competing
from npctrial.survival.data import Factor
from npctrial.survival.memory_pages import without_huge_page_hint
from npctrial.survival.risk_sets import apply_timefix

__all__ = ["AalenJohansenCurve", "AalenJohansenResult", "aalen_johansen"]


@dataclass(frozen=True)
class AalenJohansenCurve(FrozenResult):
    """One curve: per distinct time, per state (``states``; column 0 is event-free ``(s0)``).

    ``n_risk`` (subjects in each state at risk of leaving it: only ``(s0)`` for competing risks),
    ``n_event`` (transitions into each state), ``n_censor``, ``pstate``, ``std_err`` (IJ).
    """

    stratum: str
    states: tuple[str, ...]
    time: np.ndarray
    n_risk: np.ndarray
    n_event: np.ndarray
    n_censor: np.ndarray
    pstate: np.ndarray
    std_err: np.ndarray

    def at(self, times: Sequence[float] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(pstate, std_err) at ``times`` (right-continuous steps; before the first time the
        start state (1, 0, ...) with SE 0; NaN after the last time, as ``summary(fit, times=)``
        would refuse to extrapolate)."""
        t = np.asarray(times, dtype=np.float64)
        k = np.searchsorted(self.time, t, side="right") - 1
        p = np.where(k[:, None] >= 0, self.pstate[np.maximum(k, 0)], 0.0)
        se = np.where(k[:, None] >= 0, self.std_err[np.maximum(k, 0)], 0.0)
        p[k < 0, 0] = 1.0
        after = t > self.time[-1]
        p[after] = np.nan
        se[after] = np.nan
        return p, se


@dataclass(frozen=True)
class AalenJohansenResult(FrozenResult):
    """Aalen-Johansen curves per group (R's ``survfitms`` for competing risks)."""

    curves: tuple[AalenJohansenCurve, ...]
    states: tuple[str, ...]
    n: int
    n_dropped: int = 0

    def curve(self, stratum: str | None = None) -> AalenJohansenCurve:
        if stratum is None:
            return self.curves[0]
        for c in self.curves:
            if c.stratum == stratum or c.stratum.split("=", 1)[-1] == str(stratum):
                return c
        raise ValidationError(
            f"no curve {stratum!r}; curves are {[c.stratum for c in self.curves]}", field="stratum"
        )

    def at(self, times: Sequence[float] | np.ndarray) -> pd.DataFrame:
        """pstate and std_err at ``times``, one row per curve and time."""
        t = np.asarray(times, dtype=np.float64)
        frames = []
        for c in self.curves:
            p, se = c.at(t)
            df = pd.DataFrame({"stratum": c.stratum, "time": t})
            for j, s in enumerate(self.states):
                df[f"pstate_{s}"] = p[:, j]
                df[f"std_err_{s}"] = se[:, j]
            frames.append(df)
        return pd.concat(frames, ignore_index=True)

    def to_frame(self) -> pd.DataFrame:
        """Long table: stratum, time, n_risk, n_censor, then per state n_event, pstate, std_err."""
        frames = []
        for c in self.curves:
            df = pd.DataFrame(
                {"stratum": c.stratum, "time": c.time, "n_risk": c.n_risk[:, 0], "n_censor": c.n_censor}
            )
            for j, s in enumerate(self.states):
                df[f"n_event_{s}"] = c.n_event[:, j]
                df[f"pstate_{s}"] = c.pstate[:, j]
                df[f"std_err_{s}"] = c.std_err[:, j]
            frames.append(df)
        return pd.concat(frames, ignore_index=True)

    def summary(self, times: Sequence[float] | None = None) -> str:
        """Text like R's ``summary(survfit)`` for multi-state curves at ``times``."""
        lines: list[str] = []
        for c in self.curves:
            t = c.time if times is None else np.asarray(times, dtype=np.float64)
            p, se = c.at(t)
            lines.append(c.stratum if c.stratum else "(all)")
            head = f"{'time':>10}" + "".join(f"{'P(' + s + ')':>13}{'se':>11}" for s in self.states)
            lines.append(head)
            for i, ti in enumerate(t):
                row = f"{ti:>10.6g}" + "".join(
                    f"{p[i, j]:>13.6g}{se[i, j]:>11.4g}" for j in range(len(self.states))
                )
                lines.append(row)
            lines.append("")
        return "\n".join(lines).rstrip()


def _aj_one(
    time: np.ndarray, event_idx: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Aalen-Johansen estimate and IJ standard errors for one curve (data sorted by time).

    ``event_idx``: 0 censored, 1..k the cause. Steps:
      1. distinct times t_j: n_j at risk, d_kj per cause, c_j censored; S_j = prod(1 - d/n),
         F_kj = sum S_{i-1} d_ki / n_i;
      2. the influence R_j shared by everyone still at risk at t_j (derivative of
         p(t_j) = p(t_j-) T_j wrt a case weight through the at-risk count):
         R0_j = R0_{j-1} (1 - d_j/n_j) + S_{j-1} d_j/n_j^2,
         Rk_j = Rk_{j-1} + R0_{j-1} d_kj/n_j - S_{j-1} d_kj/n_j^2;
      3. a subject leaving at t_j has U = R_j, plus S_{j-1}/n_j (e_k - e_0) for a cause-k event;
      4. afterwards its influence moves with the estimate: with u = U0/S_j and
         v_k = U_k - u F_kj, U0(t) = u S(t) and U_k(t) = v_k + u F_k(t), so the sums of squares
         over departed subjects are cumulative sums of u^2, u v_k, v_k^2;
      5. Var(t_j) = departed before t_j (step 4) + departing at t_j (step 3) + the n_j - d_j - c_j
         remaining times R_j^2; std_err = sqrt(Var).
    """
    n = time.shape[0]
    starts = np.flatnonzero(np.r_[True, time[1:] != time[:-1]])
    ut = time[starts]
    nt = ut.shape[0]
    tid = np.repeat(np.arange(nt), np.diff(np.r_[starts, n]))
    counts = np.bincount(tid * (k + 1) + event_idx, minlength=nt * (k + 1)).reshape(nt, k + 1)
    counts = counts.astype(np.float64)
    cens = counts[:, 0]
    dk = counts[:, 1:]
    d = dk.sum(axis=1)
    nr = (n - starts).astype(np.float64)
    surv = np.cumprod(1.0 - d / nr)
    s_prev = np.r_[1.0, surv[:-1]]
    fk = np.cumsum(s_prev[:, None] * dk / nr[:, None], axis=0)

    # 2. shared at-risk influence
    with np.errstate(divide="ignore", invalid="ignore"):
        h = np.where(nr > d, d / (nr * (nr - d)), 0.0)
    r0_closed = surv * np.cumsum(h)  # valid while S > 0
    r0_prev = np.r_[0.0, r0_closed[:-1]]
    a = s_prev / nr
    r0 = r0_prev * (1.0 - d / nr) + a * d / nr
    rk_inc = (r0_prev / nr - a / nr)[:, None] * dk
    rk = np.cumsum(rk_inc, axis=0)

    # 3. departing at t_j: sums of U0^2, Uk^2, U0 Uk
    u0_ev = r0 - a  # U0 of any event
    dep00 = cens * r0**2 + d * u0_ev**2
    dep_kk = (cens + d)[:, None] * rk**2 + dk * ((rk + a[:, None]) ** 2 - rk**2)
    dep_0k = cens[:, None] * r0[:, None] * rk + (d[:, None] * rk + dk * a[:, None]) * u0_ev[:, None]

    # 4. departed: cumulative sums of u^2, u v_k, v_k^2 (S_j > 0 for all but a final time)
    pos = surv > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        inv_s = np.where(pos, 1.0 / surv, 0.0)
    su2 = dep00 * inv_s**2
    suv = dep_0k * inv_s[:, None] - dep00[:, None] * (fk * inv_s[:, None] ** 2)
    sv2 = dep_kk - 2.0 * fk * inv_s[:, None] * dep_0k + (fk * inv_s[:, None]) ** 2 * dep00[:, None]
    cu2 = np.r_[0.0, np.cumsum(su2)[:-1]]
    cuv = np.vstack([np.zeros((1, k)), np.cumsum(suv, axis=0)[:-1]])
    cv2 = np.vstack([np.zeros((1, k)), np.cumsum(sv2, axis=0)[:-1]])

    # 5. total
    remain = nr - d - cens
    var0 = surv**2 * cu2 + dep00 + remain * r0**2
    vark = cv2 + 2.0 * fk * cuv + fk**2 * cu2[:, None] + dep_kk + remain[:, None] * rk**2
    var = np.column_stack([var0, vark])
    se = np.sqrt(np.maximum(var, 0.0))
    pstate = np.column_stack([surv, fk])
    n_risk = np.zeros((nt, k + 1))
    n_risk[:, 0] = nr
    n_event = np.column_stack([np.zeros(nt), dk])
    return ut, n_risk, n_event, cens, pstate, se


@without_huge_page_hint
def aalen_johansen(
    time: Any,
    event: Any,
    *,
    group: Any = None,
    censor_code: int | str = 0,
    state_names: Sequence[str] | None = None,
    na_action: str = "raise",
) -> AalenJohansenResult:
    """Aalen-Johansen estimate for competing risks with IJ standard errors (R ``survfit``).

    ``event``: ``censor_code`` for censored, other integer codes (or labels, as R's factor) for
    the causes (states in sorted code order, or the labels' level order; ``state_names`` relabels them, e.g. ``("pcm", "death")``). One curve per
    level of ``group`` (R's ``strata`` label ``name=level``). Every distinct time (censoring
    times included) is a row, as in ``survfit``; times equal up to floating-point tolerance are
    merged first, as survfit's ``timefix``. Missing values raise unless ``na_action="drop"``.
    """
    data, causes, labels = validate_competing(time, event, group, None, censor_code, na_action)
    names = tuple(str(c) for c in labels) if state_names is None else tuple(state_names)
    if len(names) != len(causes):
        raise ValidationError(
            f"state_names has {len(names)} names but event has {len(causes)} causes {list(causes)}",
            field="state_names",
        )
    states = ("(s0)", *names)
    code_to_idx = {c: i + 1 for i, c in enumerate(causes)}
    ev_idx = np.zeros(data.n, dtype=np.int64)
    for c, i in code_to_idx.items():
        ev_idx[data.event == c] = i
    if data.group is None:
        gf: Factor | None = None
        gname = ""
    else:
        gf = data.group
        gname = getattr(group, "name", None) or "group"
    # survfit merges times equal up to floating-point tolerance (Surv's timefix, aeqSurv)
    fixed_time, _ = apply_timefix(np.asarray(data.time))
    order = np.argsort(fixed_time, kind="stable")
    t_sorted = fixed_time[order]
    e_sorted = ev_idx[order]
    curves: list[AalenJohansenCurve] = []
    if gf is None:
        parts = [("", np.ones(data.n, dtype=bool))]
    else:
        g_sorted = gf.codes[order]
        parts = [(f"{gname}={lab}", g_sorted == i) for i, lab in enumerate(gf.labels)]
    for label, sel in parts:
        ut, n_risk, n_event, cens, pstate, se = _aj_one(t_sorted[sel], e_sorted[sel], len(causes))
        curves.append(
            AalenJohansenCurve(
                stratum=label, states=states, time=ut, n_risk=n_risk, n_event=n_event,
                n_censor=cens, pstate=pstate, std_err=se,
            )
        )
    return AalenJohansenResult(
        curves=tuple(curves), states=states, n=data.n, n_dropped=data.n_dropped
    )
