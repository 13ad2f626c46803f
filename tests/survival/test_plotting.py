"""plot_survival: curves, bands, censor marks, p-value and an aligned numbers-at-risk table."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from npctrial.errors import ValidationError  # noqa: E402
from npctrial.survival import (  # noqa: E402
    StepCurve,
    kaplan_meier,
    logrank_test,
    nelson_aalen,
    plot_survival,
)

T = [1, 2, 2, 3, 4, 5, 5, 7, 8, 9]
E = [1, 1, 1, 1, 0, 1, 1, 0, 1, 0]
X = [1, 2, 1, 2, 1, 2, 1, 2, 2, 1]


@pytest.fixture(autouse=True)
def _close() -> None:
    yield
    plt.close("all")


def test_km_plot_steps_marks_and_table() -> None:
    km = kaplan_meier(T, E, group=X)
    lr = logrank_test(T, E, X)
    ax = plot_survival(km, ticks=[0, 2, 4, 6, 8], pvalue=lr)
    # one step line per curve, starting at S = 1 at time 0
    steps = [ln for ln in ax.get_lines() if ln.get_linestyle() != "None"]
    assert len(steps) == 2
    x, y = steps[0].get_data()
    assert x[0] == 0 and y[0] == 1.0
    # censor marks at censoring times of curve group=1: t = 4, 9
    marks = [ln for ln in ax.get_lines() if ln.get_marker() == "|"]
    np.testing.assert_array_equal(marks[0].get_xdata(), [4, 9])
    # p-value annotation names the test
    texts = [t.get_text() for t in ax.texts]
    assert any(t.startswith("Log-rank test p = ") for t in texts)
    # numbers-at-risk table: second axes sharing x, counts as R summary(fit, times)
    fig = ax.figure
    assert len(fig.axes) == 2
    tab = fig.axes[1]
    assert tab.get_xlim() == ax.get_xlim()
    counts = [t.get_text() for t in tab.texts]
    expected = km.at([0, 2, 4, 6, 8])
    assert counts == [f"{n:.0f}" for n in expected["n_risk"]]
    assert [lbl.get_text() for lbl in tab.get_yticklabels()] == ["group=1", "group=2"]


def test_km_plot_without_table_and_failure_kind() -> None:
    ax = plot_survival(kaplan_meier(T, E), at_risk_table=False, kind="failure")
    assert len(ax.figure.axes) == 1
    x, y = ax.get_lines()[0].get_data()
    assert y[0] == 0.0
    assert ax.get_ylabel() == "Cumulative event probability"


def test_result_plot_method_and_given_axes() -> None:
    fig, ax = plt.subplots()
    out = kaplan_meier(T, E).plot(ax, at_risk_table=True)
    assert out is ax


def test_nelson_aalen_and_generic_step_curves() -> None:
    ax = plot_survival(nelson_aalen(T, E), at_risk_table=False)
    assert ax.get_ylabel() == "Cumulative hazard"
    plt.close("all")
    sc = StepCurve("cif", np.array([1.0, 2.0]), np.array([0.1, 0.3]), start_value=0.0)
    ax = plot_survival([sc])
    assert len(ax.figure.axes) == 1  # no at-risk counts known


def test_cumulative_incidence_like_curves() -> None:
    class Curve:
        def __init__(self) -> None:
            self.group, self.cause = "1", 1
            self.time = np.array([1.0, 2.0])
            self.est = np.array([0.2, 0.5])
            self.var = np.array([0.01, 0.02])

    class Result:
        curves = (Curve(),)

    ax = plot_survival(Result())
    assert ax.get_lines()[0].get_label() == "1 cause 1"


def test_rejects_unplottable() -> None:
    with pytest.raises(ValidationError):
        plot_survival(42)


def test_censor_mark_before_first_step_sits_at_start_value() -> None:
    # A subject censored before the first event time: the curve is still at its start value
    # there (0 for an incidence curve, 1 for survival), not at the last step's value.
    sc = StepCurve(
        "cif", np.array([2.0, 3.0]), np.array([0.1, 0.3]),
        censor_time=np.array([0.5, 2.5]), start_value=0.0,
    )
    ax = plot_survival([sc], at_risk_table=False)
    marks = [ln for ln in ax.get_lines() if ln.get_marker() == "|"]
    assert len(marks) == 1
    assert list(marks[0].get_ydata()) == [0.0, 0.1]
