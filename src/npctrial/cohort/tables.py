"""Frequency tables of a cohort (toxicity by grade, counts per level or up to landmarks) and
how p-values are printed. Table 1 is in :mod:`npctrial.cohort.table_one`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from npctrial.cohort.values import check_columns
from npctrial.errors import ValidationError


def format_p_value(p: float | None) -> str:
    """A p-value for a table column: '<0.001' or three decimals; '' when there is no test."""
    if p is None or not np.isfinite(p):
        return ""
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def p_statement(p: float | None) -> str:
    """A p-value in a sentence: 'p < 0.001' or 'p = 0.034' (never 'p = <0.001'); 'p not available'."""
    text = format_p_value(p)
    if not text:
        return "p not available"
    return f"p < {text[1:]}" if text.startswith("<") else f"p = {text}"


@dataclass(frozen=True)
class ToxicityTable:
    """Patients per grade for each toxicity (counts and percentages of the evaluable patients)."""

    title: str
    grades: tuple[int, ...]
    counts: pd.DataFrame  # rows: toxicity label, columns: grade
    not_graded: tuple[tuple[str, int], ...] = ()  # (toxicity label, patients without a grade), when any

    @property
    def notes(self) -> tuple[str, ...]:
        """Percentages are of the patients graded (N); those without a grade are counted here."""
        if not self.not_graded:
            return ()
        return ("Not graded (left out of N and the percentages): "
                + "; ".join(f"{label} {n}" for label, n in self.not_graded) + ".",)

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
    data, not_graded = {}, []
    for var in variables:
        g = pd.to_numeric(frame[var], errors="coerce").dropna().astype(int)
        if len(g) < len(frame):
            not_graded.append((labels.get(var, var), len(frame) - len(g)))
        bad = ~g.isin(grades)
        if bad.any():
            row = int(g.index[bad.to_numpy()][0])
            raise ValidationError(f"{frame.index.name or 'row'} {row}, column {var!r}: grade(s) {sorted(set(g[bad]))} outside {list(grades)}",
                                  field=var, row=row)
        data[labels.get(var, var)] = [int((g == k).sum()) for k in grades]
    counts = pd.DataFrame.from_dict(data, orient="index", columns=list(grades))
    return ToxicityTable(title=title, grades=tuple(grades), counts=counts, not_graded=tuple(not_graded))


@dataclass(frozen=True)
class FrequencyTable:
    """Counts (and %) per level, or cumulative counts (and %) up to each landmark."""

    title: str
    frame: pd.DataFrame
    n_unknown: int = 0  # rows where the variable is not known (left out of the percentages)

    @property
    def notes(self) -> tuple[str, ...]:
        return (f"Not known: {self.n_unknown} (left out of the percentages).",) if self.n_unknown else ()

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
    return FrequencyTable(title, pd.DataFrame(rows), len(frame) - total)
