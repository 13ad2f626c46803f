"""Literal Python transliterations of cmprsk 2.2's Fortran loops (Robert Gray, GPL).

Used as independent oracles for the vectorised implementations on data the R references do
not cover (three groups, strata, rho = 1, three causes, ties, curves ending at S = 0) and by
``benchmarks/bench_competing_risks.py`` as the quadratic-loop peer. Indices follow the
Fortran (1-based in comments, 0-based in code); no vectorisation on purpose.
"""

from __future__ import annotations

import numpy as np


def cinc(y: np.ndarray, ic: np.ndarray, icc: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """cincsub.f ``cinc``: y sorted; ic any failure; icc failure of the cause."""
    n = len(y)
    x, f, v = [0.0], [0.0], [0.0]
    fk = 1.0
    v1 = v2 = v3 = 0.0
    rs = float(n)
    ll = 0
    while ll < n:
        last = ll
        while last + 1 < n and y[last + 1] == y[ll]:
            last += 1
        nd1 = int(sum(icc[ll : last + 1]))
        nd2 = int(sum(ic[ll : last + 1])) - nd1
        nd = nd1 + nd2
        if nd > 0:
            fkn = fk * (rs - nd) / rs
            if nd1 > 0:
                f.append(f[-1])
                f.append(f[-1] + fk * nd1 / rs)
            if nd2 > 0 and fkn > 0:
                t5 = 1.0 if nd2 <= 1 else 1 - (nd2 - 1.0) / (rs - 1.0)
                t6 = fk * fk * t5 * nd2 / (rs * rs)
                t3 = 1.0 / fkn
                t4 = f[-1] / fkn
                v1 += t4 * t4 * t6
                v2 += t3 * t4 * t6
                v3 += t3 * t3 * t6
            if nd1 > 0:
                t5 = 1.0 if nd1 <= 1 else 1 - (nd1 - 1.0) / (rs - 1.0)
                t6 = fk * fk * t5 * nd1 / (rs * rs)
                t3 = 1.0 / fkn if fkn > 0 else 0.0
                t4 = 1 + t3 * f[-1]
                v1 += t4 * t4 * t6
                v2 += t3 * t4 * t6
                v3 += t3 * t3 * t6
                t2 = f[-1]
                x.append(y[last])
                x.append(y[last])
                v.append(v[-1])
                v.append(v1 + t2 * t2 * v3 - 2 * t2 * v2)
            fk = fkn
        rs = n - (last + 1)
        ll = last + 1
    x.append(y[-1])
    f.append(f[-1])
    v.append(v[-1])
    return np.array(x), np.array(f), np.array(v)


def crst(y: np.ndarray, m: np.ndarray, ig: np.ndarray, ng: int, rho: float) -> tuple[np.ndarray, np.ndarray]:
    """crstm.f ``crst`` for one stratum: y sorted, m in {0,1,2}, ig in 0..ng-1."""
    n = len(y)
    ng1 = ng - 1
    rs = np.bincount(ig, minlength=ng).astype(float)
    s = np.zeros(ng1)
    v = np.zeros((ng1, ng1))
    f1m = np.zeros(ng)
    f1 = np.zeros(ng)
    skmm = np.ones(ng)
    skm = np.ones(ng)
    v3 = np.zeros(ng)
    v2 = np.zeros((ng1, ng))
    c = np.zeros((ng, ng))
    a = np.zeros((ng, ng))
    fm = f = 0.0
    ll = 0
    while True:
        lu = ll
        while lu + 1 < n and y[lu + 1] <= y[ll]:
            lu += 1
        d = np.zeros((3, ng))
        for i in range(ll, lu + 1):
            d[m[i], ig[i]] += 1
        nd1 = d[1].sum()
        nd2 = d[2].sum()
        if nd1 > 0 or nd2 > 0:
            tr = tq = 0.0
            for i in range(ng):
                if rs[i] <= 0:
                    continue
                td = d[1, i] + d[2, i]
                skm[i] = skmm[i] * (rs[i] - td) / rs[i]
                f1[i] = f1m[i] + skmm[i] * d[1, i] / rs[i]
                tr += rs[i] / skmm[i]
                tq += rs[i] * (1 - f1m[i]) / skmm[i]
            f = fm + nd1 / tr
            fb = (1 - fm) ** rho
            for i in range(ng):
                for j in range(i, ng):
                    a[i, j] = 0.0
                if rs[i] <= 0:
                    continue
                t1 = rs[i] / skmm[i]
                a[i, i] = fb * t1 * (1 - t1 / tr)
                if a[i, i] != 0:
                    c[i, i] += a[i, i] * nd1 / (tr * (1 - fm))
                for j in range(i + 1, ng):
                    if rs[j] <= 0:
                        continue
                    a[i, j] = -fb * t1 * rs[j] / (skmm[j] * tr)
                    if a[i, j] != 0:
                        c[i, j] += a[i, j] * nd1 / (tr * (1 - fm))
            for i in range(1, ng):
                for j in range(i):
                    a[i, j] = a[j, i]
                    c[i, j] = c[j, i]
            for i in range(ng1):
                if rs[i] <= 0:
                    continue
                s[i] += fb * (d[1, i] - nd1 * rs[i] * (1 - f1m[i]) / (skmm[i] * tq))
            if nd1 > 0:
                for k in range(ng):
                    if rs[k] <= 0:
                        continue
                    t4 = 1 - (1 - f) / skm[k] if skm[k] > 0 else 1.0
                    t5 = 1 - (nd1 - 1) / (tr * skmm[k] - 1) if nd1 > 1 else 1.0
                    t3 = t5 * skmm[k] * nd1 / (tr * rs[k])
                    v3[k] += t4 * t4 * t3
                    for i in range(ng1):
                        t1 = a[i, k] - t4 * c[i, k]
                        v2[i, k] += t1 * t4 * t3
                        for j in range(i + 1):
                            t2 = a[j, k] - t4 * c[j, k]
                            v[i, j] += t1 * t2 * t3
            if nd2 > 0:
                for k in range(ng):
                    if skm[k] <= 0 or d[2, k] <= 0:
                        continue
                    t4 = (1 - f) / skm[k]
                    t5 = 1 - (d[2, k] - 1.0) / (rs[k] - 1.0) if d[2, k] > 1 else 1.0
                    t3 = t5 * skmm[k] ** 2 * d[2, k] / rs[k] ** 2
                    v3[k] += t4 * t4 * t3
                    for i in range(ng1):
                        t1 = t4 * c[i, k]
                        v2[i, k] -= t1 * t4 * t3
                        for j in range(i + 1):
                            t2 = t4 * c[j, k]
                            v[i, j] += t1 * t2 * t3
        if lu >= n - 1:
            break
        for i in range(ll, lu + 1):
            rs[ig[i]] -= 1
        fm = f
        f1m = f1.copy()
        skmm = skm.copy()
        ll = lu + 1
    for i in range(ng1):
        for j in range(i + 1):
            for k in range(ng):
                v[i, j] += c[i, k] * c[j, k] * v3[k] + c[i, k] * v2[j, k] + c[j, k] * v2[i, k]
    for i in range(ng1):
        for j in range(i):
            v[j, i] = v[i, j]
    return s, v


def gray_stat(
    y: np.ndarray, event: np.ndarray, group: np.ndarray, strata: np.ndarray, cause: int, rho: float
) -> tuple[float, np.ndarray, np.ndarray]:
    """crstm.f for one cause over strata (y need not be sorted). Returns (stat, s, v)."""
    order = np.argsort(y, kind="stable")
    y, event, group, strata = y[order], event[order], group[order], strata[order]
    m = np.where(event == 0, 0, np.where(event == cause, 1, 2))
    ng = int(group.max()) + 1
    s = np.zeros(ng - 1)
    v = np.zeros((ng - 1, ng - 1))
    for k in np.unique(strata):
        sel = strata == k
        sk, vk = crst(y[sel], m[sel], group[sel], ng, rho)
        s += sk
        v += vk
    return float(s @ np.linalg.solve(v, s)), s, v


# ------------------------------------------------------------------------------------------
# crr.f (single censoring group, no time-varying covariates)
# ------------------------------------------------------------------------------------------


def censoring_left_km(t2: np.ndarray, ici: np.ndarray) -> np.ndarray:
    """crr's ``uuu``: censoring KM (product over every distinct time) at t (1 - 100 eps)."""
    eps = np.finfo(float).eps
    ut = np.unique(t2)
    surv = []
    g = 1.0
    for u in ut:
        nrisk = np.sum(t2 >= u)
        c = np.sum((t2 == u) & (ici == 0))
        g *= 1 - c / nrisk
        surv.append(g)
    out = np.empty(len(t2))
    for i, t in enumerate(t2):
        xo = t * (1 - 100 * eps)
        val = 1.0
        for u, s in zip(ut, surv, strict=True):
            if u <= xo:
                val = s
        out[i] = val
    return out


def _risk(t2, ici, x, wt, b, iuc):
    """Risk-set sums at the failure time of row iuc: (S0, S1, S2)."""
    n, p = x.shape
    cft = t2[iuc]
    s0 = 0.0
    s1 = np.zeros(p)
    s2 = np.zeros((p, p))
    for i in range(n):
        if t2[i] < cft:
            if ici[i] <= 1:
                continue
            twt = np.exp(x[i] @ b) * wt[iuc] / wt[i]
        else:
            twt = np.exp(x[i] @ b)
        s0 += twt
        s1 += twt * x[i]
        s2 += twt * np.outer(x[i], x[i])
    return s0, s1, s2


def crrfsv(t2, ici, x, wt, b):
    """Minus log-likelihood, its gradient and Hessian (t2 sorted)."""
    n, p = x.shape
    lik = 0.0
    s = np.zeros(p)
    v = np.zeros((p, p))
    for cft in np.unique(t2[ici == 1]):
        rows = np.flatnonzero((t2 == cft) & (ici == 1))
        iuc = rows[0]
        s0, s1, s2 = _risk(t2, ici, x, wt, b, iuc)
        d = len(rows)
        lik += -sum(x[i] @ b for i in rows) + d * np.log(s0)
        s += -x[rows].sum(axis=0) + d * s1 / s0
        v += d * (s2 / s0 - np.outer(s1, s1) / s0**2)
    return lik, s, v


def crrvv(t2, ici, x, wt, b):
    """Information v and the middle matrix v2 of the sandwich (cmprsk crrvv), as loops."""
    n, p = x.shape
    xb = np.zeros((n, p + 1))
    for i in range(n):
        if ici[i] != 1:
            continue
        s0, s1, _ = _risk(t2, ici, x, wt, b, i)
        xb[i, 0] = s0
        xb[i, 1:] = s1
    v = np.zeros((p, p))
    v2 = np.zeros((p, p))
    ss2 = np.zeros(p)
    qu = np.zeros(p)
    icrsk = float(n)
    lc = 0
    for i in range(n):
        st1 = np.zeros(p)
        for j in range(n):
            if ici[j] != 1:
                continue
            if t2[j] <= t2[i]:
                twt = np.exp(x[i] @ b)
            elif t2[i] < t2[j] and ici[i] > 1:
                twt = np.exp(x[i] @ b) * wt[j] / wt[i]
            else:
                continue
            st1 -= (x[i] - xb[j, 1:] / xb[j, 0]) * twt / xb[j, 0]
        if ici[i] == 1:
            st1 += x[i] - xb[i, 1:] / xb[i, 0]
            _, _, s2 = _risk(t2, ici, x, wt, b, i)
            xbar = xb[i, 1:] / xb[i, 0]
            v += s2 / xb[i, 0] - np.outer(xbar, xbar)
        first = i == 0 or t2[i] > t2[i - 1]
        if first:
            block = [j for j in range(i, n) if t2[j] == t2[i]]
            if any(ici[j] == 0 for j in block):
                qu = np.zeros(p)
                for j1 in range(lc, n):
                    if ici[j1] != 1:
                        continue
                    ss4 = 0.0
                    ss3 = np.zeros(p)
                    for j2 in range(n):
                        if t2[j2] >= t2[i]:
                            break
                        if ici[j2] <= 1:
                            continue
                        twt = np.exp(x[j2] @ b) * wt[j1] / wt[j2]
                        ss4 += twt
                        ss3 += x[j2] * twt
                    qu += (ss3 - xb[j1, 1:] * ss4 / xb[j1, 0]) / xb[j1, 0]
                for j in block:
                    if ici[j] == 0:
                        ss2 -= qu / icrsk**2
        st2 = ss2.copy()
        if ici[i] == 0:
            st2 += qu / icrsk
        u = st1 + st2
        v2 += np.outer(u, u)
        if i < n - 1 and t2[i + 1] > t2[i]:
            icrsk -= i + 1 - lc
            lc = i + 1
    return v, v2


def crr_fit(time, status, x, cause=1, cencode=0, gtol=1e-6, maxiter=10):
    """The whole of ``crr`` (Newton with backtracking, sandwich variance, baseline jumps)."""
    order = np.argsort(time, kind="stable")
    t2 = np.asarray(time, float)[order]
    st = np.asarray(status)[order]
    x = np.asarray(x, float)[order]
    ici = np.where(st == cause, 1, np.where(st == cencode, 0, 2))
    wt = censoring_left_km(t2, ici)
    p = x.shape[1]
    b = np.zeros(p)
    converged = False
    for ll in range(maxiter + 1):
        f, g, h = crrfsv(t2, ici, x, wt, b)
        if np.max(np.abs(g) * np.maximum(np.abs(b), 1)) < max(abs(f), 1) * gtol:
            converged = True
            break
        if ll == maxiter:
            break
        sc = -np.linalg.solve(h, g)
        bn = b + sc
        fbn = crrfsv(t2, ici, x, wt, bn)[0]
        i = 0
        while np.isnan(fbn) or fbn > f + 1e-4 * np.sum(sc * g):
            i += 1
            sc = sc * 0.5
            bn = b + sc
            fbn = crrfsv(t2, ici, x, wt, bn)[0]
            if i > 20:
                break
        if i > 20:
            break
        b = bn
    v, v2 = crrvv(t2, ici, x, wt, b)
    hinv = np.linalg.inv(v)
    var = hinv @ v2 @ hinv.T
    uft = np.unique(t2[ici == 1])
    bfitj = []
    for cft in uft:
        rows = np.flatnonzero((t2 == cft) & (ici == 1))
        s0, _, _ = _risk(t2, ici, x, wt, b, rows[0])
        bfitj.append(len(rows) / s0)
    return {
        "coef": b, "var": var, "loglik": -f, "loglik_null": -crrfsv(t2, ici, x, wt, np.zeros(p))[0],
        "converged": converged, "uftime": uft, "bfitj": np.array(bfitj),
    }
