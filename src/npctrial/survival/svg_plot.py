"""Survival curves as standalone SVG text, drawn without matplotlib (for web pages).

:func:`plot_survival_svg` draws what :func:`~npctrial.survival.plot_survival` draws - right-
continuous step curves, pointwise bands, censor marks, a p-value, a legend and a numbers-at-risk
table aligned with the x ticks - as one ``<svg>`` element written directly from the step data.
It takes about a millisecond where matplotlib's layout takes about 100 ms, so a live study
report can redraw its curves after every enrolment. Texts are left to the browser's fonts
(Chinese labels render with any CJK font the reader has) and escaped as XML.

Numbers at risk follow the same rule as ``plot_survival`` (R ``summary(fit, times=t)``: the
number at risk at the first observed time >= t). The axes follow matplotlib's defaults there:
x from 0 to 1.02 times the last time (widened to the last tick), y from -0.02 to 1.02 for
probabilities.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from typing import Any, Literal
from xml.sax.saxutils import escape, quoteattr

import numpy as np

from npctrial.errors import ValidationError
from npctrial.survival.plotting import StepCurve, default_ylabel, pvalue_text, step_curves

__all__ = ["plot_survival_svg"]

#: matplotlib's default colour cycle ("tab10"), so both renderers colour curves alike.
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
           "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")
FONT = "DejaVu Sans, Noto Sans CJK SC, Microsoft YaHei, PingFang SC, sans-serif"
WIDTH = 640
PLOT_HEIGHT = 250
ROW = 18


class _Frame:
    """The plot area and its data-to-pixel maps."""

    def __init__(self, left: float, top: float, xmax: float, ylim: tuple[float, float]) -> None:
        self.left, self.top = left, top
        self.right, self.bottom = WIDTH - 24.0, top + PLOT_HEIGHT
        self.xmax, self.ylim = xmax, ylim

    def x(self, t: float) -> float:
        return self.left + (self.right - self.left) * t / self.xmax

    def y(self, v: float) -> float:
        lo, hi = self.ylim
        return self.bottom - (self.bottom - self.top) * (v - lo) / (hi - lo)


def _num(v: float) -> str:
    return f"{v:.2f}".rstrip("0").rstrip(".")


def _text(x: float, y: float, s: str, *, anchor: str = "start", size: int = 11, color: str = "#222",
          extra: str = "") -> str:
    return (f'<text x="{_num(x)}" y="{_num(y)}" font-size="{size}" text-anchor="{anchor}" fill="{color}"'
            f'{extra}>{escape(s)}</text>')


def _text_width(s: str, size: int = 11) -> float:
    """A generous estimate of a label's width: wide (CJK) characters a full em, others 0.62 em."""
    return sum(size if ord(ch) > 0x2E80 else 0.62 * size for ch in s)


def _nice_ticks(upper: float) -> np.ndarray:
    """About five round ticks (1, 2 or 5 times a power of ten) from 0 to ``upper``."""
    if upper <= 0 or not math.isfinite(upper):
        return np.asarray([0.0])
    raw = upper / 5
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    return np.arange(0, upper + step * 1e-9, step)


def _step_path(f: _Frame, time: np.ndarray, value: np.ndarray, start: float) -> str:
    """``M`` to the start, then a horizontal run to every time and a vertical drop where the value
    changes (where="post"); the last run ends at the last time."""
    parts, level = [f"M{_num(f.x(0.0))},{_num(f.y(start))}"], start
    for t, v in zip(time.tolist(), value.tolist(), strict=True):
        if not math.isfinite(v):
            break
        parts.append(f"H{_num(f.x(t))}" if v == level else f"H{_num(f.x(t))}V{_num(f.y(v))}")
        level = v
    return "".join(parts)


