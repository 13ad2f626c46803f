"""Publication-style step plots of survival, cumulative-hazard and cumulative-incidence curves.

:func:`plot_survival` draws right-continuous step curves with optional pointwise bands, censor
marks, a p-value annotation and a numbers-at-risk table in an axis appended under the plot
(sharing its x axis, so the counts stay aligned with the ticks). It accepts a
:class:`~npctrial.survival.KaplanMeierResult`, a :class:`~npctrial.survival.NelsonAalenResult`,
a cumulative-incidence result (curves with ``time``/``est``/``var``) or any sequence of
:class:`StepCurve`.

Numbers at risk at a tick t follow R ``summary(fit, times=t)``: the number at risk at the first
observed time >= t (0 after the last one).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, ParamSpec, TypeVar

import numpy as np

from npctrial.errors import ValidationError
from npctrial.frozen import FrozenResult
from npctrial.survival.distributions import norm_ppf

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = ["StepCurve", "plot_survival", "step_curves"]

P = ParamSpec("P")
R = TypeVar("R")


def _font_fallback_on_call(func: Callable[P, R]) -> Callable[P, R]:
    """``npctrial.fonts``' ``with_font_fallback``, its import deferred to the first figure: the
    fonts package (with its PDF and Word helpers) is not loaded by ``import npctrial.survival``."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        from npctrial.fonts.figure_fonts import font_fallback

        with font_fallback():
            return func(*args, **kwargs)

    return wrapper


@dataclass(frozen=True)
class StepCurve(FrozenResult):
    """Plot-ready step data for one curve (value holds from ``time[i]`` to ``time[i+1]``)."""

    label: str
    time: np.ndarray
    value: np.ndarray
    lower: np.ndarray | None = None
    upper: np.ndarray | None = None
    censor_time: np.ndarray | None = None
    risk_time: np.ndarray | None = None
    n_risk: np.ndarray | None = None
    start_value: float = 1.0

    def at_risk(self, ticks: np.ndarray) -> np.ndarray | None:
        """Numbers at risk at each tick (R's rule), or None if unknown."""
        if self.n_risk is None or self.risk_time is None:
            return None
        i = np.searchsorted(self.risk_time, ticks, side="left")
        return np.concatenate([self.n_risk, [0.0]])[i]


def step_curves(result: Any, *, kind: Literal["survival", "failure", "cumhaz"] = "survival") -> list[StepCurve]:
    """Convert a result object into :class:`StepCurve` values.

    A result with a ``step_curves(kind=)`` method gives its own (Kaplan-Meier: "survival" S,
    "failure" 1 - S or "cumhaz"; Nelson-Aalen: the cumulative hazard); cumulative-incidence
    curves (``est`` and ``var``) give the incidence with a plain 95% band. This module imports no
    result class: the results import it.
    """
    if isinstance(result, StepCurve):
        return [result]
    if kind not in ("survival", "failure", "cumhaz"):
        raise ValidationError(f"kind must be survival, failure or cumhaz, got {kind!r}", field="kind")
    own = getattr(result, "step_curves", None)
    if callable(own):  # Kaplan-Meier and Nelson-Aalen results know their own curves
        return list(own(kind=kind))
    curves = getattr(result, "curves", result)
    if not isinstance(curves, Sequence) or isinstance(curves, str):
        raise ValidationError(
            f"cannot plot a {type(result).__name__}: expected a survival result or StepCurve list",
            field="result",
        )
    out = []
    z = float(norm_ppf(0.975))
    for c in curves:
        if isinstance(c, StepCurve):
            out.append(c)
            continue
        if hasattr(c, "est"):
            est = np.asarray(c.est, dtype=float)
            lo = up = None
            if getattr(c, "var", None) is not None:
                se = np.sqrt(np.asarray(c.var, dtype=float))
                lo, up = np.clip(est - z * se, 0, 1), np.clip(est + z * se, 0, 1)
            group = getattr(c, "group", "")
            cause = getattr(c, "cause", None)
            label = f"{group} cause {cause}".strip() if cause is not None else str(group)
            out.append(StepCurve(label, np.asarray(c.time, dtype=float), est, lo, up, start_value=0.0))
            continue
        raise ValidationError(f"cannot plot curve of type {type(c).__name__}", field="result")
    return out


def _steps(time: np.ndarray, value: np.ndarray, start: float) -> tuple[np.ndarray, np.ndarray]:
    x = np.concatenate([[0.0], time])
    y = np.concatenate([[start], value])
    return x, y


