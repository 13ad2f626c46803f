"""Figures of the cohort report: KM and CIF curves with numbers at risk, forest plot, toxicity bars.

Figures carry no caption (the report numbers and captions them); a ``title`` can be drawn for
use on their own. Texts are drawn with :mod:`npctrial.fonts`' chain, chosen there.

Figures are built on :class:`matplotlib.figure.Figure` (no pyplot state) and saved
reproducibly: PNG at 300 dpi without a software tag, SVG with a fixed hash salt and no date,
so that a re-run gives byte-identical files.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from npctrial.cohort.cox_table import CoxTable, hr_text
from npctrial.cohort.survival_tables import CompetingRiskAnalysis, SurvivalAnalysis, curve_labels
from npctrial.cohort.tables import format_p_value
from npctrial.cohort.units import axis_label, axis_ticks
from npctrial.fonts import check_figure_glyphs, font_fallback, with_font_fallback
from npctrial.survival import StepCurve, plot_survival
from npctrial.survival.plotting import step_curves

_COLORS = ("#1f4e79", "#c0392b", "#2e8b57", "#8e44ad", "#d68910", "#566573")
DPI = 300


def save_figure(fig: Figure, stem: Path) -> tuple[Path, Path]:
    """Write ``stem``.png (300 dpi) and ``stem``.svg deterministically; return both paths.

    Texts that no available font can draw are a :class:`~npctrial.errors.MissingGlyphWarning`
    naming the text (the report lists it)."""
    FigureCanvasAgg(fig)
    png, svg = stem.with_suffix(".png"), stem.with_suffix(".svg")
    with font_fallback(), matplotlib.rc_context({"svg.hashsalt": "npctrial", "svg.fonttype": "path"}):
        check_figure_glyphs(fig, where=f"figure {stem.name}")
        fig.savefig(png, dpi=DPI, metadata={"Software": None})
        fig.savefig(svg, metadata={"Date": None, "Creator": None})
    return png, svg


@dataclass(frozen=True)
class _TestP:
    """A p-value with the test's name, as :func:`plot_survival` annotates it."""

    p: float
    test_name: str


Translate = Callable[[str], str]


def _curve_figure(curves: Sequence[StepCurve], *, title: str | None, unit: str | None, ylabel: str,
                  pvalue: object, ticks: Sequence[float] | None, legend: Sequence[str], rising: bool,
                  tr: Translate = str, xlabel: str | None = None) -> Figure:
    """One axes of step curves drawn by :func:`npctrial.survival.plot_survival` (censor marks,
    p-value annotation, numbers-at-risk table aligned under the axis) on a pyplot-free Figure.
    Ticks fit the time unit (:func:`npctrial.cohort.units.axis_ticks`). For ``rising`` curves
    (incidence, 1 - KM) the p-value moves to the top left, away from them. The caption is the
    report's; ``title`` (optional) is drawn above the axes."""
    fig = Figure(figsize=(7.0, 5.0 + 0.25 * len(curves)))
    fig.subplots_adjust(left=0.24, right=0.96, top=0.95 if title is None else 0.92)
    ax = fig.add_subplot(1, 1, 1)
    tmax = max(float(c.time[-1]) if len(c.time) else 0.0 for c in curves)
    plot_survival(list(curves), ax, at_risk_table=True, conf_int=False, pvalue=pvalue,
                  ticks=ticks if ticks is not None else axis_ticks(tmax, unit), xlabel=xlabel or tr(axis_label(unit)),
                  ylabel=ylabel, colors=_COLORS, legend=False, at_risk_title=tr("Number at risk"))
    if pvalue is not None and rising:
        ax.texts[-1].set_position((0.03, 0.95))
        ax.texts[-1].set_verticalalignment("top")
    handles = [line for line in ax.get_lines() if not str(line.get_label()).startswith("_")]
    ax.legend(handles, list(legend), fontsize=8, frameon=False, loc="center right" if rising else "best")
    if title:
        ax.set_title(textwrap.fill(title, 70), fontsize=9)
    ax.grid(alpha=0.3)
    return fig


