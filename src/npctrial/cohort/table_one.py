"""Table 1: patient characteristics by outcome group, with one test per characteristic.

Categorical characteristics: n per level and group, column percentages whose denominator is
every patient of the group (an "Unknown" row holds the missing values, so a variable's rows
add up to 100 %); Pearson's chi-square without continuity correction (what SPSS prints as
"Pearson Chi-Square" and what reproduces the paper) on the known values, Fisher's exact test
when an expected count is below ``fisher_below`` (footnoted), and the Cochran-Armitage trend
test for variables listed as ordered. Continuous characteristics: median (IQR) per group, the
Wilcoxon rank-sum test for two groups or the Kruskal-Wallis test for more, on the known values.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats as sps

from npctrial.cohort.tables import format_p_value, p_statement
from npctrial.cohort.values import as_level, check_columns, is_missing
from npctrial.errors import SmallSampleWarning, ValidationError
from npctrial.stats import chi_square_test, cochran_armitage_trend, fisher_exact

UNKNOWN = "Unknown"


@dataclass(frozen=True)
class AssociationRow:
    """One level (or the median row, or the Unknown row) of one variable; the variable's test is
    on its first row. ``counts`` has one entry per group; ``summary`` (continuous variables) the
    median (IQR) text per group then overall."""

    variable: str
    label: str
    level: str
    counts: tuple[int, ...]
    p_value: float | None
    test: str
    trend_p: float | None
    summary: tuple[str, ...] = ()

    @property
    def n_positive(self) -> int:
        return self.counts[0]

    @property
    def n_negative(self) -> int:
        return int(sum(self.counts[1:]))


@dataclass(frozen=True)
class AssociationTable:
    """Counts (or medians) by outcome group for each variable, with one test per variable."""

    title: str
    group_labels: tuple[str, ...]
    group_totals: tuple[int, ...]
    rows: tuple[AssociationRow, ...]
    footnotes: tuple[str, ...]

    @property
    def positive_label(self) -> str:
        return self.group_labels[0]

    @property
    def negative_label(self) -> str:
        return self.group_labels[-1]

    @property
    def n_positive(self) -> int:
        return self.group_totals[0]

    @property
    def n_negative(self) -> int:
        return int(sum(self.group_totals[1:]))

    def p_values(self) -> dict[str, float]:
        """The p-value of each variable's test."""
        return {r.variable: float(r.p_value) for r in self.rows if r.p_value is not None}

    def tests(self) -> dict[str, str]:
        return {r.variable: r.test for r in self.rows if r.p_value is not None}

    def _record(self, r: AssociationRow | None, first: bool) -> dict[str, object]:
        labels, totals = self.group_labels, self.group_totals
        counts = r.counts if r is not None else totals
        total = int(sum(counts))
        rec: dict[str, object] = {"Characteristic": "All cases" if r is None else (r.label if first else ""),
                                  "Level": "" if r is None else r.level}
        if r is not None and r.summary:
            rec.update(dict(zip(labels, r.summary[:-1], strict=True)))
            rec["Total"] = r.summary[-1]
        else:
            rec.update(dict(zip(labels, counts, strict=True)))
            rec["Total"] = total
        if len(labels) == 2:
            rec[f"{labels[0]} (%)"] = "" if r is not None and r.summary else (
                round(100 * counts[0] / total, 1) if total else 0.0)
        for lab, k, n in zip(labels, counts, totals, strict=True):
            rec[f"{lab} (col %)"] = "" if r is not None and r.summary else (round(100 * k / n, 1) if n else 0.0)
        mark = "*" if r is not None and r.p_value is not None and r.p_value < 0.05 else ""
        dagger = "\u2020" if r is not None and r.test.startswith("Fisher") else ""
        rec["p value"] = format_p_value(r.p_value) + mark + dagger if r is not None and r.p_value is not None else ""
        trend = f"; trend {p_statement(r.trend_p)}" if r is not None and r.trend_p is not None else ""
        rec["Test"] = (r.test + trend) if r is not None and r.p_value is not None else ""
        return rec

    def to_frame(self) -> pd.DataFrame:
        recs = [self._record(None, True)]
        for i, r in enumerate(self.rows):
            recs.append(self._record(r, i == 0 or self.rows[i - 1].variable != r.variable))
        return pd.DataFrame(recs)

    def summary(self) -> str:
        return "\n".join([self.title, self.to_frame().to_string(index=False), *self.footnotes])


