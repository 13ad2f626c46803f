"""Figures: numbers at risk as R's summary(survfit, times = ...) and reproducible files."""

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from PIL import Image

from npctrial.cohort import competing_risk_analysis, survival_analysis
from npctrial.cohort.figures import cif_figure, km_figure, save_figure
from tests.rrefs import REFS, load_ref


def lung() -> pd.DataFrame:
    df = pd.read_csv(REFS / "data" / "lung.csv")
    df["dead"] = (df["status"] == 2).astype(float)
    df["sex_label"] = df["sex"].astype(str)
    return df


def risk_table(fig: Figure, n_rows: int, n_ticks: int) -> list[list[int]]:
    """The numbers printed in the at-risk axes, one list per curve (top row first)."""
    tab = fig.axes[1]
    rows: list[list[int]] = [[] for _ in range(n_rows)]
    for text in tab.texts:
        rows[round(text.get_position()[1])].append(int(text.get_text()))
    assert all(len(r) == n_ticks for r in rows)
    return rows


def test_km_numbers_at_risk_match_r() -> None:
    an = survival_analysis(lung(), name="os", title="OS", time="time", event="dead", group="sex_label")
    ref = next(a for a in load_ref("lung")["analyses"] if a["id"] == "km_by_sex")["at_times"]
    fig = km_figure(an, ticks=ref["times"])
    expected = [ref["by_conf_type"]["log"][f"sex={level}"]["n.risk"] for level in ("1", "2")]
    assert risk_table(fig, 2, len(ref["times"])) == expected
    assert [t.get_text() for t in fig.axes[1].get_yticklabels()] == ["1", "2"]


def test_cif_numbers_at_risk_are_patients_still_followed() -> None:
    df = lung().assign(other=0.0)
    ticks = [0.0, 200.0, 400.0, 600.0, 800.0]
    cr = competing_risk_analysis(df, name="c", title="c", time="time", event="dead", competing="other",
                                 group="sex_label")
    fig = cif_figure(cr, ticks=ticks)
    t, sex = df["time"].to_numpy(float), df["sex_label"].to_numpy()
    expected = [[int(np.sum((sex == g) & (t >= x))) for x in ticks] for g in ("1", "2")]
    assert risk_table(fig, 2, len(ticks)) == expected


def test_saved_figure_is_300_dpi_and_reproducible(tmp_path: Path) -> None:
    an = survival_analysis(lung(), name="os", title="OS", time="time", event="dead", group="sex_label")
    png1, svg1 = save_figure(km_figure(an), tmp_path / "a")
    png2, svg2 = save_figure(km_figure(an), tmp_path / "b")
    with Image.open(png1) as im:
        assert tuple(round(d) for d in im.info["dpi"]) == (300, 300)
    assert png1.read_bytes() == png2.read_bytes()
    assert svg1.read_bytes() == svg2.read_bytes()


def _inside(fig: Figure) -> list[str]:
    """Texts of ``fig`` whose drawn extent leaves the figure (clipped labels)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw(renderer)
    box = fig.bbox
    out = []
    for text in fig.findobj(lambda a: hasattr(a, "get_text") and a.get_visible()):
        if not text.get_text().strip():
            continue
        ext = text.get_window_extent(renderer)
        if ext.x0 < box.x0 - 1 or ext.x1 > box.x1 + 1 or ext.y0 < box.y0 - 1 or ext.y1 > box.y1 + 1:
            out.append(text.get_text())
    return out


def test_forest_plot_has_n_hr_and_p_columns_and_no_clipped_label() -> None:
    from npctrial.cohort import cox_table
    from npctrial.cohort.figures import forest_figure

    df = lung().assign(ecog=lambda d: d["ph.ecog"].map({0: "asymptomatic", 1: "symptomatic, ambulatory",
                                                        2: "in bed less than half of the day", 3: "bed-bound"}))
    labels = {"ecog": "ECOG performance status at enrolment (physician-rated)", "age": "Age at diagnosis (years)"}
    tab = cox_table(df, title="t", time="time", event="dead", covariates=["age", "ecog"], categorical=["ecog"],
                    multivariate=["age", "ecog"], labels=labels,
                    levels={"ecog": ["asymptomatic", "symptomatic, ambulatory", "in bed less than half of the day",
                                     "bed-bound"]})
    fig = forest_figure(tab)
    assert _inside(fig) == []
    texts = [t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text"))]
    assert {"N", "HR (95% CI)", "p"} <= set(texts)
    uni = tab.forest[tab.forest.model == "univariate"]
    assert str(int(uni["n"].iloc[0])) in texts  # N of the first univariate model
    rows = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert rows.count("    adjusted") == int((tab.forest.model == "multivariate").sum())
    assert rows[0] == "Age at diagnosis (years): per unit"
    assert any(t.startswith("ECOG performance status at enrolment (physician-rated): in bed") for t in rows)


def test_km_axis_ticks_fit_the_unit() -> None:
    df = lung()
    days = survival_analysis(df, name="os", title="OS", time="time", event="dead", unit="days")
    ticks = km_figure(days).axes[0].get_xticks()
    assert list(ticks[:3]) == [0.0, 180.0, 360.0]
    assert km_figure(days).axes[1].get_xlabel() == "Time (days)"
    years = survival_analysis(df.assign(y=df["time"] / 365.25), name="os", title="OS", time="y", event="dead",
                              unit="years")
    assert list(km_figure(years).axes[0].get_xticks()) == [0.0, 0.5, 1.0, 1.5, 2.0, 2.5]