@_font_fallback_on_call
def plot_survival(
    result: Any,
    ax: Axes | None = None,
    at_risk_table: bool = True,
    *,
    kind: Literal["survival", "failure", "cumhaz"] = "survival",
    conf_int: bool = True,
    censor_marks: bool = True,
    pvalue: Any = None,
    ticks: Sequence[float] | None = None,
    xlabel: str = "Time",
    ylabel: str | None = None,
    title: str | None = None,
    colors: Sequence[str] | None = None,
    legend: bool = True,
    at_risk_title: str = "Number at risk",
) -> Axes:
    """Draw step curves; returns the main axes (the at-risk table is a second axes below it).

    ``pvalue`` may be a number or a result with ``p`` (e.g. :class:`LogRankResult`, whose test
    name is used in the annotation). ``ticks`` sets the x ticks used for the at-risk counts.
    Texts are drawn with :mod:`npctrial.fonts`' chain (DejaVu Sans, then a CJK font), so Chinese
    group labels render; ``at_risk_title`` heads the at-risk table.
    """
    import matplotlib as mpl
    from mpl_toolkits.axes_grid1 import make_axes_locatable

    curves = step_curves(result, kind=kind)
    if not curves:
        raise ValidationError("nothing to plot: no curves", field="result")
    if ax is None:
        import matplotlib.pyplot as plt  # only when we create the figure (selects a backend)

        _, ax = plt.subplots(figsize=(7, 5 if at_risk_table else 4))
    palette = list(colors) if colors is not None else mpl.rcParams["axes.prop_cycle"].by_key()["color"]
    xmax = max(float(c.time[-1]) for c in curves if c.time.shape[0]) if any(c.time.shape[0] for c in curves) else 1.0
    for i, c in enumerate(curves):
        col = palette[i % len(palette)]
        x, y = _steps(c.time, c.value, c.start_value)
        ax.step(x, y, where="post", color=col, label=c.label, linewidth=1.5)
        if conf_int and c.lower is not None and c.upper is not None:
            _, lo = _steps(c.time, c.lower, c.start_value)
            _, up = _steps(c.time, c.upper, c.start_value)
            ax.fill_between(x, lo, up, step="post", color=col, alpha=0.15, linewidth=0)
        if censor_marks and c.censor_time is not None and c.censor_time.shape[0]:
            # Value of the right-continuous step at each censoring time; before the first
            # step time the curve is at its start value (1 for survival, 0 for incidence).
            j = np.searchsorted(c.time, c.censor_time, side="right") - 1
            marks = np.where(j >= 0, c.value[np.maximum(j, 0)], c.start_value)
            ax.plot(c.censor_time, marks, linestyle="none", marker="|", markersize=8, color=col)
    ax.set_xlim(0, xmax * 1.02)
    default_label = default_ylabel(result, kind)
    if default_label != "Cumulative hazard":  # probabilities: the unit interval
        ax.set_ylim(-0.02, 1.02)
    ax.set_ylabel(ylabel or default_label)
    if title:
        ax.set_title(title)
    if legend and len(curves) > 1:
        ax.legend(frameon=False, loc="best")
    if pvalue is not None:
        ax.text(0.03, 0.05, pvalue_text(pvalue), transform=ax.transAxes, ha="left", va="bottom")
    tick_arr = np.asarray(ticks, dtype=float) if ticks is not None else None
    if tick_arr is not None:
        ax.set_xticks(tick_arr)
    ax.set_xlabel(xlabel)
    if at_risk_table and any(c.n_risk is not None for c in curves):
        if tick_arr is None:
            tick_arr = np.asarray([t for t in ax.get_xticks() if 0 <= t <= xmax * 1.02])
            ax.set_xticks(tick_arr)
        rows = [(c.label, c.at_risk(tick_arr)) for c in curves if c.n_risk is not None]
        divider = make_axes_locatable(ax)
        height = 0.25 + 0.22 * len(rows)
        tab = divider.append_axes("bottom", size=height, pad=0.55, sharex=ax)
        ax.set_xlabel("")
        tab.set_xlabel(xlabel)
        tab.set_ylim(len(rows) - 0.5, -0.5)
        tab.set_yticks(range(len(rows)))
        tab.set_yticklabels([r[0] for r in rows])
        for k, (_, counts) in enumerate(rows):
            col = palette[k % len(palette)]
            for tx, n in zip(tick_arr, counts, strict=True):  # type: ignore[arg-type]
                tab.text(tx, k, f"{n:.0f}", ha="center", va="center", color=col, fontsize=9)
        tab.set_title(at_risk_title, fontsize=9, loc="left")
        for side in ("top", "right", "left"):
            tab.spines[side].set_visible(False)
        tab.tick_params(axis="y", length=0, pad=22)
        for k, lbl in enumerate(tab.get_yticklabels()):
            lbl.set_color(palette[k % len(palette)])
        tab.set_xlim(ax.get_xlim())
    return ax


def default_ylabel(result: Any, kind: str) -> str:
    """The result's own label (``plot_ylabel(kind)``), else the cumulative incidence's."""
    own = getattr(result, "plot_ylabel", None)
    if callable(own):
        return str(own(kind))
    return "Cumulative hazard" if kind == "cumhaz" else "Cumulative incidence"


def pvalue_text(pvalue: Any) -> str:
    name = "p"
    p = pvalue
    if hasattr(pvalue, "p"):
        p = pvalue.p
        test = getattr(pvalue, "test_name", None)
        if test:
            name = f"{test[0].upper()}{test[1:]} p"
    p = float(p)
    return f"{name} < 0.001" if p < 0.001 else f"{name} = {p:.3f}"
