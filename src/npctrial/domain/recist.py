"""RECIST 1.1 tumour response.

Reference: Eisenhauer EA et al., "New response evaluation criteria in solid tumours: revised
RECIST guideline (version 1.1)", Eur J Cancer 2009;45:228-247 (sections 3-4, tables 1-3), and
the RECIST working group FAQ; summarised in shared/domain/recist.md.

Contents
- Baseline (in :mod:`npctrial.domain.recist_lesions`, re-exported here): :func:`classify_lesion`,
  :class:`Lesion`, :func:`select_target_lesions` / :func:`check_target_lesions`.
- :func:`target_response` (section 4.3.1): PD first (sum >= 120 % of the nadir **and** >= 5 mm
  above it), NE if a target is missing, CR (every non-nodal target gone and every nodal target
  short axis < 10 mm), PR (sum <= 70 % of baseline), otherwise SD.
- :func:`timepoint_response`: overall response from target, non-target and new lesions
  (table 1 with target disease, table 2 for non-target disease only).
- :func:`best_overall_response`: best response up to the first PD, with the SD minimum
  duration and, optionally, confirmation of CR/PR >= 4 weeks later (table 3).

Thresholds are inclusive as published ("at least a 30 % decrease", "at least a 20 % increase",
"absolute increase of at least 5 mm"). Comparisons allow 1e-9 mm for binary floating point, so
that e.g. 50 mm -> 60 mm is exactly +20 %.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from npctrial.domain.recist_lesions import (
    Lesion,
    TargetSelection,
    _size,
    check_target_lesions,
    classify_lesion,
    select_target_lesions,
)
from npctrial.errors import ValidationError
from npctrial.messages import message

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "BestOverallResponse",
    "Lesion",
    "TargetMeasurement",
    "TargetResponse",
    "TargetSelection",
    "Timepoint",
    "assess_target_series",
    "best_overall_response",
    "check_target_lesions",
    "classify_lesion",
    "compute_percent_change",
    "select_target_lesions",
    "target_response",
    "timepoint_response",
]

_EPS = 1e-9
TargetCategory = Literal["CR", "PR", "SD", "PD", "NE"]
NonTargetCategory = Literal["CR", "NON_CR_NON_PD", "PD", "NE"]
Overall = Literal["CR", "PR", "SD", "NON_CR_NON_PD", "PD", "NE"]


# --------------------------------------------------------------------------- target response


def compute_percent_change(current_mm: float, reference_mm: float) -> float | None:
    """Percent change of a sum of diameters from a reference (None when the reference is 0)."""
    cur, ref = _size(current_mm, "current_mm"), _size(reference_mm, "reference_mm")
    return None if ref == 0 else (cur - ref) / ref * 100.0


@dataclass(frozen=True)
class TargetMeasurement:
    """A target lesion at one assessment: diameter (SA for nodes) or None if not assessed.

    RECIST conventions: a lesion that disappeared is 0 mm; "too small to measure" is 5 mm.
    """

    lesion_id: str
    nodal: bool
    diameter_mm: float | None


@dataclass(frozen=True)
class TargetResponse:
    """Target-lesion response at one timepoint with the sums it was based on."""

    category: TargetCategory
    sum_mm: float
    baseline_sum_mm: float
    nadir_sum_mm: float
    change_from_baseline_pct: float | None
    change_from_nadir_pct: float | None
    change_from_nadir_mm: float
    needs_review: bool = False
    note: str = ""

    def summary(self) -> str:
        def pct(value: float | None) -> str:
            return "n/a" if value is None else f"{value:+.1f} %"

        text = (f"target response {self.category}: sum {self.sum_mm:g} mm; baseline "
                f"{self.baseline_sum_mm:g} mm ({pct(self.change_from_baseline_pct)}); nadir "
                f"{self.nadir_sum_mm:g} mm ({pct(self.change_from_nadir_pct)}, "
                f"{self.change_from_nadir_mm:+g} mm)")
        if self.note:
            text += f"; {self.note}"
        return text + (" [review]" if self.needs_review else "")


def target_response(
    current: Sequence[TargetMeasurement],
    *,
    baseline_sum_mm: float,
    nadir_sum_mm: float | None = None,
) -> TargetResponse:
    """Target response at one timepoint (RECIST 1.1 section 4.3.1).

    Steps: 1. sum the assessed diameters; 2. PD if that sum is >= 1.2 x nadir and >= nadir + 5 mm
    (decidable even with missing lesions, since they can only add); 3. NE if any target is not
    assessed; 4. CR if every non-nodal target is 0 mm and every nodal target < 10 mm;
    5. PR if sum <= 0.7 x baseline; 6. otherwise SD. ``nadir_sum_mm`` is the smallest sum so far
    including baseline and excluding this visit (defaults to the baseline sum).
    A CR-qualifying visit whose sum also meets PD (nodes growing but still < 10 mm) is reported
    as PD with ``needs_review`` set: the guideline does not settle this case.
    """
    if not current:
        raise ValidationError(message("recist.no_target_measured", "current must list at least one target lesion"),
                              field="current")
    base = _size(baseline_sum_mm, "baseline_sum_mm")
    if base <= 0:
        raise ValidationError(message("number.not_positive", "%(field)s must be > 0, got %(value)s",
                                      field="baseline_sum_mm", value=repr(baseline_sum_mm)), field="baseline_sum_mm")
    nadir = base if nadir_sum_mm is None else _size(nadir_sum_mm, "nadir_sum_mm")
    if nadir > base + _EPS:
        raise ValidationError(message("recist.nadir_above_baseline", "nadir_sum_mm (%(nadir)s) cannot exceed "
                                      "baseline_sum_mm (%(baseline)s)", nadir=nadir, baseline=base),
                              field="nadir_sum_mm")
    ids = Counter(m.lesion_id for m in current)
    if any(c > 1 for c in ids.values()):
        raise ValidationError(message("recist.target_measured_twice",
                                      "each target lesion may be measured once per timepoint"), field="current")
    sizes = [
        None if m.diameter_mm is None else _size(m.diameter_mm, f"{m.lesion_id}.diameter_mm")
        for m in current
    ]
    total = sum(s for s in sizes if s is not None)
    delta = total - nadir
    pd_met = total >= 1.2 * nadir - _EPS and delta >= 5 - _EPS
    complete = all(s is not None for s in sizes)
    cr_met = complete and all(
        (s is not None and (s < 10 if m.nodal else s == 0))
        for m, s in zip(current, sizes, strict=True)
    )

    def result(cat: TargetCategory, review: bool = False, note: str = "") -> TargetResponse:
        return TargetResponse(
            cat,
            total,
            base,
            nadir,
            compute_percent_change(total, base),
            compute_percent_change(total, nadir),
            delta,
            review,
            note,
        )

    if pd_met:
        if cr_met:
            return result(
                "PD", True, "all nodal targets < 10 mm but the sum meets PD: reviewer decision"
            )
        return result("PD")
    if not complete:
        return result("NE", note="not every target lesion was assessed")
    if cr_met:
        return result("CR")
    if total <= 0.7 * base + _EPS:
        return result("PR")
    return result("SD")


def assess_target_series(
    baseline: Sequence[TargetMeasurement], visits: Sequence[Sequence[TargetMeasurement]]
) -> tuple[TargetResponse, ...]:
    """Target responses for successive visits, tracking the nadir (smallest evaluable sum so far)."""
    if not baseline or any(m.diameter_mm is None for m in baseline):
        raise ValidationError(message("recist.baseline_incomplete", "baseline must measure every target lesion"),
                              field="baseline")
    base_ids = {m.lesion_id for m in baseline}
    base_sum = sum(_size(m.diameter_mm, f"{m.lesion_id}.diameter_mm") for m in baseline)  # type: ignore[arg-type]
    nadir = base_sum
    out: list[TargetResponse] = []
    for k, visit in enumerate(visits):
        ids = {m.lesion_id for m in visit}
        if ids != base_ids:
            raise ValidationError(message("recist.targets_differ_from_baseline", "visit %(visit)s: target lesions "
                                          "[%(lesions)s] differ from baseline [%(baseline)s]", visit=k + 1,
                                          lesions=tuple(repr(i) for i in sorted(ids)),
                                          baseline=tuple(repr(i) for i in sorted(base_ids))), field="visits")
        resp = target_response(visit, baseline_sum_mm=base_sum, nadir_sum_mm=nadir)
        out.append(resp)
        if resp.category != "NE":
            nadir = min(nadir, resp.sum_mm)
    return tuple(out)


# --------------------------------------------------------------------------- overall response


def _norm(value: object, allowed: tuple[str, ...], name: str) -> str | None:
    if value is None:
        return None
    text = str(value).strip().upper().replace("-", "_").replace("/", "_").replace(" ", "_")
    if text in ("NON_CR_NON_PD", "NONCR_NONPD", "NON_CR_NONPD"):
        text = "NON_CR_NON_PD"
    if text not in allowed:
        raise ValidationError(message("recist.unknown_category", "%(field)s must be one of %(allowed)s or None, got "
                                      "%(value)s", field=name, allowed=allowed, value=repr(value)), field=name)
    return text


def timepoint_response(
    target: TargetCategory | str | None,
    non_target: NonTargetCategory | str | None,
    new_lesions: bool | Literal["equivocal"],
) -> Overall:
    """Overall response at one timepoint (RECIST 1.1 tables 1 and 2).

    ``target=None``: the patient has no target lesions (non-target disease only, table 2).
    ``non_target=None``: no non-target lesions at baseline. ``new_lesions``: True for an
    unequivocal new lesion; ``"equivocal"`` is not PD (keep assessing; if later confirmed, PD
    is dated to the first sighting).
    """
    t = _norm(target, ("CR", "PR", "SD", "PD", "NE"), "target")
    nt = _norm(non_target, ("CR", "NON_CR_NON_PD", "PD", "NE"), "non_target")
    if new_lesions not in (True, False, "equivocal"):
        raise ValidationError(message("recist.new_lesions_invalid", "new_lesions must be True, False or 'equivocal', "
                                      "got %(value)s", value=repr(new_lesions)), field="new_lesions")
    if t is None and nt is None:
        raise ValidationError(message("recist.timepoint_needs_disease", "a timepoint needs target or non-target disease"),
                              field="target")
    if new_lesions is True or t == "PD" or nt == "PD":
        return "PD"
    if t is None:  # table 2
        return {"CR": "CR", "NON_CR_NON_PD": "NON_CR_NON_PD", "NE": "NE"}[nt]  # type: ignore[index,return-value]
    if t == "CR":
        return "CR" if nt in ("CR", None) else "PR"
    return t  # type: ignore[return-value]  # PR, SD, NE with non-target non-PD or not evaluated


@dataclass(frozen=True)
class Timepoint:
    """An overall timepoint response ``day`` days after the start of treatment."""

    day: int
    response: Overall | str


@dataclass(frozen=True)
class BestOverallResponse:
    """Best overall response, the day it was met and why."""

    response: Overall
    day: int | None
    confirmed: bool
    reason: str

    def summary(self) -> str:
        when = "" if self.day is None else f" on day {self.day}"
        status = " (confirmed)" if self.confirmed else ""
        return f"best overall response {self.response}{when}{status}: {self.reason}"

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd  # imported when used: the CLI and the EDC start without pandas

        return pd.DataFrame(
            [
                {
                    "response": self.response,
                    "day": self.day,
                    "confirmed": self.confirmed,
                    "reason": self.reason,
                }
            ]
        )


def best_overall_response(
    timepoints: Sequence[Timepoint | tuple[int, str]],
    confirmation: bool = False,
    min_sd_days: int = 42,
    *,
    min_confirm_days: int = 28,
) -> BestOverallResponse:
    """Best overall response (RECIST 1.1 section 4.4 and table 3).

    Steps: 1. sort by day; with confirmation, a PR, SD or NON_CR_NON_PD after a CR is PD at
    that timepoint (table 3: "CR then SD: SD provided minimum criteria for SD duration met,
    otherwise PD", and its note on CR then PR); keep timepoints up to and including the first PD;
    2. without confirmation: CR if any CR, else PR if any PR; with confirmation: CR if a CR is
    followed >= ``min_confirm_days`` later by CR; PR if a PR is followed that much later by PR or
    CR (a CR followed by PR is not confirmed, table 3); 3. otherwise SD (or NON_CR_NON_PD for
    non-target-only disease) if a non-PD evaluable response was recorded on or after
    ``min_sd_days``; 4. otherwise PD if a PD was recorded, else NE.
    ``min_sd_days`` is protocol data (RECIST: typically 6-8 weeks; default 42 days).
    """
    if isinstance(min_sd_days, bool) or not isinstance(min_sd_days, int) or min_sd_days < 0:
        raise ValidationError(message("recist.min_sd_days_invalid", "min_sd_days must be a non-negative integer, got "
                                      "%(value)s", value=repr(min_sd_days)), field="min_sd_days")
    if (isinstance(min_confirm_days, bool) or not isinstance(min_confirm_days, int)
            or min_confirm_days < 1):
        raise ValidationError(message("recist.min_confirm_days_invalid", "min_confirm_days must be a positive "
                                      "integer, got %(value)s", value=repr(min_confirm_days)), field="min_confirm_days")
    points: list[tuple[int, str]] = []
    for i, tp in enumerate(timepoints):
        if isinstance(tp, Timepoint):
            day, resp = tp.day, tp.response
        elif isinstance(tp, tuple | list) and len(tp) == 2:
            day, resp = tp
        else:
            raise ValidationError(message("recist.timepoint_invalid", "timepoints[%(row)s] must be a Timepoint or a "
                                          "(day, response) pair, got %(value)s", row=i, value=repr(tp)),
                                  field="timepoints")
        if isinstance(day, bool) or not isinstance(day, int) or day < 0:
            raise ValidationError(message("recist.timepoint_day_invalid", "timepoints[%(row)s].day must be an integer "
                                          ">= 0, got %(value)s", row=i, value=repr(day)), field="timepoints")
        norm = _norm(
            resp, ("CR", "PR", "SD", "NON_CR_NON_PD", "PD", "NE"), f"timepoints[{i}].response"
        )
        if norm is None:
            raise ValidationError(message("recist.timepoint_response_missing", "timepoints[%(row)s].response is "
                                          "missing", row=i), field="timepoints")
        points.append((day, norm))
    points.sort(key=lambda p: p[0])
    if len({d for d, _ in points}) != len(points):
        raise ValidationError(message("recist.timepoints_same_day", "two timepoints on the same day"),
                              field="timepoints")
    kinds = {r for _, r in points}
    if "SD" in kinds and "NON_CR_NON_PD" in kinds:
        raise ValidationError(message("recist.sd_and_non_cr_non_pd", "SD and NON_CR_NON_PD cannot both occur for "
                                      "one patient"), field="timepoints")
    stable: Overall = "NON_CR_NON_PD" if "NON_CR_NON_PD" in kinds else "SD"
    reappeared: int | None = None
    if confirmation:
        # Table 3 and its note: once CR was met, disease at a later timepoint (even PR or SD
        # relative to baseline) has reappeared, which is PD at that timepoint.
        first_cr = next((i for i, (_, r) in enumerate(points) if r == "CR"), None)
        if first_cr is not None:
            for i in range(first_cr + 1, len(points)):
                day_i, r_i = points[i]
                if r_i in ("PR", "SD", "NON_CR_NON_PD"):
                    points[i] = (day_i, "PD")
                    reappeared = day_i
                    break
    first_pd = next((i for i, (_, r) in enumerate(points) if r == "PD"), None)
    if first_pd is not None:
        points = points[: first_pd + 1]

    def first_day(resp: str) -> int | None:
        return next((d for d, r in points if r == resp), None)

    if not confirmation:
        best: Overall
        for best in ("CR", "PR"):
            hit = first_day(best)
            if hit is not None:
                return BestOverallResponse(
                    best, hit, False, f"{best} on day {hit} (no confirmation required)"
                )
    else:
        for i, (day_i, r_i) in enumerate(points):
            if r_i != "CR":
                continue
            for day_j, r_j in points[i + 1 :]:
                if r_j == "CR" and day_j - day_i >= min_confirm_days:
                    return BestOverallResponse(
                        "CR", day_i, True, f"CR on day {day_i} confirmed on day {day_j}"
                    )
        for i, (day_i, r_i) in enumerate(points):
            if r_i != "PR":
                continue
            for day_j, r_j in points[i + 1 :]:
                if r_j in ("CR", "PR") and day_j - day_i >= min_confirm_days:
                    return BestOverallResponse(
                        "PR", day_i, True, f"PR on day {day_i} confirmed on day {day_j}"
                    )
    sd_day = next(
        (d for d, r in points if r in ("CR", "PR", "SD", "NON_CR_NON_PD") and d >= min_sd_days),
        None,
    )
    if sd_day is not None:
        why = (
            "unconfirmed response counted as stable disease; "
            if confirmation and kinds & {"CR", "PR"}
            else ""
        )
        return BestOverallResponse(
            stable, sd_day, False, f"{why}{stable} met on day {sd_day} >= {min_sd_days}"
        )
    if first_pd is not None:
        day = points[-1][0]
        what = "disease after CR" if day == reappeared else "PD"
        return BestOverallResponse(
            "PD", day, False, f"{what} on day {day} (no stable disease on or after day {min_sd_days})"
        )
    return BestOverallResponse("NE", None, False, "no evaluable response meeting the criteria")
