"""Frequency tables of a cohort: associations with a binary outcome (Table 1) and toxicity by grade.

Table 1 uses Pearson's chi-square without continuity correction (what SPSS prints as
"Pearson Chi-Square" and what reproduces the paper), switches automatically to Fisher's exact
test when any expected count is below ``fisher_below`` (footnoted), and adds the
Cochran-Armitage trend test for variables listed as ordered.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from npctrial.cohort.values import as_level, check_columns, is_missing
from npctrial.errors import SmallSampleWarning, ValidationError
from npctrial.stats import chi_square_test, cochran_armitage_trend, fisher_exact


def format_p_value(p: float | None) -> str:
    """'<0.001' or three decimals; '' when there is no test."""
    if p is None or not np.isfinite(p):
        return ""
    return "<0.001" if p < 0.001 else f"{p:.3f}"


@dataclass(frozen=True)
class AssociationRow:
    """One level of one variable, with its variable's test on the first row."""

    variable: str
    label: str
    level: str
    n_positive: int
    n_negative: int
    p_value: float | None
    test: str
    trend_p: float | None


@dataclass(frozen=True)
class AssociationTable:
    """Counts of a binary outcome by level of each variable, with one test per variable."""

    title: str
    positive_label: str
    negative_label: str
    n_positive: int
    n_negative: int
    rows: tuple[AssociationRow, ...]
    footnotes: tuple[str, ...]

    def p_values(self) -> dict[str, float]:
        """The p-value of each variable's test (chi-square or Fisher)."""
        return {r.variable: float(r.p_value) for r in self.rows if r.p_value is not None}

    def tests(self) -> dict[str, str]:
        return {r.variable: r.test for r in self.rows if r.p_value is not None}

    def to_frame(self) -> pd.DataFrame:
        recs = [
            {"Characteristic": "All cases", "Level": "", self.positive_label: self.n_positive,
             self.negative_label: self.n_negative, "Total": self.n_positive + self.n_negative,
             f"{self.positive_label} (%)": round(100 * self.n_positive / (self.n_positive + self.n_negative), 1),
             f"{self.positive_label} (col %)": 100.0, f"{self.negative_label} (col %)": 100.0,
             "p value": "", "Test": ""}
        ]
        for r in self.rows:
            total = r.n_positive + r.n_negative
            mark = "*" if r.p_value is not None and r.p_value < 0.05 else ""
            fisher = "\u2020" if r.test.startswith("Fisher") else ""
            p_text = format_p_value(r.p_value) + mark + fisher if r.p_value is not None else ""
            recs.append({
                "Characteristic": r.label if r.p_value is not None else "",
                "Level": r.level,
                self.positive_label: r.n_positive,
                self.negative_label: r.n_negative,
                "Total": total,
                f"{self.positive_label} (%)": round(100 * r.n_positive / total, 1) if total else 0.0,
                f"{self.positive_label} (col %)": round(100 * r.n_positive / self.n_positive, 1) if self.n_positive else 0.0,
                f"{self.negative_label} (col %)": round(100 * r.n_negative / self.n_negative, 1) if self.n_negative else 0.0,
                "p value": p_text,
                "Test": (r.test + (f"; trend p = {format_p_value(r.trend_p)}" if r.trend_p is not None else ""))
                if r.p_value is not None else "",
            })
        return pd.DataFrame(recs)

    def summary(self) -> str:
        return "\n".join([self.title, self.to_frame().to_string(index=False), *self.footnotes])


def association_table(
    frame: pd.DataFrame,
    outcome: str,
    variables: Sequence[str],
    *,
    positive: str = "1",
    positive_label: str = "Yes",
    negative_label: str = "No",
    labels: Mapping[str, str] | None = None,
    levels: Mapping[str, Sequence[str]] | None = None,
    trend: Sequence[str] = (),
    fisher_below: float = 5.0,
    title: str = "Association of clinicopathological features with the outcome",
) -> AssociationTable:
    """Table 1: for each variable, counts by outcome and the test of association.

    Steps per variable: (1) cross-tabulate levels (in ``levels`` order, else sorted) against
    the outcome, rows with a missing value excluded; (2) Pearson chi-square without continuity
    correction; (3) if any expected count < ``fisher_below``, Fisher's exact test instead
    (footnote); (4) for variables in ``trend``, the Cochran-Armitage trend p on level order.
    References: R ``chisq.test(correct = FALSE)``, ``fisher.test`` and ``prop.trend.test``
    (through :mod:`npctrial.stats`); Cochran, Biometrics 10 (1954) 417-451 for the expected-count
    rule; Armitage, Biometrics 11 (1955) 375-386 for the trend test.
    """
    labels = dict(labels or {})
    levels = dict(levels or {})
    check_columns(frame, [outcome, *variables], "association table")
    y = frame[outcome].map(as_level)
    pos = (y == str(positive)).to_numpy()
    known = y.notna().to_numpy()
    rows: list[AssociationRow] = []
    any_fisher = False
    for var in variables:
        x = frame[var].map(lambda v: None if is_missing(v) else str(v))
        ok = known & x.notna().to_numpy()
        present = sorted(set(x[ok]))
        order = [str(v) for v in levels.get(var, [])]
        order = [v for v in order if v in present] + [v for v in present if v not in order]
        counts = np.array([[int(np.sum(ok & (x == lv).to_numpy() & pos)),
                            int(np.sum(ok & (x == lv).to_numpy() & ~pos))] for lv in order])
        p: float | None = None
        test = ""
        trend_p = None
        nonempty = counts[counts.sum(axis=1) > 0]
        if nonempty.shape[0] >= 2 and (nonempty.sum(axis=0) > 0).all():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", SmallSampleWarning)
                chi = chi_square_test(nonempty)
            if chi.min_expected < fisher_below:
                p = fisher_exact(nonempty).p_value
                test = "Fisher's exact test"
                any_fisher = True
            else:
                p = chi.p_value
                test = "Pearson chi-square"
            if var in trend:
                trend_p = cochran_armitage_trend(nonempty.T).p_value
        for i, lv in enumerate(order):
            rows.append(AssociationRow(var, labels.get(var, var), lv, int(counts[i, 0]), int(counts[i, 1]),
                                       p if i == 0 else None, test, trend_p if i == 0 else None))
    notes = ["* p < 0.05.", "p values: Pearson chi-square test without continuity correction."]
    if any_fisher:
        notes.append(f"\u2020 Fisher's exact test, used because an expected count was below {fisher_below:g}.")
    if trend:
        notes.append("Trend: Cochran-Armitage test over the ordered levels (scores 1, 2, ...).")
    return AssociationTable(title, positive_label, negative_label, int(np.sum(known & pos)),
                            int(np.sum(known & ~pos)), tuple(rows), tuple(notes))


