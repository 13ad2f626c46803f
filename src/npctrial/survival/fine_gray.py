"""Fine-Gray proportional subdistribution hazards regression, as ``cmprsk::crr``.

Model (Fine JP & Gray RJ, JASA 1999;94:496-509): the subdistribution hazard of cause k is
``lambda_k(t | x) = lambda_k0(t) exp(x' beta)``. The pseudo partial likelihood uses, at each
time of a cause-k event, the risk set {T_j >= t} plus the subjects who failed from another
cause before t, weighted by ``G(t-) / G(T_j-)`` where G is the Kaplan-Meier estimate of the
censoring distribution. The variance is Fine & Gray's sandwich, including the estimation of G.

``cmprsk`` evaluates every risk set by a loop over all subjects (O(n^2) per iteration, O(n^2)
or worse for the variance in ``crrvv``). Here every sum over a risk set is a cumulative sum
over the sorted times, so a fit costs one sort plus O(n p^2) per Newton step, and the sandwich
variance O(n p^2).

Details that ``domain/statistics.md`` section 8 leaves out, taken from cmprsk 2.2-11
``R/cmprsk.R`` and ``src/crr.f`` (Gray, GPL):

* G(T_i-) is the censoring Kaplan-Meier (``survfit(Surv(ftime, cenind) ~ 1)``) read by
  ``approx(..., method="constant")`` at ``T_i (1 - 100 eps)``, i.e. its left limit;
* convergence: stop when ``max(|score| * max(|beta|, 1)) < max(|loglik|, 1) * gtol`` (gtol 1e-6,
  at most 10 Newton steps, at most 20 step halvings with the Armijo factor 1e-4);
* the sandwich middle term adds, for every subject, the censoring-martingale term psi_i built
  from q(u) (see :func:`_sandwich_middle`), not only the score residual eta_i.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from npctrial.errors import ConvergenceWarning, ValidationError
from npctrial.survival.confidence import check_conf_level

__all__ = ["FineGrayResult", "fine_gray"]

_EPS = np.finfo(np.float64).eps


# --------------------------------------------------------------------------------------------
# design matrix (R treatment contrasts for the categorical columns)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Design:
    terms: tuple[str, ...]
    covariates: tuple[str, ...]
    categorical: tuple[str, ...]
    levels: dict[str, tuple[Any, ...]]

    def matrix(self, frame: pd.DataFrame, *, where: str) -> np.ndarray:
        cols: list[np.ndarray] = []
        for cov in self.covariates:
            if cov not in frame.columns:
                raise ValidationError(f"{where} has no column {cov!r}", field=cov)
            col = frame[cov]
            if cov in self.categorical:
                levels = self.levels[cov]
                vals = col.to_numpy(dtype=object)
                known = pd.Series(vals).isin(list(levels)).to_numpy()
                if not known.all():
                    pos = int(np.flatnonzero(~known)[0])
                    raise ValidationError(
                        f"{cov} value {vals[pos]!r} in row {pos} of {where} is not one of the "
                        f"fitted levels {list(levels)!r}",
                        field=cov,
                        row=pos,
                    )
                for lv in levels[1:]:
                    cols.append((vals == lv).astype(np.float64))
            else:
                try:
                    arr = pd.to_numeric(col, errors="raise").to_numpy(dtype=np.float64)
                except (TypeError, ValueError):
                    raise ValidationError(
                        f"{cov} must be numeric (or listed in categorical=)", field=cov
                    ) from None
                cols.append(arr)
        return np.column_stack(cols) if cols else np.zeros((len(frame), 0))


def _build_design(frame: pd.DataFrame, covariates: Sequence[str], categorical: Sequence[str]) -> _Design:
    covs = tuple(covariates)
    cats = tuple(categorical)
    for c in cats:
        if c not in covs:
            raise ValidationError(f"categorical column {c!r} is not among the covariates", field=c)
    terms: list[str] = []
    levels: dict[str, tuple[Any, ...]] = {}
    for cov in covs:
        if cov in cats:
            col = frame[cov]
            if isinstance(col.dtype, pd.CategoricalDtype):
                lv = [v for v in col.cat.categories if (col == v).any()]
            else:
                lv = sorted(pd.unique(col.dropna()).tolist())
            if len(lv) < 2:
                raise ValidationError(f"categorical covariate {cov!r} has fewer than two levels", field=cov)
            levels[cov] = tuple(lv)
            terms += [f"{cov}{v}" for v in lv[1:]]
        else:
            terms.append(cov)
    return _Design(terms=tuple(terms), covariates=covs, categorical=cats, levels=levels)


# --------------------------------------------------------------------------------------------
# the numerical core (data sorted by time, x centred)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Prepared:
    time: np.ndarray  # sorted
    ici: np.ndarray  # 1 cause of interest, 2 other cause, 0 censored
    x: np.ndarray  # centred covariates, n x p
    g: np.ndarray  # G(T_i-), censoring KM just before each time
    ft: np.ndarray  # distinct cause-1 times
    fd: np.ndarray  # number of cause-1 events at each
    fg: np.ndarray  # G(t-) at each distinct cause-1 time
    f_start: np.ndarray  # first row with time >= t_k
    fail_rows: np.ndarray  # rows with ici == 1
    fail_k: np.ndarray  # distinct-time index of each failure row
    other: np.ndarray  # ici == 2 as float
    other_rows: np.ndarray  # rows with ici == 2
    x_other: np.ndarray  # their covariates
    g_other: np.ndarray  # their G(T-)
    other_cut: np.ndarray  # per distinct cause time: number of other-cause rows before it


def _censoring_km_left(time: np.ndarray, censored: np.ndarray) -> np.ndarray:
    """G(T_i-) as crr computes it: KM of the censoring times evaluated at T_i (1 - 100 eps).

    Steps: 1. distinct times u with n(u) at risk and c(u) censored; 2. G(u) = prod (1 - c/n);
    3. for each T_i the last u <= T_i (1 - 100 eps) (1 before the first), as R's approx() call.
    """
    n = time.shape[0]
    starts = np.flatnonzero(np.r_[True, time[1:] != time[:-1]])
    ut = time[starts]
    n_risk = (n - starts).astype(np.float64)
    c = np.add.reduceat(censored.astype(np.float64), starts)
    gk = np.cumprod(1.0 - c / n_risk)
    k = np.searchsorted(ut, time * (1.0 - 100.0 * _EPS), side="right") - 1
    return np.where(k >= 0, gk[np.maximum(k, 0)], 1.0)


def _prepare(time: np.ndarray, ici: np.ndarray, x: np.ndarray) -> _Prepared:
    g = _censoring_km_left(time, ici == 0)
    x = np.asfortranarray(x)
    fail_rows = np.flatnonzero(ici == 1)
    other_rows = np.flatnonzero(ici == 2)
    ft, fidx, fd = np.unique(time[fail_rows], return_inverse=True, return_counts=True)
    f_start = np.searchsorted(time, ft, side="left")
    fg = g[f_start]
    return _Prepared(
        time=time, ici=ici, x=x, g=g, ft=ft, fd=fd.astype(np.float64), fg=fg, f_start=f_start,
        fail_rows=fail_rows, fail_k=fidx.reshape(-1), other=(ici == 2).astype(np.float64),
        other_rows=other_rows, x_other=np.asfortranarray(x[other_rows]), g_other=g[other_rows],
        other_cut=np.searchsorted(other_rows, f_start, side="left"),
    )


def _segment_sums(pp: _Prepared, v: np.ndarray) -> np.ndarray:
    """Sums of ``v`` (n or n x p, rows sorted by time) over the m + 1 row segments cut at the
    first row of each distinct cause time: segment k holds the rows with exactly k cause times
    at or before their own time. One contiguous pass (``np.add.reduceat``)."""
    cuts = pp.f_start
    if cuts[0] == 0:  # the first segment is empty (reduceat would not give 0 for it)
        out = np.add.reduceat(v, cuts, axis=0)
        return np.concatenate([np.zeros((1, *v.shape[1:])), out], axis=0)
    return np.add.reduceat(v, np.r_[0, cuts], axis=0)


def _risk_sums(pp: _Prepared, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """S0(t_k) and S1(t_k) over the weighted Fine-Gray risk sets at the distinct cause times.

    S(t) = sum_{T_j >= t} w_j x_j + G(t-) sum_{T_j < t, other cause} w_j x_j / G(T_j-):
    segment sums (see :func:`_segment_sums`) then a suffix sum over segments k+1..m for the
    first term; a prefix sum over the other-cause rows only for the second.
    """
    a0 = _segment_sums(pp, w)
    a1 = _segment_sums(pp, pp.x * w[:, None])
    ow = w[pp.other_rows] / pp.g_other
    p = pp.x.shape[1]
    b0 = np.r_[0.0, np.cumsum(ow)][pp.other_cut]
    b1 = np.vstack([np.zeros((1, p)), np.cumsum(pp.x_other * ow[:, None], axis=0)])[pp.other_cut]
    s0 = np.cumsum(a0[::-1])[::-1][1:] + pp.fg * b0
    s1 = np.cumsum(a1[::-1], axis=0)[::-1][1:] + pp.fg[:, None] * b1
    return s0, s1


def _exp_eta(pp: _Prepared, beta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    eta = pp.x @ beta
    return eta, np.exp(eta)


def _objective(pp: _Prepared, beta: np.ndarray) -> float:
    """Minus the log pseudo partial likelihood (cmprsk ``crrf``)."""
    eta, w = _exp_eta(pp, beta)
    s0, _ = _risk_sums(pp, w)
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(-eta[pp.fail_rows].sum() + np.dot(pp.fd, np.log(s0)))


def _per_row_hazard_sums(pp: _Prepared, a_k: np.ndarray) -> np.ndarray:
    """For every row j: sum_{t_k <= T_j} a_k + 1{other cause} sum_{t_k > T_j} a_k G(t_k-)/G(T_j-).

    That is the sum of ``a_k`` over the distinct cause times whose risk set contains j, with
    j's Fine-Gray weight (``a_k`` may be a vector per time: shape (m,) or (m, q)).
    """
    kk = np.searchsorted(pp.ft, pp.time, side="right")  # number of t_k <= T_j
    a2 = a_k if a_k.ndim == 2 else a_k[:, None]
    q = a2.shape[1]
    cum = np.vstack([np.zeros((1, q)), np.cumsum(a2, axis=0)])
    ga = pp.fg[:, None] * a2
    rev = np.vstack([np.cumsum(ga[::-1], axis=0)[::-1], np.zeros((1, q))])
    out = cum[kk] + (pp.other / pp.g)[:, None] * rev[kk]
    return out if a_k.ndim == 2 else out[:, 0]


def _objective_grad_hess(pp: _Prepared, beta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Minus log pseudo-likelihood, its gradient and Hessian (cmprsk ``crrfsv``), vectorised.

    Hessian = sum_k d_k (S2_k / S0_k - xbar_k xbar_k'); the S2 part is rearranged per subject,
    sum_j w_j x_j x_j' sum_{k: j in R_k} weight_jk d_k / S0_k, so no n x p x p array is formed.
    """
    eta, w = _exp_eta(pp, beta)
    s0, s1 = _risk_sums(pp, w)
    xbar = s1 / s0[:, None]
    f = float(-eta[pp.fail_rows].sum() + np.dot(pp.fd, np.log(s0)))
    grad = -pp.x[pp.fail_rows].sum(axis=0) + pp.fd @ xbar
    return f, grad, _hessian(pp, w, s0, xbar)


