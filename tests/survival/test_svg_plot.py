"""plot_survival_svg: the curves, censor marks and numbers at risk are where the data put them.

The expected survival values and numbers at risk are worked by hand from the data below (product-
limit estimate; R's at-risk rule: the number at risk at the first observed time >= the tick).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from npctrial.errors import ValidationError
from npctrial.survival import StepCurve, kaplan_meier, logrank_test, nelson_aalen, plot_survival_svg

NS = "{http://www.w3.org/2000/svg}"
T = [1, 2, 2, 3, 4, 5, 5, 7, 8, 9]
E = [1, 1, 1, 1, 0, 1, 1, 0, 1, 0]
X = [1, 2, 1, 2, 1, 2, 1, 2, 2, 1]
# group 1: times 1 2 4+ 5 9+ -> S = 0.8 (t=1), 0.6 (t=2), 0.3 (t=5); censored at 4 and 9
# group 2: times 2 3 5 7+ 8  -> S = 0.8 (t=2), 0.6 (t=3), 0.4 (t=5), 0 (t=8); censored at 7
STEPS = {"group=1": [(1, 0.8), (2, 0.6), (5, 0.3)], "group=2": [(2, 0.8), (3, 0.6), (5, 0.4), (8, 0.0)]}
LAST = {"group=1": 9, "group=2": 8}
AT_RISK = {"group=1": [5, 4, 3, 1, 1], "group=2": [5, 5, 3, 2, 1]}
TICKS = [0, 2, 4, 6, 8]


def _svg(**kw: object) -> ET.Element:
    km = kaplan_meier(T, E, group=X)
    return ET.fromstring(plot_survival_svg(km, ticks=TICKS, **kw))


def _texts(root: ET.Element) -> list[ET.Element]:
    return list(root.iter(NS + "text"))


def _axis_maps(root: ET.Element) -> tuple[object, object]:
    """Pixel maps read off the drawn axes: the x tick labels give x(t), the y tick labels y(v)."""
    texts = _texts(root)
    xs = {float(t.text): float(t.get("x")) for t in texts if t.get("text-anchor") == "middle"
          and t.get("font-size") == "10" and t.text in {"0", "2", "4", "6", "8"} and float(t.get("y")) < 300}
    ys = {float(t.text): float(t.get("y")) - 3.5 for t in texts if t.get("text-anchor") == "end"
          and re.fullmatch(r"\d\.\d", t.text or "")}
    (t0, x0), (t1, x1) = min(xs.items()), max(xs.items())
    (v0, y0), (v1, y1) = min(ys.items()), max(ys.items())
    return (lambda t: x0 + (x1 - x0) * (t - t0) / (t1 - t0)), (lambda v: y0 + (y1 - y0) * (v - v0) / (v1 - v0))


def _vertices(d: str) -> list[tuple[str, float]]:
    return [(m[0], float(m[1:])) for m in re.findall(r"[HV]-?[\d.]+", d)]


def test_step_curves_follow_the_product_limit_values() -> None:
    root = _svg()
    x, y = _axis_maps(root)
    curves = [p for p in root.iter(NS + "path") if p.get("class") == "curve"]
    assert [c.get("data-label") for c in curves] == ["group=1", "group=2"]
    for c in curves:
        d = c.get("d")
        start = re.match(r"M(-?[\d.]+),(-?[\d.]+)", d)
        assert float(start[1]) == pytest.approx(x(0), abs=0.02) and float(start[2]) == pytest.approx(y(1.0), abs=0.02)
        commands, drops, at = _vertices(d), [], None
        for k, value in commands:
            if k == "H":
                at = value
            else:
                drops.append((at, value))
        label = c.get("data-label")
        assert drops == [(pytest.approx(x(t), abs=0.02), pytest.approx(y(s), abs=0.02)) for t, s in STEPS[label]]
        assert at == pytest.approx(x(LAST[label]), abs=0.02)  # drawn to the last time


def test_censor_marks_sit_on_the_curve_at_the_censoring_times() -> None:
    root = _svg()
    x, y = _axis_maps(root)
    marks = [p.get("d") for p in root.iter(NS + "path") if p.get("class") == "censor"]
    points = [[(float(a), float(b) + 5) for a, b in re.findall(r"M(-?[\d.]+),(-?[\d.]+)v10", d)] for d in marks]
    expected = [[(4, 0.6), (9, 0.3)], [(7, 0.4)]]
    for got, want in zip(points, expected, strict=True):
        assert [(pytest.approx(x(t), abs=0.02), pytest.approx(y(s), abs=0.02)) for t, s in want] == got


def test_numbers_at_risk_follow_r_rule_under_each_tick() -> None:
    root = _svg(at_risk_title="Number at risk")
    x, _ = _axis_maps(root)
    texts = _texts(root)
    title = next(t for t in texts if t.text == "Number at risk")
    for label, counts in AT_RISK.items():
        row = next(t for t in texts if t.text == label and t.get("text-anchor") == "end")
        assert float(row.get("y")) > float(title.get("y"))
        cells = [t for t in texts if t.get("y") == row.get("y") and t is not row]
        assert [int(c.text) for c in cells] == counts
        assert [float(c.get("x")) for c in cells] == pytest.approx([x(t) for t in TICKS], abs=0.02)
        assert {c.get("fill") for c in cells} == {row.get("fill")}  # each row in its curve's colour


def test_pvalue_legend_title_and_texts_are_escaped() -> None:
    km = kaplan_meier(T, E, group=X)
    lr = logrank_test(T, E, X)
    text = plot_survival_svg(km, pvalue=lr, title='PFS <b>&"无进展生存"', xlabel="月")
    root = ET.fromstring(text)  # well-formed XML whatever the labels hold
    words = [t.text for t in _texts(root)]
    assert 'PFS <b>&"无进展生存"' in words and "月" in words
    assert any(w.startswith("Log-rank test p = ") for w in words)
    assert words.count("group=1") == 2  # legend and at-risk row
    assert root.find(NS + "title").text == 'PFS <b>&"无进展生存"'
    assert "<b>" not in text


def test_output_is_deterministic_and_clip_ids_differ_per_content() -> None:
    km = kaplan_meier(T, E, group=X)
    a, b = plot_survival_svg(km, title="PFS"), plot_survival_svg(km, title="PFS")
    c = plot_survival_svg(km, title="OS")
    assert a == b
    ids = [re.search(r'clipPath id="([^"]+)"', s)[1] for s in (a, c)]
    assert ids[0] != ids[1] and f"url(#{ids[0]})" in a


def test_incidence_cumhaz_and_no_table() -> None:
    na = plot_survival_svg(nelson_aalen(T, E))  # cumulative hazard: y from 0, no "Survival" label
    assert "Cumulative hazard" in na and "nan" not in na.lower()
    curve = StepCurve("cause 1", np.array([1.0, 3.0]), np.array([0.2, 0.5]), start_value=0.0)
    root = ET.fromstring(plot_survival_svg([curve], ticks=[0, 1, 2, 3]))
    x, y = _axis_maps(root)
    d = next(p.get("d") for p in root.iter(NS + "path") if p.get("class") == "curve")
    assert float(re.match(r"M[\d.]+,([\d.]+)", d)[1]) == pytest.approx(y(0.0), abs=0.02)
    assert "Number at risk" not in ET.tostring(root, encoding="unicode")  # no counts to show


def test_band_skips_undefined_bounds() -> None:
    km = kaplan_meier([1, 2, 3], [1, 1, 1])  # S reaches 0: the log band is undefined there
    text = plot_survival_svg(km)
    assert "nan" not in text.lower() and "inf" not in text.lower()
    ET.fromstring(text)


def test_nothing_to_plot_is_refused() -> None:
    with pytest.raises(ValidationError):
        plot_survival_svg([])