def _band_path(f: _Frame, c: StepCurve) -> str:
    """The pointwise band as closed step polygons over the runs where both bounds are finite."""
    assert c.lower is not None and c.upper is not None
    x = np.concatenate([[0.0], c.time, c.time[-1:] if c.time.shape[0] else [0.0]])
    lo = np.concatenate([[c.start_value], c.lower, c.lower[-1:]])
    up = np.concatenate([[c.start_value], c.upper, c.upper[-1:]])
    ok = np.isfinite(lo) & np.isfinite(up)
    polygons, i, n = [], 0, x.shape[0]
    while i < n:
        if not ok[i]:
            i += 1
            continue
        j = i
        while j + 1 < n and ok[j + 1]:
            j += 1
        upper = [(x[i], up[i])] + [p for k in range(i + 1, j + 1) for p in ((x[k], up[k - 1]), (x[k], up[k]))]
        lower = [(x[i], lo[i])] + [p for k in range(i + 1, j + 1) for p in ((x[k], lo[k - 1]), (x[k], lo[k]))]
        points = upper + lower[::-1]
        polygons.append("M" + "L".join(f"{_num(f.x(a))},{_num(f.y(b))}" for a, b in points) + "Z")
        i = j + 1
    return "".join(polygons)


def _censor_path(f: _Frame, c: StepCurve) -> str:
    """A short vertical tick at the curve's height at every censoring time."""
    if c.censor_time is None or not c.censor_time.shape[0]:
        return ""
    j = np.searchsorted(c.time, c.censor_time, side="right") - 1
    marks = np.where(j >= 0, c.value[np.maximum(j, 0)], c.start_value)
    return "".join(f"M{_num(f.x(t))},{_num(f.y(v) - 5)}v10"
                   for t, v in zip(c.censor_time.tolist(), marks.tolist(), strict=True) if math.isfinite(v))


def _axes(f: _Frame, xticks: np.ndarray, yticks: np.ndarray, ylabel: str) -> list[str]:
    out = [f'<rect x="{_num(f.left)}" y="{_num(f.top)}" width="{_num(f.right - f.left)}" '
           f'height="{PLOT_HEIGHT}" fill="none" stroke="#333" stroke-width="0.8"/>']
    for t in xticks.tolist():
        out.append(f'<path d="M{_num(f.x(t))},{_num(f.bottom)}v4" stroke="#333" stroke-width="0.8"/>')
        out.append(_text(f.x(t), f.bottom + 16, f"{t:g}", anchor="middle", size=10))
    for v in yticks.tolist():
        out.append(f'<path d="M{_num(f.left)},{_num(f.y(v))}h-4" stroke="#333" stroke-width="0.8"/>')
        out.append(_text(f.left - 7, f.y(v) + 3.5, f"{v:.1f}", anchor="end", size=10))
    middle = (f.top + f.bottom) / 2
    out.append(_text(f.left - 40, middle, ylabel, anchor="middle",
                     extra=f' transform="rotate(-90 {_num(f.left - 40)} {_num(middle)})"'))
    return out


def _legend(f: _Frame, curves: list[StepCurve], palette: Sequence[str]) -> list[str]:
    width = max(_text_width(c.label) for c in curves) + 34
    x0, out = f.right - width - 6, []
    for i, c in enumerate(curves):
        y = f.top + 16 + i * 16
        out.append(f'<path d="M{_num(x0)},{_num(y - 4)}h20" stroke="{palette[i % len(palette)]}" stroke-width="2"/>')
        out.append(_text(x0 + 26, y, c.label))
    return out


def _at_risk(f: _Frame, curves: list[StepCurve], ticks: np.ndarray, palette: Sequence[str],
             title: str) -> tuple[list[str], float]:
    """The numbers-at-risk rows under the plot; returns them and the y below the last row."""
    rows = [(i, c.label, c.at_risk(ticks)) for i, c in enumerate(curves) if c.n_risk is not None]
    top = f.bottom + 38
    out = [_text(f.left, top, title, size=10, color="#444")]
    for k, (i, label, counts) in enumerate(rows):
        y, col = top + (k + 1) * ROW, palette[i % len(palette)]
        out.append(_text(f.left - 14, y, label, anchor="end", color=col))
        out.extend(_text(f.x(t), y, f"{n:.0f}", anchor="middle", size=10, color=col)
                   for t, n in zip(ticks.tolist(), np.asarray(counts).tolist(), strict=True))
    return out, top + len(rows) * ROW