def _hessian(pp: _Prepared, w: np.ndarray, s0: np.ndarray, xbar: np.ndarray) -> np.ndarray:
    """sum_k d_k (S2_k / S0_k - xbar_k xbar_k'), the S2 part summed per subject."""
    cj = _per_row_hazard_sums(pp, pp.fd / s0) * w
    return (pp.x * cj[:, None]).T @ pp.x - (xbar * pp.fd[:, None]).T @ xbar


def _sandwich_middle(
    pp: _Prepared, beta: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The information H, the middle matrix V2 = sum_i (eta_i + psi_i)(eta_i + psi_i)' and S0.

    Steps (cmprsk ``crrvv``, Fine & Gray 1999 section 3, each double loop replaced by cumulative
    sums over sorted times):
      1. eta_i = 1{cause} (x_i - xbar(T_i)) - w_i sum_{t_k <= T_i} d_k (x_i - xbar_k)/S0_k
         - 1{other cause} w_i/G_i sum_{t_k > T_i} d_k G_k (x_i - xbar_k)/S0_k;
      2. q(s) = A1(s) E(s) - A0(s) F(s) at each censoring time s, with
         A0, A1 = sum_{T_j < s, other cause} w_j (1, x_j)/G_j and
         E, F = sum_{t_k >= s} d_k G_k (1, xbar_k)/S0_k;
      3. psi_i = -sum_{censoring times s <= T_i} c(s) q(s)/n(s)^2 + 1{censored} q(T_i)/n(T_i);
      4. V2 = sum_i (eta_i + psi_i)(eta_i + psi_i)'.
    """
    n, p = pp.x.shape
    _, w = _exp_eta(pp, beta)
    s0, s1 = _risk_sums(pp, w)
    xbar = s1 / s0[:, None]
    hess = _hessian(pp, w, s0, xbar)

    # 1. eta
    a_k = pp.fd / s0
    b_k = xbar * a_k[:, None]
    kk = np.searchsorted(pp.ft, pp.time, side="right")
    cum_a = np.r_[0.0, np.cumsum(a_k)]
    cum_b = np.vstack([np.zeros((1, p)), np.cumsum(b_k, axis=0)])
    ga = pp.fg * a_k
    gb = pp.fg[:, None] * b_k
    rev_a = np.r_[np.cumsum(ga[::-1])[::-1], 0.0]
    rev_b = np.vstack([np.cumsum(gb[::-1], axis=0)[::-1], np.zeros((1, p))])
    eta = -w[:, None] * (pp.x * cum_a[kk][:, None] - cum_b[kk])
    ow = pp.other * w / pp.g
    eta -= ow[:, None] * (pp.x * rev_a[kk][:, None] - rev_b[kk])
    fr = pp.fail_rows
    eta[fr] += pp.x[fr] - xbar[pp.fail_k]

    # 2. q(s) at the distinct times with a censoring
    time = pp.time
    starts = np.flatnonzero(np.r_[True, time[1:] != time[:-1]])
    ut = time[starts]
    cens = np.add.reduceat((pp.ici == 0).astype(np.float64), starts)
    n_risk = (n - starts).astype(np.float64)
    has_c = cens > 0
    sc = starts[has_c]
    a0 = np.r_[0.0, np.cumsum(ow)][sc]
    a1 = np.vstack([np.zeros((1, p)), np.cumsum(ow[:, None] * pp.x, axis=0)])[sc]
    kge = np.searchsorted(pp.ft, ut[has_c], side="left")  # first t_k >= s
    e_rev = np.r_[np.cumsum(ga[::-1])[::-1], 0.0][kge]
    f_rev = np.vstack([np.cumsum(gb[::-1], axis=0)[::-1], np.zeros((1, p))])[kge]
    q = a1 * e_rev[:, None] - a0[:, None] * f_rev

    # 3. psi
    nr_c = n_risk[has_c]
    # ss2 with a leading zero row: row 0 = before the first censoring time
    ss2 = np.vstack([np.zeros((1, p)), -np.cumsum(q * (cens[has_c] / nr_c**2)[:, None], axis=0)])
    # for row i: number of censoring times <= T_i (0: none, psi has no ss2 part)
    ci = np.searchsorted(ut[has_c], time, side="right")
    psi = ss2[ci]
    cr = np.flatnonzero(pp.ici == 0)
    psi[cr] += q[ci[cr] - 1] / nr_c[ci[cr] - 1][:, None]  # a censored row's own time

    u = eta + psi
    return hess, u.T @ u, s0


def _newton(
    pp: _Prepared, init: np.ndarray, gtol: float, max_iter: int
) -> tuple[np.ndarray, float, np.ndarray, bool, int]:
    """Newton-Raphson with backtracking, exactly as ``crr``'s R loop.

    Steps: for ll = 0..max_iter: 1. f, gradient, Hessian at b; 2. stop when
    max(|grad| * max(|b|, 1)) < max(|f|, 1) * gtol; 3. step sc = -H^-1 grad; 4. halve sc until
    f(b + sc) <= f(b) + 1e-4 sc'grad (at most 20 halvings, else not converged).
    """
    b = init.astype(np.float64).copy()
    converged = False
    iterations = 0
    f, grad = 0.0, np.zeros_like(b)
    for ll in range(max_iter + 1):
        f, grad, hess = _objective_grad_hess(pp, b)
        iterations = ll
        if np.max(np.abs(grad) * np.maximum(np.abs(b), 1.0), initial=0.0) < max(abs(f), 1.0) * gtol:
            converged = True
            break
        if ll == max_iter:
            break
        try:
            sc = -np.linalg.solve(hess, grad)
        except np.linalg.LinAlgError:
            break
        bn = b + sc
        fbn = _objective(pp, bn)
        i = 0
        while not np.isfinite(fbn) or fbn > f + 1e-4 * float(np.dot(sc, grad)):
            i += 1
            sc = sc * 0.5
            bn = b + sc
            fbn = _objective(pp, bn)
            if i > 20:
                break
        if i > 20:
            break
        b = bn
    return b, f, grad, converged, iterations


# --------------------------------------------------------------------------------------------
# result
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FineGrayResult:
    """A Fine-Gray fit (``cmprsk::crr``).

    ``coef``, ``se`` (sqrt of the sandwich ``var``), ``z``, ``p`` (two-sided normal),
    ``conf_int`` (exp(coef) CI at ``conf_level``), ``loglik`` / ``loglik_null`` (pseudo
    log-likelihood at the estimate and at 0), ``lr_stat``, ``information`` (minus the Hessian),
    ``converged``, ``iterations``, ``n``, ``n_missing``; ``baseline_time``/``baseline_jump``
    (jumps of the baseline cumulative subdistribution hazard, cmprsk's ``uftime``/``bfitj``).
    """

    terms: tuple[str, ...]
    coef: np.ndarray
    se: np.ndarray
    z: np.ndarray
    p: np.ndarray
    conf_int: np.ndarray
    var: np.ndarray
    information: np.ndarray
    loglik: float
    loglik_null: float
    converged: bool
    iterations: int
    n: int
    n_missing: int
    n_events: int
    cause: Any
    conf_level: float
    baseline_time: np.ndarray
    baseline_jump: np.ndarray
    _design: _Design

    @property
    def hazard_ratio(self) -> np.ndarray:
        return np.exp(self.coef)

    @property
    def lr_stat(self) -> float:
        return 2.0 * (self.loglik - self.loglik_null)

    @property
    def lr_p(self) -> float:
        return float(stats.chi2.sf(self.lr_stat, len(self.coef)))

    def to_frame(self) -> pd.DataFrame:
        """One row per term: coef, exp_coef, se, z, p, lower, upper (CI for exp(coef))."""
        return pd.DataFrame(
            {"coef": self.coef, "exp_coef": self.hazard_ratio, "se": self.se, "z": self.z,
             "p": self.p, "lower": self.conf_int[:, 0], "upper": self.conf_int[:, 1]},
            index=pd.Index(self.terms, name="term"),
        )

    def summary(self) -> str:
        """Text laid out like R's ``summary(crr)``."""
        pct = 100 * (1 - self.conf_level) / 2
        lines = ["Competing Risks Regression (Fine-Gray)", ""]
        lines.append(f"{'':>12}{'coef':>11}{'exp(coef)':>11}{'se(coef)':>11}{'z':>9}{'p-value':>10}")
        for t, b, se, z, p in zip(self.terms, self.coef, self.se, self.z, self.p, strict=True):
            lines.append(f"{t:>12}{b:>11.4g}{np.exp(b):>11.4g}{se:>11.4g}{z:>9.3g}{p:>10.2g}")
        lines.append("")
        lines.append(
            f"{'':>12}{'exp(coef)':>11}{'exp(-coef)':>11}{f'{pct:.3g}%':>9}{f'{100 - pct:.3g}%':>9}"
        )
        for t, b, (lo, hi) in zip(self.terms, self.coef, self.conf_int, strict=True):
            lines.append(f"{t:>12}{np.exp(b):>11.4g}{np.exp(-b):>11.4g}{lo:>9.3g}{hi:>9.3g}")
        lines.append("")
        miss = f" ({self.n_missing} cases omitted due to missing values)" if self.n_missing else ""
        lines.append(f"Num. cases = {self.n}{miss}")
        lines.append(f"Pseudo Log-likelihood = {self.loglik:.6g}")
        lines.append(f"Pseudo likelihood ratio test = {self.lr_stat:.2f}  on {len(self.coef)} df,")
        if not self.converged:
            lines.append("crr did not converge")
        return "\n".join(lines)

    def predict_cumulative_incidence(self, newdata: pd.DataFrame) -> pd.DataFrame:
        """Predicted cumulative incidence of the cause for each row of ``newdata`` (``predict.crr``).

        F(t | x) = 1 - exp(-sum_{t_k <= t} exp(x' beta) dLambda0(t_k)), at the distinct cause
        times. Returns a frame indexed by time with one column per row of ``newdata``.
        """
        if not isinstance(newdata, pd.DataFrame):
            raise ValidationError("newdata must be a pandas DataFrame", field="newdata")
        x = self._design.matrix(newdata, where="newdata")
        bad = ~np.isfinite(x).all(axis=1)
        if bad.any():
            pos = int(np.flatnonzero(bad)[0])
            raise ValidationError(f"newdata row {pos} has a missing covariate", field="newdata", row=pos)
        risk = np.exp(x @ self.coef)
        cumhaz = np.cumsum(self.baseline_jump)[:, None] * risk[None, :]
        return pd.DataFrame(
            1.0 - np.exp(-cumhaz),
            index=pd.Index(self.baseline_time, name="time"),
            columns=list(newdata.index),
        )


# --------------------------------------------------------------------------------------------
# public entry point
# --------------------------------------------------------------------------------------------


def fine_gray(
    data: pd.DataFrame,
    duration: str,
    event: str,
    covariates: Sequence[str],
    *,
    cause: Any = 1,
    censor_code: Any = 0,
    categorical: Sequence[str] = (),
    conf_level: float = 0.95,
    gtol: float = 1e-6,
    max_iter: int = 10,
    init: Sequence[float] | None = None,
) -> FineGrayResult:
    """Fit the Fine-Gray model for ``cause`` (``cmprsk::crr(ftime, fstatus, cov1, failcode,
    cencode)``); every other non-censoring code is a competing cause.

    Rows with a missing value in a used column are dropped (R's na.omit) and counted in
    ``n_missing``. Categorical covariates use treatment contrasts (sorted levels, the first is
    the reference; a pandas Categorical keeps its category order).

    Steps: 1. validate, drop missing rows, build the design matrix and sort by time (stable);
    2. G(T-) from the censoring KM; 3. Newton-Raphson with backtracking from ``init`` (0) with
    crr's convergence rule (``gtol``, ``max_iter``); 4. Fine & Gray's sandwich variance
    H^-1 V2 H^-1; 5. baseline jumps d_k / S0(t_k) for prediction.
    """
    if not isinstance(data, pd.DataFrame):
        raise ValidationError("data must be a pandas DataFrame", field="data")
    covs = [covariates] if isinstance(covariates, str) else list(covariates)
    if not covs:
        raise ValidationError("covariates must name at least one column", field="covariates")
    for col in [duration, event, *covs]:
        if col not in data.columns:
            raise ValidationError(f"data has no column {col!r}", field=col)
    check_conf_level(conf_level)
    used = data[[duration, event, *covs]]
    complete = used.notna().all(axis=1).to_numpy()
    n_missing = int((~complete).sum())
    frame = data if complete.all() else data.loc[complete]
    if len(frame) == 0:
        raise ValidationError("no rows left after dropping rows with missing values", field="data")
    design = _build_design(frame, covs, categorical)
    x = design.matrix(frame, where="data")
    try:
        t = pd.to_numeric(frame[duration], errors="raise").to_numpy(dtype=np.float64)
    except (TypeError, ValueError):
        raise ValidationError(f"{duration} must be numeric", field=duration) from None
    bad = ~np.isfinite(t) | (t < 0)
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        raise ValidationError(
            f"{duration} must be finite and >= 0; row {pos} is {t[pos]!r}", field=duration, row=pos
        )
    ev = frame[event].to_numpy()
    is_cause = ev == cause
    is_cens = ev == censor_code
    if not is_cause.any():
        raise ValidationError(f"{event} has no event of cause {cause!r}", field=event)
    if not np.isfinite(x).all():
        r, c = np.argwhere(~np.isfinite(x))[0]
        raise ValidationError(f"covariate {design.terms[c]!r} is not finite in row {r}", field=design.terms[c], row=int(r))
    p = x.shape[1]
    const = np.ptp(x, axis=0) == 0
    if const.any():
        name = design.terms[int(np.flatnonzero(const)[0])]
        raise ValidationError(f"covariate {name!r} is constant", field=name)
    xc_full = x - x.mean(axis=0)  # centred: same fit, better conditioned sums
    scaled = xc_full / np.sqrt((xc_full**2).mean(axis=0))
    if p > 1 and np.linalg.matrix_rank(scaled.T @ scaled / scaled.shape[0]) < p:
        raise ValidationError(f"covariates {list(design.terms)} are collinear", field="covariates")

    order = np.argsort(t, kind="stable")
    t = t[order]
    ici = np.where(is_cause, 1, np.where(is_cens, 0, 2))[order]
    means = x.mean(axis=0)
    xc = xc_full[order]
    pp = _prepare(t, ici, xc)

    b0 = np.zeros(p) if init is None else np.asarray(init, dtype=np.float64)
    if b0.shape != (p,):
        raise ValidationError(f"init must have length {p}, got {b0.shape}", field="init")
    beta, f, _grad, converged, iterations = _newton(pp, b0, gtol, max_iter)
    if not converged:
        warnings.warn(
            f"Fine-Gray fit did not converge in {max_iter} iterations (gtol {gtol})",
            ConvergenceWarning,
            stacklevel=2,
        )
    hess, v2, s0 = _sandwich_middle(pp, beta)
    hinv = np.linalg.inv(hess)
    var = hinv @ v2 @ hinv.T
    se = np.sqrt(np.diag(var))
    z = beta / se
    pval = 2.0 * stats.norm.sf(np.abs(z))
    q = stats.norm.ppf(1 - (1 - conf_level) / 2)
    ci = np.column_stack([np.exp(beta - q * se), np.exp(beta + q * se)])
    jump = pp.fd / s0 * np.exp(-float(means @ beta))
    return FineGrayResult(
        terms=design.terms,
        coef=beta,
        se=se,
        z=z,
        p=pval,
        conf_int=ci,
        var=var,
        information=hess,
        loglik=-f,
        loglik_null=-_objective(pp, np.zeros(p)),
        converged=converged,
        iterations=iterations,
        n=int(t.shape[0]),
        n_missing=n_missing,
        n_events=int(is_cause.sum()),
        cause=cause,
        conf_level=conf_level,
        baseline_time=pp.ft,
        baseline_jump=jump,
        _design=design,
    )
