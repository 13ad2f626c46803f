"""Figures of the cohort report: KM and CIF curves with numbers at risk, forest plot, toxicity bars.

Figures are built on :class:`matplotlib.figure.Figure` (no pyplot state) and saved
reproducibly: PNG at 300 dpi without a software tag, SVG with a fixed hash salt and no date,
so that a re-run gives byte-identical files.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from npctrial.cohort.survival_tables import (
    CompetingRiskAnalysis,
    CoxTable,
    SurvivalAnalysis,
    curve_labels,
)

_COLORS = ("#1f4e79", "#c0392b", "#2e8b57", "#8e44ad", "#d68910", "#566573")
DPI = 300


def save_figure(fig: Figure, stem: Path) -> tuple[Path, Path]:
    """Write ``stem``.png (300 dpi) and ``stem``.svg deterministically; return both paths."""
    FigureCanvasAgg(fig)
    png, svg = stem.with_suffix(".png"), stem.with_suffix(".svg")
    with matplotlib.rc_context({"svg.hashsalt": "npctrial", "svg.fonttype": "path"}):
        fig.savefig(png, dpi=DPI, metadata={"Software": None})
        fig.savefig(svg, metadata={"Date": None, "Creator": None})
    return png, svg


def _risk_counts(time: np.ndarray, n_risk: np.ndarray, n: int, ticks: Sequence[float]) -> list[int]:
    """Numbers at risk at each tick (R's summary(fit, times) n.risk): at risk just after t."""
    out = []
    for t in ticks:
        i = int(np.searchsorted(time, t, side="left"))
        out.append(int(n_risk[i]) if i < len(time) else 0)
    return out


def _ticks(tmax: float) -> list[float]:
    step = 12.0 if tmax > 36 else 6.0
    return list(np.arange(0.0, tmax + 1e-9, step))


def km_figure(analysis: SurvivalAnalysis, *, xlabel: str = "Time (months)") -> Figure:
    """Step curves with censor marks, log-rank p annotation and an aligned numbers-at-risk table."""
    n_groups = len(analysis.km.labels)
    fig = Figure(figsize=(7.0, 5.0 + 0.25 * n_groups))
    gs = fig.add_gridspec(2, 1, height_ratios=[4, 0.6 + 0.3 * n_groups], hspace=0.35, left=0.24, right=0.96)
    ax = fig.add_subplot(gs[0])
    tab = fig.add_subplot(gs[1], sharex=ax)
    tmax = max(float(analysis.km.curve(lb).time[-1]) for lb in analysis.km.labels)
    ticks = _ticks(tmax)
    for k, lb in enumerate(curve_labels(analysis.km, analysis.groups)):
        c = analysis.km.curve(lb)
        s = 1 - c.surv if analysis.failure else c.surv
        x = np.r_[0.0, c.time]
        y = np.r_[0.0 if analysis.failure else 1.0, s]
        color = _COLORS[k % len(_COLORS)]
        name = analysis.groups[k]
        ax.step(x, y, where="post", color=color, lw=1.5, label=f"{name} (n={c.n})")
        cens = c.n_censor > 0
        ax.plot(c.time[cens], s[cens], "|", color=color, ms=6, mew=1)
        counts = _risk_counts(c.time, c.n_risk, c.n, ticks)
        for t, m in zip(ticks, counts, strict=True):
            tab.text(t, n_groups - 1 - k, str(m), ha="center", va="center", fontsize=8, color=color)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlim(0, ticks[-1] if ticks[-1] >= tmax else tmax)
    ax.set_ylabel("Cumulative event rate" if analysis.failure else "Survival probability")
    ax.set_title(textwrap.fill(analysis.title, 70), fontsize=9)
    ax.grid(alpha=0.3)
    if analysis.logrank_p is not None:
        p = analysis.logrank_p
        ptxt = "p < 0.001" if p < 0.001 else f"p = {p:.3f}"
        ax.text(0.98, 0.04 if not analysis.failure else 0.9, f"Log-rank \u03c7\u00b2 = {analysis.logrank_chisq:.2f}, {ptxt}",
                transform=ax.transAxes, ha="right", fontsize=9)
    ax.legend(loc="lower left" if not analysis.failure else "upper left", fontsize=8, frameon=False)
    ax.set_xticks(ticks)
    tab.set_ylim(-0.5, n_groups - 0.5)
    tab.set_yticks(range(n_groups))
    tab.set_yticklabels([analysis.groups[n_groups - 1 - i] for i in range(n_groups)], fontsize=8)
    tab.set_xlabel(xlabel)
    tab.set_title("Number at risk", fontsize=8, loc="left")
    for side in ("top", "right", "left"):
        tab.spines[side].set_visible(False)
    tab.tick_params(axis="y", length=0, pad=22)
    return fig


def cif_figure(analysis: CompetingRiskAnalysis, *, xlabel: str = "Time (months)") -> Figure:
    """Cumulative incidence curves (Aalen-Johansen) with Gray's test p annotation."""
    n_groups = len(analysis.curves)
    fig = Figure(figsize=(7.0, 5.0 + 0.25 * n_groups))
    gs = fig.add_gridspec(2, 1, height_ratios=[4, 0.6 + 0.3 * n_groups], hspace=0.35, left=0.24, right=0.96)
    ax = fig.add_subplot(gs[0])
    tab = fig.add_subplot(gs[1], sharex=ax)
    tmax = max(float(t[-1]) for t, _ in analysis.curves.values())
    ticks = _ticks(tmax)
    names = list(analysis.curves)
    for k, (lv, (t, est)) in enumerate(analysis.curves.items()):
        color = _COLORS[k % len(_COLORS)]
        ax.step(t, est, where="post", color=color, lw=1.5, label=lv)
        times = analysis.follow_up.get(lv)
        if times is not None:
            for tick in ticks:
                m = int(len(times) - np.searchsorted(times, tick, side="left"))
                tab.text(tick, n_groups - 1 - k, str(m), ha="center", va="center", fontsize=8, color=color)
    ax.set_xticks(ticks)
    ax.set_xlim(0, ticks[-1] if ticks[-1] >= tmax else tmax)
    tab.set_ylim(-0.5, n_groups - 0.5)
    tab.set_yticks(range(n_groups))
    tab.set_yticklabels([names[n_groups - 1 - i] for i in range(n_groups)], fontsize=8)
    tab.set_title("Number at risk", fontsize=8, loc="left")
    for side in ("top", "right", "left"):
        tab.spines[side].set_visible(False)
    tab.tick_params(axis="y", length=0, pad=22)
    tab.set_xlabel(xlabel)
    if analysis.gray_p is not None:
        p = analysis.gray_p
        ax.text(0.02, 0.92, f"Gray's test: {'p < 0.001' if p < 0.001 else f'p = {p:.3f}'}", transform=ax.transAxes, fontsize=9)
    ax.set_ylim(0, 1)
    ax.set_ylabel("Cumulative incidence")
    ax.set_title(textwrap.fill(analysis.title, 70), fontsize=9)
    ax.legend(loc="upper right", fontsize=8, frameon=False)
    ax.grid(alpha=0.3)
    return fig


def forest_figure(table: CoxTable) -> Figure:
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
    ax.set_xlabel("Hazard ratio (95% CI), univariate")
    ax.set_title(textwrap.fill(table.title, 70), fontsize=9)
    fig.subplots_adjust(left=0.4)
    return fig


def toxicity_figure(counts: pd.DataFrame, title: str, labels: Mapping[int, str] | None = None) -> Figure:
    """Horizontal stacked bars: percentage of patients per grade for each toxicity."""
    fig = Figure(figsize=(7.0, 1.2 + 0.5 * len(counts)))
    ax = fig.add_subplot(1, 1, 1)
    pct = counts.div(counts.sum(axis=1), axis=0) * 100
    left = np.zeros(len(pct))
    shades = ("#d5e8d4", "#fff2cc", "#f8cecc", "#e06666", "#990000")
    for k, g in enumerate(pct.columns):
        ax.barh(range(len(pct)), pct[g], left=left, color=shades[k % len(shades)], edgecolor="white",
                label=(labels or {}).get(g, f"Grade {g}"))
        left += pct[g].to_numpy()
    ax.set_yticks(range(len(pct)))
    ax.set_yticklabels(list(pct.index))
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("Patients (%)")
    ax.set_title(textwrap.fill(title, 70), fontsize=9)
    ax.legend(ncol=len(pct.columns), fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.25), frameon=False)
    fig.subplots_adjust(bottom=0.3, left=0.2)
    return fig
