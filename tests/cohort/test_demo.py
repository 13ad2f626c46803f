"""The demo cohort against the counts printed in Chen et al., SpringerPlus 2016;5:1459."""

import numpy as np
import pandas as pd
import pytest

from npctrial.cohort import make_demo_cohort, solve_t_by_n
from npctrial.domain.staging import stage_group

# Table 1 of the paper, transcribed: level -> (metastasis yes, metastasis no)
PAPER_TABLE1 = {
    "age": {">=44": (52, 222), "<44": (39, 217)},
    "sex": {"Male": (70, 324), "Female": (21, 115)},
    "who": {"I-II": (46, 223), "III": (45, 216)},
    "t": {"T1": (5, 59), "T2": (24, 131), "T3": (28, 140), "T4": (34, 109)},
    "n": {"N0": (3, 65), "N1": (24, 170), "N2": (57, 184), "N3": (7, 20)},
    "stage": {"I": (0, 21), "II": (9, 105), "III": (42, 189), "IVA-B": (40, 124)},
    "treatment": {"RT alone": (5, 52), "Chemoradiotherapy": (86, 387)},
    "recurrence": {"Yes": (15, 39), "No": (76, 400)},
}
# Tables 2 and 3: patients with grade 0..4
PAPER_TOXICITY = {
    "acute_mucositis": [0, 130, 239, 161, 0],
    "acute_xerostomia": [27, 294, 209, 0, 0],
    "acute_leukopenia": [34, 152, 319, 25, 0],
    "late_xerostomia": [42, 365, 120, 3, 0],
    "late_hearing_loss": [506, 16, 6, 2, 0],
    "late_brain_injury": [495, 27, 5, 1, 2],
}


@pytest.fixture(scope="module", params=[1, 7])
def demo(request: pytest.FixtureRequest) -> pd.DataFrame:
    df = make_demo_cohort(request.param)
    df["stage7"] = [stage_group(t, n, "M0", edition=7) for t, n in zip(df.t_stage_7th, df.n_stage_7th, strict=True)]
    return df


def test_size_and_ids(demo: pd.DataFrame) -> None:
    assert len(demo) == 530
    assert demo.patient_id.is_unique


def test_table1_counts_exact(demo: pd.DataFrame) -> None:
    derived = {
        "age": np.where(demo.age >= 44, ">=44", "<44"),
        "sex": demo.sex,
        "who": np.where(demo.who_histology == "III", "III", "I-II"),
        "t": demo.t_stage_7th,
        "n": demo.n_stage_7th,
        "stage": demo.stage7.replace({"IVA": "IVA-B", "IVB": "IVA-B"}),
        "treatment": demo.treatment,
        "recurrence": demo.recurrence,
    }
    met = demo.metastasis.to_numpy() == 1
    for var, levels in PAPER_TABLE1.items():
        x = np.asarray(derived[var])
        for level, (yes, no) in levels.items():
            assert (int(np.sum((x == level) & met)), int(np.sum((x == level) & ~met))) == (yes, no), (var, level)


def test_stage_consistent_with_t_and_n(demo: pd.DataFrame) -> None:
    # stage from the domain's 7th-edition table (not the demo's own rule) covers every patient
    assert demo.stage7.notna().all()
    assert set(demo.stage7) <= {"I", "II", "III", "IVA", "IVB"}


def test_toxicity_counts(demo: pd.DataFrame) -> None:
    for name, counts in PAPER_TOXICITY.items():
        assert [int((demo[name] == g).sum()) for g in range(5)] == counts, name