def _categorical_test(counts: np.ndarray, var: str, trend: Sequence[str], fisher_below: float
                      ) -> tuple[float | None, str, float | None]:
    nonempty = counts[counts.sum(axis=1) > 0]
    if nonempty.shape[0] < 2 or not (nonempty.sum(axis=0) > 0).all():
        return None, "", None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallSampleWarning)
        chi = chi_square_test(nonempty)
    if chi.min_expected < fisher_below:
        p, test = fisher_exact(nonempty).p_value, "Fisher's exact test"
    else:
        p, test = chi.p_value, "Pearson chi-square"
    trend_p = cochran_armitage_trend(nonempty.T).p_value if var in trend and nonempty.shape[1] == 2 else None
    return float(p), test, trend_p


def _quartiles(x: np.ndarray) -> str:
    if len(x) == 0:
        return "NA"
    q1, med, q3 = np.quantile(x, [0.25, 0.5, 0.75])  # R's quantile type 7
    return f"{med:.4g} ({q1:.4g}-{q3:.4g})"


def _rank_test(samples: list[np.ndarray]) -> tuple[float | None, str]:
    """Wilcoxon rank-sum (R's wilcox.test: exact when both groups < 50 without ties, else the
    normal approximation with continuity and tie corrections) or Kruskal-Wallis (R's kruskal.test)."""
    samples = [s for s in samples if len(s)]
    if len(samples) < 2:
        return None, ""
    if len(samples) == 2:
        x, y = samples
        ties = len(np.unique(np.concatenate([x, y]))) < len(x) + len(y)
        method = "exact" if len(x) < 50 and len(y) < 50 and not ties else "asymptotic"
        res = sps.mannwhitneyu(x, y, alternative="two-sided", use_continuity=True, method=method)
        return float(res.pvalue), "Wilcoxon rank-sum test"
    return float(sps.kruskal(*samples).pvalue), "Kruskal-Wallis test"


def _continuous_rows(var: str, label: str, values: pd.Series, group: np.ndarray, n_groups: int
                     ) -> list[AssociationRow]:
    x = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    known = np.isfinite(x)
    samples = [x[known & (group == k)] for k in range(n_groups)]
    p, test = _rank_test(samples)
    summary = tuple(_quartiles(s) for s in samples) + (_quartiles(x[known]),)
    rows = [AssociationRow(var, label, "median (IQR)", tuple(len(s) for s in samples), p, test, None, summary)]
    missing = tuple(int(np.sum(~known & (group == k))) for k in range(n_groups))
    if sum(missing):
        rows.append(AssociationRow(var, label, UNKNOWN, missing, None, "", None))
    return rows


def _outcome_groups(frame: pd.DataFrame, outcome: str, groups: Sequence[tuple[str, str]] | None,
                    positive: str, positive_label: str, negative_label: str) -> tuple[np.ndarray, list[tuple[str, str]]]:
    """Group code per row (-1 for an unknown outcome) and the (level, label) of each group."""
    y = frame[outcome].map(as_level)
    if groups is None:
        code = np.where(y.isna(), -1, np.where(y == str(positive), 0, 1))
        return code, [(str(positive), positive_label), ("other", negative_label)]
    levels = [g for g, _ in groups]
    code = np.array([levels.index(v) if v in levels else -1 for v in y])
    return code, list(groups)


