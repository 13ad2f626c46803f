"""A synthetic 530-patient cohort shaped like Chen et al. (2016), for demos and tests.

Every margin of the paper's Table 1 is reproduced exactly within each metastasis group, the
T x N table of each group is solved so that 7th-edition stage groups also match, toxicity
grade counts equal Tables 2-3, and times are drawn so that the cumulative metastatic rates at
1/2/3 years (35/91, 64/91, 87/91) hold exactly and survival rates are close to those reported.
Source: Chen X, Lei H, Liang Z, Li L, Qu S, Zhu X. Intensity-modulated radiotherapy controls
nasopharyngeal carcinoma distant metastasis and improves survival of patients.
SpringerPlus 2016;5:1459 (Tables 1-4, Results).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import Bounds, LinearConstraint, milp

T_CATS = ("T1", "T2", "T3", "T4")
N_CATS = ("N0", "N1", "N2", "N3")

#: Table 1 counts as (metastasis yes, metastasis no) per level.
TABLE1: dict[str, dict[str, tuple[int, int]]] = {
    "age_group": {">=44": (52, 222), "<44": (39, 217)},
    "sex": {"Male": (70, 324), "Female": (21, 115)},
    "who_group": {"I-II": (46, 223), "III": (45, 216)},
    "t_stage": {"T1": (5, 59), "T2": (24, 131), "T3": (28, 140), "T4": (34, 109)},
    "n_stage": {"N0": (3, 65), "N1": (24, 170), "N2": (57, 184), "N3": (7, 20)},
    "stage": {"I": (0, 21), "II": (9, 105), "III": (42, 189), "IVA-B": (40, 124)},
    "treatment": {"RT alone": (5, 52), "Chemoradiotherapy": (86, 387)},
    "recurrence": {"Yes": (15, 39), "No": (76, 400)},
}

#: Tables 2 (acute) and 3 (late): patients per grade 0..4.
TOXICITY: dict[str, tuple[int, int, int, int, int]] = {
    "acute_mucositis": (0, 130, 239, 161, 0),
    "acute_xerostomia": (27, 294, 209, 0, 0),
    "acute_leukopenia": (34, 152, 319, 25, 0),
    "late_xerostomia": (42, 365, 120, 3, 0),
    "late_hearing_loss": (506, 16, 6, 2, 0),
    "late_brain_injury": (495, 27, 5, 1, 2),
}

#: Metastatic sites of the 91 patients (Results).
SITES = {"Multiple": 33, "Lung": 21, "Bone": 18, "Liver": 13, "Other": 6}
#: Chemotherapy schedules of the 473 chemoradiotherapy patients (Methods).
SCHEDULES = {"CCT": 122, "NACT+CCT": 41, "CCT+AC": 251, "NACT+CCT+AC": 37, "NACT or AC": 22}
#: Patients metastatic within (0,12], (12,24], (24,36], (36,44] months: 35, 29, 23, 4 (Results).
METASTASIS_INTERVALS = ((1.0, 12.0, 35), (12.0, 24.0, 29), (24.0, 36.0, 23), (36.0, 44.0, 4))

ACCRUAL = (pd.Timestamp("2006-06-01"), pd.Timestamp("2011-12-31"))
DATA_CUTOFF = pd.Timestamp("2014-08-31")


def _stage7(t: str, n: str) -> str:
    """AJCC/UICC 7th edition stage group of NPC for M0 (Edge et al. 2010), with IVA and IVB merged."""
    if n == "N3" or t == "T4":
        return "IVA-B"
    if n == "N2" or t == "T3":
        return "III"
    if t == "T1" and n == "N0":
        return "I"
    return "II"


@dataclass(frozen=True)
class _Group:
    t: dict[str, int]
    n: dict[str, int]
    stage: dict[str, int]


def solve_t_by_n(t_counts: dict[str, int], n_counts: dict[str, int], stage_counts: dict[str, int]) -> np.ndarray:
    """Integer T x N table with the given margins and 7th-edition stage-group counts.

    A small integer program (scipy.optimize.milp, HiGHS): 16 non-negative integer cells; equality
    constraints for the 4 T totals, 4 N totals and 4 stage totals; objective: the L1 distance to
    the independence table (via 16 auxiliary variables), so the solution is the most
    "ordinary" table satisfying every published margin.
    """
    cells = [(t, n) for t in T_CATS for n in N_CATS]
    nc = len(cells)
    total = sum(t_counts.values())
    expected = np.array([t_counts[t] * n_counts[n] / total for t, n in cells])
    a_rows, b = [], []
    for t in T_CATS:
        a_rows.append([1.0 if c[0] == t else 0.0 for c in cells] + [0.0] * nc)
        b.append(t_counts[t])
    for n in N_CATS:
        a_rows.append([1.0 if c[1] == n else 0.0 for c in cells] + [0.0] * nc)
        b.append(n_counts[n])
    for s, k in stage_counts.items():
        a_rows.append([1.0 if _stage7(*c) == s else 0.0 for c in cells] + [0.0] * nc)
        b.append(k)
    eq = LinearConstraint(np.array(a_rows), b, b)
    # |x - e| <= d  <=>  x - d <= e  and  -x - d <= -e
    ident = np.eye(nc)
    abs_c = LinearConstraint(np.block([[ident, -ident], [-ident, -ident]]),
                             -np.inf, np.r_[expected, -expected])
    cost = np.r_[np.zeros(nc), np.ones(nc)]
    res = milp(cost, constraints=[eq, abs_c], integrality=np.r_[np.ones(nc), np.zeros(nc)],
               bounds=Bounds(0, np.inf))
    if not res.success:
        raise RuntimeError("no T x N table satisfies the published margins")
    return np.round(res.x[:nc]).astype(int).reshape(len(T_CATS), len(N_CATS))


def _labels(counts: dict[str, int], rng: np.random.Generator) -> np.ndarray:
    out = np.concatenate([np.repeat(np.array([k], dtype=object), v) for k, v in counts.items()])
    return rng.permutation(out)


def make_demo_cohort(seed: int = 1) -> pd.DataFrame:
    """The synthetic cohort as a raw spreadsheet-like frame (dates as ISO text).

    Steps: (1) per metastasis group, solve the T x N table (:func:`solve_t_by_n`) and expand
    it to patients; (2) assign age group, sex, histology, recurrence by random permutation of
    exact counts; treatment preferring early stages for RT alone (39 of 57 RT-alone patients
    are stage I-II, Methods); (3) toxicity grades by permutation of Tables 2-3 counts;
    (4) metastasis times in the published 1/2/3-year intervals, post-metastasis survival
    exponential with hazard lowered by a longer remission and by chemoradiotherapy (Table 4
    directions), other deaths at a constant hazard giving about 93 % 5-year survival;
    (5) start dates over the accrual period June 2006 - December 2011 with accrual rising over
    time (median follow-up about 49 months), follow-up to the cut-off, 8 patients lost.
    """
    rng = np.random.default_rng(seed)
    frames = []
    for g, met in ((0, 1), (1, 0)):
        group = _Group(
            t={k: v[g] for k, v in TABLE1["t_stage"].items()},
            n={k: v[g] for k, v in TABLE1["n_stage"].items()},
            stage={k: v[g] for k, v in TABLE1["stage"].items()},
        )
        table = solve_t_by_n(group.t, group.n, group.stage)
        tn = [(t, n) for i, t in enumerate(T_CATS) for j, n in enumerate(N_CATS) for _ in range(table[i, j])]
        order = rng.permutation(len(tn))
        df = pd.DataFrame({"t_stage_7th": [tn[i][0] for i in order], "n_stage_7th": [tn[i][1] for i in order]})
        df["metastasis"] = met
        size = len(df)
        age_group = _labels({k: v[g] for k, v in TABLE1["age_group"].items()}, rng)
        df["age"] = np.where(age_group == ">=44", rng.integers(44, 80, size), rng.integers(16, 44, size))
        df["sex"] = _labels({k: v[g] for k, v in TABLE1["sex"].items()}, rng)
        who = _labels({k: v[g] for k, v in TABLE1["who_group"].items()}, rng)
        df["who_histology"] = np.where(who == "III", "III", np.where(rng.random(size) < 0.08, "I", "II"))
        df["recurrence"] = _labels({k: v[g] for k, v in TABLE1["recurrence"].items()}, rng)
        # RT alone: (early, advanced) = (2, 3) among metastatic, (37, 15) among the others
        early = np.array([_stage7(t, n) in ("I", "II") for t, n in zip(df.t_stage_7th, df.n_stage_7th, strict=True)])
        n_early, n_late = ((2, 3), (37, 15))[g]
        rt = np.zeros(size, dtype=bool)
        rt[rng.choice(np.flatnonzero(early), n_early, replace=False)] = True
        rt[rng.choice(np.flatnonzero(~early), n_late, replace=False)] = True
        df["treatment"] = np.where(rt, "RT alone", "Chemoradiotherapy")
        frames.append(df)
    df = pd.concat(frames, ignore_index=True)
    n = len(df)
    # the groups were built one after the other: shuffle the rows
    df = df.iloc[rng.permutation(n)].reset_index(drop=True)
    crt = np.flatnonzero(df.treatment == "Chemoradiotherapy")
    schedule = np.full(n, "No chemotherapy", dtype=object)
    schedule[crt] = _labels(SCHEDULES, rng)
    df["chemotherapy"] = schedule
    for name, counts in TOXICITY.items():
        df[name] = _labels({str(k): c for k, c in enumerate(counts)}, rng).astype(int)

    met = df.metastasis.to_numpy() == 1
    dm_time = np.concatenate([rng.uniform(lo, hi, k) for lo, hi, k in METASTASIS_INTERVALS])
    dm_time = rng.permutation(dm_time)
    site = _labels(SITES, rng)
    # time from RT start: RT takes ~1.5 months; remission is counted from the end of RT
    rt_days = rng.integers(42, 52, n)
    horizon = (DATA_CUTOFF - ACCRUAL[0]).days / 30.4375
    # accrual rising over time (density proportional to time since June 2006)
    start_m = np.sqrt(rng.uniform(0, 1, n)) * (ACCRUAL[1] - ACCRUAL[0]).days / 30.4375
    months_available = horizon - start_m
    met_idx = np.flatnonzero(met)
    # metastasis (and 6 months after it) must fall before the cut-off: latest accrual for longest times
    need = dm_time + rt_days[met_idx] / 30.4375 + 6
    order = np.argsort(need)
    avail_sorted = np.sort(months_available[met_idx])
    if np.any(avail_sorted < np.sort(need)):
        start_m[met_idx] = np.minimum(start_m[met_idx], horizon - need - 1)
    else:
        start_m[met_idx[order]] = horizon - avail_sorted
    months_available = horizon - start_m

    remission = np.full(n, np.nan)
    remission[met_idx] = dm_time
    sites = np.full(n, "", dtype=object)
    sites[met_idx] = site
    # survival after metastasis: median ~12 months, HR 0.45 for remission >= 15 months,
    # 0.3 for chemoradiotherapy vs RT alone, 2 for multiple sites (directions of Table 4)
    lam = np.full(n, np.log(2) / 12.0)
    lam *= np.where(remission >= 15, 0.45, 1.0)
    lam *= np.where(df.treatment.to_numpy() == "RT alone", 1 / 0.3, 1.0)
    lam *= np.where(sites == "Multiple", 2.0, 1.0)
    other = rng.exponential(1 / (-np.log(0.93) / 60), n)
    death_time = np.where(met, np.nan_to_num(remission) + rt_days / 30.4375 + rng.exponential(1 / lam), other)
    death_time = np.maximum(death_time, 5.0)
    follow = months_available.copy()
    lost = rng.choice(np.flatnonzero(~met), 8, replace=False)
    follow[lost] = rng.uniform(5, 30, 8)
    dead = death_time <= follow
    os_time = np.where(dead, death_time, follow)

    start = ACCRUAL[0] + pd.to_timedelta(np.round(start_m * 30.4375), unit="D")
    end_rt = start + pd.to_timedelta(rt_days, unit="D")
    met_date = pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns]")
    met_date[met] = (end_rt[met] + pd.to_timedelta(np.round(remission[met] * 30.4375), unit="D")).to_numpy()
    last = start + pd.to_timedelta(np.round(os_time * 30.4375), unit="D")
    last = pd.Series(np.minimum(last.to_numpy(), DATA_CUTOFF.to_datetime64()), index=df.index)
    last = pd.Series(np.maximum(last.to_numpy(), met_date.fillna(pd.Timestamp.min).to_numpy()), index=df.index)

    def iso(s: pd.Series | pd.DatetimeIndex) -> list[str]:
        return ["" if pd.isna(x) else pd.Timestamp(x).strftime("%Y-%m-%d") for x in s]

    out = pd.DataFrame({"patient_id": [f"NPC{i + 1:04d}" for i in range(n)]})
    out["age"] = df.age.to_numpy()
    out["sex"] = df.sex.to_numpy()
    out["who_histology"] = df.who_histology.to_numpy()
    out["t_stage_7th"] = df.t_stage_7th.to_numpy()
    out["n_stage_7th"] = df.n_stage_7th.to_numpy()
    out["treatment"] = df.treatment.to_numpy()
    out["chemotherapy"] = df.chemotherapy.to_numpy()
    out["recurrence"] = df.recurrence.to_numpy()
    out["rt_start_date"] = iso(pd.Series(start))
    out["rt_end_date"] = iso(pd.Series(end_rt))
    out["metastasis"] = df.metastasis.to_numpy()
    out["metastasis_date"] = iso(met_date)
    out["metastasis_site"] = sites
    out["death"] = dead.astype(int)
    out["last_followup_date"] = iso(last)
    for name in TOXICITY:
        out[name] = df[name].to_numpy()
    return out
