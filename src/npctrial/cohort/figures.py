"""Figures of the cohort report: KM and CIF curves with numbers at risk, forest plot, toxicity bars.

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

from npctrial.cohort.cox_table import CoxTable
from npctrial.cohort.survival_tables import CompetingRiskAnalysis, SurvivalAnalysis, curve_labels
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


def _ticks(tmax: float) -> list[float]:
    step = 12.0 if tmax > 36 else 6.0
    return list(np.arange(0.0, tmax + 1e-9, step))


def _curve_figure(curves: Sequence[StepCurve], *, title: str, xlabel: str, ylabel: str, pvalue: object,
                  ticks: Sequence[float] | None, legend: Sequence[str], rising: bool,
                  tr: Callable[[str], str] = str) -> Figure:
    """One axes of step curves drawn by :func:`npctrial.survival.plot_survival` (censor marks,
    p-value annotation, numbers-at-risk table aligned under the axis) on a pyplot-free Figure.
    For ``rising`` curves (incidence, 1 - KM) the p-value moves to the top left, away from them."""
    fig = Figure(figsize=(7.0, 5.0 + 0.25 * len(curves)))
    fig.subplots_adjust(left=0.24, right=0.96)
    ax = fig.add_subplot(1, 1, 1)
    tmax = max(float(c.time[-1]) for c in curves)
    plot_survival(list(curves), ax, at_risk_table=True, conf_int=False, pvalue=pvalue,
                  ticks=ticks if ticks is not None else _ticks(tmax), xlabel=xlabel, ylabel=ylabel,
                  colors=_COLORS, legend=False, at_risk_title=tr("Number at risk"))
    if pvalue is not None and rising:
        ax.texts[-1].set_position((0.03, 0.95))
        ax.texts[-1].set_verticalalignment("top")
    handles = [line for line in ax.get_lines() if not str(line.get_label()).startswith("_")]
    ax.legend(handles, list(legend), fontsize=8, frameon=False, loc="best")
    ax.set_title(textwrap.fill(title, 70), fontsize=9)
    ax.grid(alpha=0.3)
    return fig


@with_font_fallback
def km_figure(analysis: SurvivalAnalysis, *, xlabel: str = "Time (months)",
              ticks: Sequence[float] | None = None, tr: Callable[[str], str] = str) -> Figure:
    """Kaplan-Meier (or, with ``analysis.failure``, 1 - KM) step curves with censor marks, the
    log-rank p and the numbers at risk at ``ticks`` (every 12 or 6 months by default).
    ``tr`` translates the fixed texts (axis labels, test name; :func:`npctrial.i18n.translator`)."""
    by_label = {c.label: c for c in step_curves(analysis.km, kind="failure" if analysis.failure else "survival")}
    labels = curve_labels(analysis.km, analysis.groups)
    curves = [replace(by_label[lb], label=name) for lb, name in zip(labels, analysis.groups, strict=True)]
    legend = [f"{name} (n={analysis.km.curve(lb).n})" for lb, name in zip(labels, analysis.groups, strict=True)]
    return _curve_figure(curves, title=analysis.title, xlabel=tr(xlabel),
                         pvalue=None if analysis.logrank_p is None else _TestP(analysis.logrank_p, tr("log-rank test")),
                         ylabel=tr("Cumulative event rate") if analysis.failure else tr("Survival probability"),
                         ticks=ticks, legend=legend, rising=analysis.failure, tr=tr)


@with_font_fallback
def cif_figure(analysis: CompetingRiskAnalysis, *, xlabel: str = "Time (months)",
               ticks: Sequence[float] | None = None, tr: Callable[[str], str] = str) -> Figure:
    """Cumulative incidence curves (Aalen-Johansen) with censor marks, Gray's test p and the
    numbers at risk at ``ticks``."""
    curves = list(analysis.curves)
    return _curve_figure(curves, title=analysis.title, xlabel=tr(xlabel), ylabel=tr("Cumulative incidence"),
                         pvalue=None if analysis.gray_p is None else _TestP(analysis.gray_p, tr("Gray's test")),
                         ticks=ticks, legend=[c.label for c in curves], rising=True, tr=tr)


@with_font_fallback
def forest_figure(table: CoxTable, *, tr: Callable[[str], str] = str) -> Figure:
    """Univariate hazard ratios with 95 % CIs on a log axis."""
    f = table.forest if table.forest is not None else pd.DataFrame(columns=["term", "hr", "lower", "upper"])
    n = len(f)
    fig = Figure(figsize=(7.0, 1.0 + 0.35 * max(n, 1)))
    ax = fig.add_subplot(1, 1, 1)
    y = np.arange(n)[::-1]
    ax.errorbar(f["hr"], y, xerr=[f["hr"] - f["lower"], f["upper"] - f["hr"]], fmt="s", color=_COLORS[0],
                ecolor="#555555", capsize=2, ms=4)
    ax.axvline(1.0, color="#999999", lw=1, ls="--")
    ax.set_xscale("log")
    ax.set_yticks(y)
    ax.set_yticklabels(list(f["term"]), fontsize=8)
    ax.set_xlabel(tr("Hazard ratio (95% CI), univariate"))
    ax.set_title(textwrap.fill(table.title, 70), fontsize=9)
    fig.subplots_adjust(left=0.4)
    return fig


@with_font_fallback
def toxicity_figure(counts: pd.DataFrame, title: str, labels: Mapping[int, str] | None = None, *,
                    tr: Callable[[str], str] = str) -> Figure:
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
    ax.set_title(textwrap.fill(title, 70), fontsize=9)
    ax.legend(ncol=len(pct.columns), fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.25), frameon=False)
    fig.subplots_adjust(bottom=0.3, left=0.2)
    return fig