def plot_survival_svg(
    result: Any,
    *,
    kind: Literal["survival", "failure", "cumhaz"] = "survival",
    conf_int: bool = True,
    censor_marks: bool = True,
    at_risk_table: bool = True,
    pvalue: Any = None,
    ticks: Sequence[float] | None = None,
    xlabel: str = "Time",
    ylabel: str | None = None,
    title: str | None = None,
    colors: Sequence[str] | None = None,
    at_risk_title: str = "Number at risk",
) -> str:
    """The curves of ``result`` (as :func:`plot_survival` takes it) as one ``<svg>`` element.

    Steps: 1. step curves from the result (``step_curves``); 2. the frame: x to 1.02 times the
    last time or the last tick, y over the unit interval (or the cumulative hazard's range), the
    left margin wide enough for the at-risk labels; 3. bands, curves and censor marks, clipped to
    the plot area; 4. axes, title, legend (several curves), p-value; 5. the at-risk rows at the
    ticks (the given ones, else about five round ones) and the x label under them.
    """
    curves = step_curves(result, kind=kind)
    if not curves:
        raise ValidationError("nothing to plot: no curves", field="result")
    palette = tuple(colors) if colors else PALETTE
    last = max((float(c.time[-1]) for c in curves if c.time.shape[0]), default=1.0)
    xticks = np.asarray(ticks, float) if ticks is not None else _nice_ticks(last * 1.02)
    xmax = max(last * 1.02, float(xticks.max()) if xticks.shape[0] else 0.0) or 1.0
    xticks = xticks[(xticks >= 0) & (xticks <= xmax)]
    label = ylabel or default_ylabel(result, kind)
    if label == "Cumulative hazard":
        top_value = max((float(np.nanmax(c.value)) for c in curves if c.value.shape[0]), default=1.0)
        ylim, yticks = (0.0, (top_value or 1.0) * 1.05), _nice_ticks((top_value or 1.0) * 1.05)
    else:
        ylim, yticks = (-0.02, 1.02), np.linspace(0, 1, 6)
    table = at_risk_table and any(c.n_risk is not None for c in curves)
    labels = [c.label for c in curves] if table else []
    left = min(max(62.0, max((_text_width(s) for s in labels), default=0.0) + 22), 220.0)
    f = _Frame(left, 34.0 if title else 14.0, xmax, ylim)
    body = []  # the curves, drawn inside the plot area's clip path
    for i, c in enumerate(curves):
        col = palette[i % len(palette)]
        if conf_int and c.lower is not None and c.upper is not None and c.time.shape[0]:
            body.append(f'<path d="{_band_path(f, c)}" fill="{col}" fill-opacity="0.15" stroke="none"/>')
        body.append(f'<path class="curve" data-label={quoteattr(c.label)} '
                    f'd="{_step_path(f, c.time, c.value, c.start_value)}" fill="none" stroke="{col}" stroke-width="1.5"/>')
        if censor_marks and (marks := _censor_path(f, c)):
            body.append(f'<path class="censor" d="{marks}" stroke="{col}" stroke-width="1.2"/>')
    clipped = len(body)
    body += _axes(f, xticks, yticks, label)
    if title:
        body.append(_text((f.left + f.right) / 2, 22, title, anchor="middle", size=13))
    if len(curves) > 1:
        body += _legend(f, curves, palette)
    if pvalue is not None:
        body.append(_text(f.x(0.03 * xmax), f.bottom - 10, pvalue_text(pvalue)))
    bottom = f.bottom + 20
    if table:
        rows, bottom = _at_risk(f, curves, xticks, palette, at_risk_title)
        body += rows
    body.append(_text((f.left + f.right) / 2, bottom + 24, xlabel, anchor="middle"))
    height = bottom + 36
    curves_text, rest_text = "".join(body[:clipped]), "".join(body[clipped:])
    # The clip path's id is unique per content, so several figures can share one page (deterministic:
    # the same curves give the same bytes in every process).
    clip = "km-clip-" + hashlib.blake2b((curves_text + rest_text).encode(), digest_size=6).hexdigest()
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {_num(height)}" width="{WIDTH}" '
            f'height="{_num(height)}" role="img" font-family="{FONT}" style="max-width:100%;height:auto">')
    caption = f"<title>{escape(title)}</title>" if title else ""
    clip_def = (f'<clipPath id="{clip}"><rect x="{_num(f.left)}" y="{_num(f.top)}" '
                f'width="{_num(f.right - f.left)}" height="{PLOT_HEIGHT}"/></clipPath>')
    return f'{head}{caption}{clip_def}<g clip-path="url(#{clip})">{curves_text}</g>{rest_text}</svg>'