@with_font_fallback
def km_figure(analysis: SurvivalAnalysis, *, unit: str | None = None, ticks: Sequence[float] | None = None,
              title: str | None = None, tr: Translate = str, xlabel: str | None = None) -> Figure:
    """Kaplan-Meier (or, with ``analysis.failure``, 1 - KM) step curves with censor marks, the
    log-rank p, a legend with each group's n and the numbers at risk at ``ticks`` (by default
    ticks that fit ``unit``, e.g. every 12 months or every 180 days). ``tr`` translates the fixed
    texts (axis labels, test name; :func:`npctrial.i18n.translator`); ``xlabel`` replaces the
    time axis label."""
    by_label = {c.label: c for c in step_curves(analysis.km, kind="failure" if analysis.failure else "survival")}
    labels = curve_labels(analysis.km, analysis.groups)
    curves = [replace(by_label[lb], label=name) for lb, name in zip(labels, analysis.groups, strict=True)]
    legend = [f"{name} (n={analysis.km.curve(lb).n})" for lb, name in zip(labels, analysis.groups, strict=True)]
    pvalue = None if analysis.logrank_p is None else _TestP(analysis.logrank_p, tr("log-rank test"))
    return _curve_figure(curves, title=title, unit=unit if unit is not None else analysis.unit, pvalue=pvalue,
                         ylabel=tr("Cumulative event rate") if analysis.failure else tr("Survival probability"),
                         ticks=ticks, legend=legend, rising=analysis.failure, tr=tr, xlabel=xlabel)


@with_font_fallback
def cif_figure(analysis: CompetingRiskAnalysis, *, unit: str | None = None, ticks: Sequence[float] | None = None,
               title: str | None = None, tr: Translate = str, xlabel: str | None = None) -> Figure:
    """Cumulative incidence curves (Aalen-Johansen) with censor marks, Gray's test p, a legend
    with each group's n and the numbers at risk at ``ticks``."""
    curves = list(analysis.curves)
    legend = [f"{c.label} (n={len(c.risk_time) if c.risk_time is not None else 0})" for c in curves]
    pvalue = None if analysis.gray_p is None else _TestP(analysis.gray_p, tr("Gray's test"))
    return _curve_figure(curves, title=title, unit=unit, ylabel=tr("Cumulative incidence"), pvalue=pvalue, ticks=ticks,
                         legend=legend, rising=True, tr=tr, xlabel=xlabel)


def _text_width(fig: Figure, texts: Sequence[str], fontsize: float) -> float:
    """The widest of ``texts`` in inches, measured with the figure's renderer."""
    renderer = FigureCanvasAgg(fig).get_renderer()
    widest = 0.0
    for t in texts:
        artist = fig.text(0, 0, t, fontsize=fontsize)
        widest = max(widest, artist.get_window_extent(renderer).width / fig.dpi)
        artist.remove()
    return widest