def association_table(
    frame: pd.DataFrame, outcome: str, variables: Sequence[str], *, positive: str = "1",
    positive_label: str = "Yes", negative_label: str = "No", groups: Sequence[tuple[str, str]] | None = None,
    continuous: Sequence[str] = (), labels: Mapping[str, str] | None = None,
    levels: Mapping[str, Sequence[str]] | None = None, trend: Sequence[str] = (), fisher_below: float = 5.0,
    title: str = "Association of clinicopathological features with the outcome",
) -> AssociationTable:
    """Table 1: for each variable, counts (or medians) by outcome group and the test of association.

    Groups: ``positive`` against every other known outcome (labels ``positive_label`` /
    ``negative_label``), or ``groups`` as (level, label) pairs. Rows with an unknown outcome are
    left out. Per categorical variable: (1) cross-tabulate levels (``levels`` order, else
    sorted) by group, missing values in an "Unknown" row; (2) Pearson chi-square without
    continuity correction on the known values; (3) Fisher's exact test instead if any expected
    count < ``fisher_below`` (footnote); (4) for variables in ``trend`` (two groups), the
    Cochran-Armitage trend p on level order. Per ``continuous`` variable: median (IQR) by group
    and a rank test. References: R ``chisq.test(correct = FALSE)``, ``fisher.test``,
    ``prop.trend.test``, ``wilcox.test``, ``kruskal.test``; Cochran, Biometrics 10 (1954)
    417-451 for the expected-count rule; Armitage, Biometrics 11 (1955) 375-386.
    """
    labels = dict(labels or {})
    levels = dict(levels or {})
    check_columns(frame, [outcome, *variables], "association table")
    code, group_list = _outcome_groups(frame, outcome, groups, positive, positive_label, negative_label)
    known = code >= 0
    n_groups = len(group_list)
    data = frame.loc[known]
    g = code[known]
    rows: list[AssociationRow] = []
    any_fisher = any_unknown = False
    for var in variables:
        label = labels.get(var, var)
        if var in continuous:
            rows += _continuous_rows(var, label, data[var], g, n_groups)
            any_unknown |= rows[-1].level == UNKNOWN
            continue
        x = data[var].map(lambda v: None if is_missing(v) else as_level(v))
        present = sorted(set(x.dropna()))
        order = [str(v) for v in levels.get(var, []) if str(v) in present] + [v for v in present
                                                                              if v not in map(str, levels.get(var, []))]
        xv = x.to_numpy(dtype=object)
        counts = np.array([[int(np.sum((xv == lv) & (g == k))) for k in range(n_groups)] for lv in order],
                          dtype=int).reshape(len(order), n_groups)
        p, test, trend_p = _categorical_test(counts, var, trend, fisher_below)
        any_fisher |= test.startswith("Fisher")
        for i, lv in enumerate(order):
            rows.append(AssociationRow(var, label, lv, tuple(int(c) for c in counts[i]), p if i == 0 else None, test,
                                       trend_p if i == 0 else None))
        missing = tuple(int(np.sum(x.isna().to_numpy() & (g == k))) for k in range(n_groups))
        if sum(missing):
            any_unknown = True
            rows.append(AssociationRow(var, label, UNKNOWN, missing, None, "", None))
    if not rows and variables:
        raise ValidationError("association table: no variable to tabulate", field="association")
    notes = ["* p < 0.05.", "p values: Pearson chi-square test without continuity correction"
             + ("; continuous variables: median (IQR), Wilcoxon rank-sum or Kruskal-Wallis test" if continuous else "")
             + "."]
    if any_fisher:
        notes.append(f"\u2020 Fisher's exact test, used because an expected count was below {fisher_below:g}.")
    if trend:
        notes.append("Trend: Cochran-Armitage test over the ordered levels (scores 1, 2, ...).")
    if any_unknown:
        notes.append(f"{UNKNOWN}: missing values, counted in the column percentages and left out of the tests.")
    if int((~known).sum()):
        notes.append(f"{int((~known).sum())} patient(s) with an unknown {labels.get(outcome, outcome)} are not in "
                     "this table.")
    return AssociationTable(title, tuple(lb for _, lb in group_list), tuple(int(np.sum(g == k)) for k in range(n_groups)),
                            tuple(rows), tuple(notes))
