"""Table builders on small hand-made cohorts."""

import warnings

import numpy as np
import pandas as pd
import pytest

from npctrial.cohort import association_table, toxicity_table
from npctrial.errors import SmallSampleWarning, ValidationError
from npctrial.stats import chi_square_test, cochran_armitage_trend, fisher_exact


def frame_from_counts(var: str, counts: dict[str, tuple[int, int]]) -> pd.DataFrame:
    rows = []
    for level, (yes, no) in counts.items():
        rows += [{var: level, "event": 1.0}] * yes + [{var: level, "event": 0.0}] * no
    return pd.DataFrame(rows)


def test_chi_square_when_expected_counts_large() -> None:
    counts = {"T1": (5, 59), "T2": (24, 131), "T3": (28, 140), "T4": (34, 109)}
    df = frame_from_counts("t", counts)
    tab = association_table(df, "event", ["t"], levels={"t": ["T1", "T2", "T3", "T4"]})
    expected = chi_square_test(np.array(list(counts.values()))).p_value
    assert tab.p_values()["t"] == pytest.approx(expected, rel=1e-12)
    assert tab.tests()["t"] == "Pearson chi-square"
    frame = tab.to_frame()
    assert frame["Level"].tolist()[1:] == ["T1", "T2", "T3", "T4"]
    assert frame["Yes"].tolist()[1:] == [5, 24, 28, 34]
    assert frame["No"].tolist()[0] == 439


def test_fisher_when_an_expected_count_is_below_5() -> None:
    counts = {"N0": (3, 65), "N1": (24, 170), "N2": (57, 184), "N3": (7, 20)}  # N3: E = 27 * 91 / 530 = 4.6
    df = frame_from_counts("n", counts)
    tab = association_table(df, "event", ["n"])
    assert tab.tests()["n"] == "Fisher's exact test"
    assert tab.p_values()["n"] == pytest.approx(fisher_exact(np.array(list(counts.values()))).p_value, rel=1e-12)
    assert any("Fisher" in f for f in tab.footnotes)
    assert "\u2020" in tab.to_frame()["p value"].iloc[1]


def test_trend_on_request_and_missing_rows_excluded() -> None:
    counts = {"I": (2, 30), "II": (9, 60), "III": (20, 50)}
    df = frame_from_counts("stage", counts)
    df.loc[len(df)] = {"stage": None, "event": 1.0}
    tab = association_table(df, "event", ["stage"], trend=["stage"])
    trend = cochran_armitage_trend(np.array(list(counts.values())).T).p_value
    assert tab.rows[0].trend_p == pytest.approx(trend, rel=1e-12)
    assert tab.n_positive == 31 + 1  # the outcome total counts every row with a known outcome
    assert sum(r.n_positive for r in tab.rows if r.level != "Unknown") == 31
    assert [r.counts for r in tab.rows if r.level == "Unknown"] == [(1, 0)]  # the missing stage, in its own row


def test_unknown_variable() -> None:
    with pytest.raises(ValidationError, match="'nope'"):
        association_table(pd.DataFrame({"event": [1, 0]}), "event", ["nope"])


def test_toxicity_counts_and_percentages() -> None:
    df = pd.DataFrame({"muc": [0, 1, 1, 2, 3, 3, 3, np.nan], "xer": [0, 0, 0, 0, 1, 1, 2, 4]})
    tab = toxicity_table(df, ["muc", "xer"], labels={"muc": "Mucositis"})
    assert tab.counts.loc["Mucositis"].tolist() == [1, 2, 1, 3, 0]
    assert tab.counts.loc["xer"].tolist() == [4, 2, 1, 0, 1]
    frame = tab.to_frame()
    assert frame.loc[0, "Grade 3, n (%)"] == "3 (42.9)"
    assert frame.loc[1, "N"] == 8
    assert tab.notes == ("Not graded (left out of N and the percentages): Mucositis 1.",)
    assert toxicity_table(df, ["xer"]).notes == ()


def test_toxicity_grade_outside_range() -> None:
    frame = pd.DataFrame({"x": [0, np.nan, 7, 9]}, index=pd.Index([2, 3, 4, 5], name="row"))
    with pytest.raises(ValidationError, match=r"row 4, column 'x': grade\(s\) \[7, 9\] outside") as info:
        toxicity_table(frame, ["x"])
    assert info.value.row == 4 and info.value.field == "x"


def test_chi_square_path_does_not_leak_small_sample_warning() -> None:
    df = frame_from_counts("g", {"a": (1, 10), "b": (5, 6)})
    with warnings.catch_warnings():
        warnings.simplefilter("error", SmallSampleWarning)
        table = association_table(df, "event", ["g"])
    # Expected count 11 * 6 / 22 = 3 < 5: Fisher's exact test is reported, with its footnote.
    from scipy.stats import fisher_exact as scipy_fisher

    assert table.p_values()["g"] == pytest.approx(scipy_fisher([[1, 10], [5, 6]]).pvalue, rel=1e-9)
    assert any("Fisher" in note for note in table.footnotes)


def test_frequencies_count_the_unknown_rows_left_out_of_the_percentages() -> None:
    from npctrial.cohort import frequency_table

    df = pd.DataFrame({"site": ["Lung", "Bone", None, "Lung", " "]})
    tab = frequency_table(df, "site", levels=["Bone", "Lung"])
    assert tab.to_frame().to_dict("list") == {"Level": ["Bone", "Lung"], "n": [1, 2], "%": [33.3, 66.7]}
    assert tab.notes == ("Not known: 2 (left out of the percentages).",)