@dataclass(frozen=True)
class ToxicityTable:
    """Patients per grade for each toxicity (counts and percentages of the evaluable patients)."""

    title: str
    grades: tuple[int, ...]
    counts: pd.DataFrame  # rows: toxicity label, columns: grade

    def to_frame(self) -> pd.DataFrame:
        out = pd.DataFrame(index=self.counts.index)
        out.index.name = "Toxicity"
        totals = self.counts.sum(axis=1)
        for g in self.grades:
            c = self.counts[g]
            out[f"Grade {g}, n (%)"] = [
                f"{int(k)} ({100 * k / t:.1f})" if k > 0 else "0" for k, t in zip(c, totals, strict=True)
            ]
        out["N"] = totals.astype(int)
        return out.reset_index()

    def summary(self) -> str:
        return self.title + "\n" + self.to_frame().to_string(index=False)


def toxicity_table(
    frame: pd.DataFrame,
    variables: Sequence[str],
    *,
    grades: Sequence[int] = (0, 1, 2, 3, 4),
    labels: Mapping[str, str] | None = None,
    title: str = "Toxicity by grade",
) -> ToxicityTable:
    """Tables 2-3: number (and %) of patients with each grade, per toxicity; missing grades excluded."""
    labels = dict(labels or {})
    check_columns(frame, variables, "toxicity table")
    data = {}
    for var in variables:
        g = pd.to_numeric(frame[var], errors="coerce").dropna().astype(int)
        bad = ~g.isin(grades)
        if bad.any():
            row = int(g.index[bad.to_numpy()][0])
            raise ValidationError(f"{frame.index.name or 'row'} {row}, column {var!r}: grade(s) {sorted(set(g[bad]))} outside {list(grades)}",
                                  field=var, row=row)
        data[labels.get(var, var)] = [int((g == k).sum()) for k in grades]
    counts = pd.DataFrame.from_dict(data, orient="index", columns=list(grades))
    return ToxicityTable(title=title, grades=tuple(grades), counts=counts)


@dataclass(frozen=True)
class FrequencyTable:
    """Counts (and %) per level, or cumulative counts (and %) up to each landmark."""

    title: str
    frame: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        return self.frame.copy()

    def summary(self) -> str:
        return self.title + "\n" + self.frame.to_string(index=False)


def frequency_table(
    frame: pd.DataFrame, variable: str, *, levels: Sequence[str] = (), landmarks: Sequence[float] | None = None,
    title: str = "Frequencies",
) -> FrequencyTable:
    """Frequencies of ``variable`` among rows where it is known.

    Categorical: n and % per level (``levels`` order first). With ``landmarks`` (numeric
    variable): cumulative n and % with value <= each landmark, e.g. metastases within 12 months.
    """
    check_columns(frame, [variable], "frequency table")
    values = frame[variable]
    known = values.notna() & values.map(lambda v: not (isinstance(v, str) and v.strip() == ""))
    total = int(known.sum())
    rows = []
    if landmarks:
        x = pd.to_numeric(values[known], errors="coerce")
        for lm in landmarks:
            k = int((x <= lm).sum())
            rows.append({"Up to": lm, "n": k, "Total": total, "%": round(100 * k / total, 1) if total else 0.0})
    else:
        text = values[known].map(str)
        present = list(dict.fromkeys([str(v) for v in levels if str(v) in set(text)] + sorted(set(text))))
        for lv in present:
            k = int((text == lv).sum())
            rows.append({"Level": lv, "n": k, "%": round(100 * k / total, 1) if total else 0.0})
    return FrequencyTable(title, pd.DataFrame(rows))