@with_font_fallback
def forest_figure(table: CoxTable, *, title: str | None = None, tr: Translate = str) -> Figure:
    """Hazard ratios with 95 % CIs on a log axis, univariate (squares) and multivariate
    (diamonds) under each other, with the columns N, HR (95% CI) and p beside the plot.

    The label and number columns are measured with the renderer, so the figure is as wide as
    its longest label needs: nothing is clipped. Terms whose HR or CI is not finite are not
    drawn (the table notes name them)."""
    f = table.forest if table.forest is not None else pd.DataFrame()
    if len(f):
        f = f[np.isfinite(f["hr"]) & np.isfinite(f["lower"]) & np.isfinite(f["upper"])].reset_index(drop=True)
    size = 8.0
    labels = [lb if m == "univariate" else "    " + tr("adjusted") for lb, m in zip(f.get("label", []), f.get("model", []),
                                                                         strict=True)]
    numbers = [[str(int(n)), hr_text(h, lo, hi), format_p_value(p) or "NA"]
               for n, h, lo, hi, p in zip(f.get("n", []), f.get("hr", []), f.get("lower", []), f.get("upper", []),
                                          f.get("p", []), strict=True)]
    heads = ["N", tr("HR (95% CI)"), "p"]
    probe = Figure(figsize=(4, 4))
    label_w = _text_width(probe, [*labels, "Term"], size) + 0.15
    col_w = [_text_width(probe, [heads[j], *[r[j] for r in numbers]], size) + 0.2 for j in range(3)]
    plot_w = 3.0
    width = label_w + plot_w + sum(col_w) + 0.3
    n = max(len(f), 1)
    height = 1.1 + 0.24 * n
    fig = Figure(figsize=(width, height))
    left = label_w / width
    ax = fig.add_axes((left, 0.7 / height, plot_w / width, (height - 1.0) / height))
    y = np.arange(len(f))[::-1].astype(float)
    for model, marker, color in (("univariate", "s", _COLORS[0]), ("multivariate", "D", _COLORS[1])):
        sel = (f["model"] == model).to_numpy() if len(f) else np.zeros(0, dtype=bool)
        if sel.any():
            g = f[sel]
            ax.errorbar(g["hr"], y[sel], xerr=[g["hr"] - g["lower"], g["upper"] - g["hr"]], fmt=marker, color=color,
                        ecolor="#555555", capsize=2, ms=4, label=tr(model))
    ax.axvline(1.0, color="#999999", lw=1, ls="--")
    ax.set_xscale("log")
    ax.set_ylim(-0.7, len(f) - 0.3)
    ax.set_yticks(y)
    ax.set_yticklabels(labels, fontsize=size)
    ax.set_xlabel(tr("Hazard ratio (95% CI, log scale)"), fontsize=size)
    ax.tick_params(axis="x", labelsize=size)
    if len(f) and (f["model"] == "multivariate").any():
        ax.legend(fontsize=7, frameon=False, loc="upper right", bbox_to_anchor=(1.0, 1.0 + 0.5 / height))
    x0 = (label_w + plot_w + 0.15) / width
    for j, head in enumerate(heads):
        x = x0 + sum(col_w[:j]) / width
        ax.annotate(head, xy=(x, 1.0), xycoords=("figure fraction", "axes fraction"), fontsize=size,
                    fontweight="bold", va="bottom")
        for yi, row in zip(y, numbers, strict=True):
            ax.annotate(row[j], xy=(x, yi), xycoords=("figure fraction", "data"), fontsize=size, va="center")
    if title:
        fig.suptitle(textwrap.fill(title, 90), fontsize=9)
    return fig


@with_font_fallback
def toxicity_figure(counts: pd.DataFrame, title: str | None = None, labels: Mapping[int, str] | None = None, *,
                    tr: Translate = str) -> Figure:
    """Horizontal stacked bars: percentage of patients per grade for each toxicity."""
    fig = Figure(figsize=(7.0, 1.2 + 0.5 * len(counts)))
    ax = fig.add_subplot(1, 1, 1)
    pct = counts.div(counts.sum(axis=1), axis=0) * 100
    left = np.zeros(len(pct))
    shades = ("#d5e8d4", "#fff2cc", "#f8cecc", "#e06666", "#990000")
    for k, g in enumerate(pct.columns):
        ax.barh(range(len(pct)), pct[g], left=left, color=shades[k % len(shades)], edgecolor="white",
                label=(labels or {}).get(g, tr("Grade %(grade)s") % {"grade": g}))
        left += pct[g].to_numpy()
    ax.set_yticks(range(len(pct)))
    ax.set_yticklabels(list(pct.index))
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel(tr("Patients (%)"))
    if title:
        ax.set_title(textwrap.fill(title, 70), fontsize=9)
    ax.legend(ncol=len(pct.columns), fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.25), frameon=False)
    fig.subplots_adjust(bottom=0.3, left=0.2)
    return fig
