"""Figures: numbers at risk as R's summary(survfit, times = ...) and reproducible files."""

from pathlib import Path

import pandas as pd
from PIL import Image

from npctrial.cohort import survival_analysis
from npctrial.cohort.figures import _risk_counts, km_figure, save_figure
from tests.conftest import SHARED, load_ref


def lung() -> pd.DataFrame:
    df = pd.read_csv(SHARED / "refs" / "data" / "lung.csv")
    df["dead"] = (df["status"] == 2).astype(float)
    df["sex_label"] = df["sex"].astype(str)
    return df


def test_numbers_at_risk_match_r() -> None:
    an = survival_analysis(lung(), name="os", title="OS", time="time", event="dead", group="sex_label")
    ref = next(a for a in load_ref("lung")["analyses"] if a["id"] == "km_by_sex")["at_times"]
    for level in ("1", "2"):
        curve = an.km.curve(an.km.labels[int(level) - 1])
        expected = ref["by_conf_type"]["log"][f"sex={level}"]["n.risk"]
        assert _risk_counts(curve.time, curve.n_risk, curve.n, ref["times"]) == expected


def test_saved_figure_is_300_dpi_and_reproducible(tmp_path: Path) -> None:
    an = survival_analysis(lung(), name="os", title="OS", time="time", event="dead", group="sex_label")
    png1, svg1 = save_figure(km_figure(an), tmp_path / "a")
    png2, svg2 = save_figure(km_figure(an), tmp_path / "b")
    with Image.open(png1) as im:
        assert tuple(round(d) for d in im.info["dpi"]) == (300, 300)
    assert png1.read_bytes() == png2.read_bytes()
    assert svg1.read_bytes() == svg2.read_bytes()