def test_metastasis_timing_and_sites(demo: pd.DataFrame) -> None:
    # Results: cumulative metastatic rates at 1, 2, 3 years 35/91, 64/91, 87/91 (from end of IMRT);
    # sites: multiple 33, lung 21, bone 18, liver 13, other 6
    met = demo[demo.metastasis == 1]
    months = (pd.to_datetime(met.metastasis_date) - pd.to_datetime(met.rt_end_date)).dt.days / 30.4375
    assert [int((months <= m).sum()) for m in (12, 24, 36)] == [35, 64, 87]
    assert months.max() <= 44.1
    assert met.metastasis_site.value_counts().to_dict() == {"Multiple": 33, "Lung": 21, "Bone": 18, "Liver": 13, "Other": 6}
    assert (demo[demo.metastasis == 0].metastasis_date == "").all()


def test_dates_are_ordered(demo: pd.DataFrame) -> None:
    start = pd.to_datetime(demo.rt_start_date)
    last = pd.to_datetime(demo.last_followup_date)
    assert (last > start).all()
    assert (last <= pd.Timestamp("2014-08-31")).all()
    met = demo.metastasis == 1
    assert (pd.to_datetime(demo.metastasis_date[met]) <= last[met]).all()


def test_same_seed_same_cohort() -> None:
    pd.testing.assert_frame_equal(make_demo_cohort(3), make_demo_cohort(3))


def test_solve_t_by_n_satisfies_margins() -> None:
    t = {"T1": 5, "T2": 24, "T3": 28, "T4": 34}
    n = {"N0": 3, "N1": 24, "N2": 57, "N3": 7}
    stage = {"I": 0, "II": 9, "III": 42, "IVA-B": 40}
    table = solve_t_by_n(t, n, stage)
    assert table.sum(axis=1).tolist() == [5, 24, 28, 34]
    assert table.sum(axis=0).tolist() == [3, 24, 57, 7]
    assert (table >= 0).all()
    # stage from the domain's 7th-edition table
    counts: dict[str, int] = {}
    for i, tc in enumerate(t):
        for j, nc in enumerate(n):
            s = stage_group(tc, nc, "M0", edition=7)
            assert s is not None
            s = "IVA-B" if s in ("IVA", "IVB") else s
            counts[s] = counts.get(s, 0) + int(table[i, j])
    assert {k: counts.get(k, 0) for k in stage} == stage


def test_rates_close_to_those_reported(demo: pd.DataFrame) -> None:
    # Results/Discussion: 5-year distant metastasis 6.7 % (I-II), 18.2 % (III), 24.4 % (IVA-B);
    # 1/3/5-year OS 91/42/29 % with and 99/96/93 % without metastasis.
    from npctrial.survival import kaplan_meier

    start = pd.to_datetime(demo.rt_start_date)
    last = pd.to_datetime(demo.last_followup_date)
    met_date = pd.to_datetime(demo.metastasis_date.replace("", None))
    dm_time = ((met_date.fillna(last) - start).dt.days / 30.4375).to_numpy()
    os_time = ((last - start).dt.days / 30.4375).to_numpy()
    stage = demo.stage7.replace({"I": "I-II", "II": "I-II", "IVA": "IVA-B", "IVB": "IVA-B"}).to_numpy()

    def surv_at(t: np.ndarray, e: np.ndarray, when: float) -> float:
        curve = kaplan_meier(t, e)
        c = curve.curve(curve.labels[0])
        return float(c.surv[np.searchsorted(c.time, when, side="right") - 1])

    for level, reported in (("I-II", 6.7), ("III", 18.2), ("IVA-B", 24.4)):
        m = stage == level
        assert 100 * (1 - surv_at(dm_time[m], demo.metastasis.to_numpy()[m], 60)) == pytest.approx(reported, abs=3)
    met = demo.metastasis.to_numpy() == 1
    dead = demo.death.to_numpy()
    for months, with_met, without in ((12, 91, 99), (36, 42, 96), (60, 29, 93)):
        assert 100 * surv_at(os_time[met], dead[met], months) == pytest.approx(with_met, abs=10)
        assert 100 * surv_at(os_time[~met], dead[~met], months) == pytest.approx(without, abs=3)
