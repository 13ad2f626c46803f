"""RTOG acute and RTOG/EORTC late radiation morbidity scoring, and acute/late classification.

The organ scales and their wording are data (``data/rtog.yaml``). Grade 0 and grade 5 are
common to all organs of a scale; grades 1-4 are organ-specific and may be undefined (acute
salivary gland has no grade 3).

Reference: Cox JD, Stetz J, Pajak TF, Int J Radiat Oncol Biol Phys 1995;31:1341-1346.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from npctrial.domain._inputs import check_date
from npctrial.domain._tables import read_rule_table
from npctrial.errors import ValidationError
from npctrial.messages import message

Scale = Literal["acute", "late"]
SCALES: tuple[str, ...] = ("acute", "late")
#: Late = onset more than this many days after the end of radiotherapy (protocol convention).
LATE_AFTER_DAYS = 90


@cache
def rtog_table() -> dict[str, Any]:
    """The packaged RTOG/EORTC scales (organs, grade wording, timing rule, source)."""
    return read_rule_table("rtog.yaml")


@dataclass(frozen=True)
class RTOGGrade:
    """One selectable grade of an organ on a scale, with its wording."""

    scale: str
    organ_key: str
    organ: str
    grade: int
    text: str


@dataclass(frozen=True)
class RTOGOrgan:
    """An organ of a scale and the grades it offers (0 and 5 included)."""

    scale: str
    key: str
    name: str
    grades: tuple[int, ...]


def _scale(scale: str) -> dict[str, Any]:
    if scale not in SCALES:
        raise ValidationError(message("rtog.unknown_scale", "scale must be 'acute' or 'late', got %(value)s",
                                      value=repr(scale)), field="scale")
    return rtog_table()["scales"][scale]


def _organ_norm(text: str) -> str:
    key = re.sub(r"[^a-z]", "", text.lower().replace("&", "and"))
    key = key.replace("oesophag", "esophag").replace("andesophagus", "esophagus")
    return key[:-1] if key.endswith("glands") else key


def _organ(organ: str, scale: str) -> tuple[str, dict[str, Any]]:
    organs = _scale(scale)["organs"]
    if isinstance(organ, str):
        wanted = _organ_norm(organ)
        for key, spec in organs.items():
            if wanted in (_organ_norm(key), _organ_norm(spec["name"])):
                return key, spec
    raise ValidationError(message("rtog.unknown_organ", "organ %(organ)s is not on the RTOG %(scale)s scale; expected "
                                  "one of [%(expected)s]", organ=repr(organ), scale=scale,
                                  expected=tuple(repr(o) for o in sorted(organs))), field="organ")


def rtog_organs(scale: Scale | str) -> list[RTOGOrgan]:
    """Organs of the acute or late scale with the grades each offers."""
    out = []
    for key, spec in _scale(scale)["organs"].items():
        grades = (0, *(int(g) for g, t in spec["grades"].items() if t is not None), 5)
        out.append(RTOGOrgan(scale, key, spec["name"], grades))
    return out


def rtog_grades(organ: str, scale: Scale | str) -> list[RTOGGrade]:
    """Selectable grades (0, the defined 1-4, and 5) of an organ with their wording."""
    data = _scale(scale)
    key, spec = _organ(organ, scale)
    out = [RTOGGrade(scale, key, spec["name"], 0, str(data["grade_0"]))]
    out += [RTOGGrade(scale, key, spec["name"], int(g), str(t))
            for g, t in spec["grades"].items() if t is not None]
    out.append(RTOGGrade(scale, key, spec["name"], 5, str(data["grade_5"])))
    return out


def check_rtog_grade(organ: str, scale: Scale | str, grade: int) -> int:
    """Return ``grade`` if the organ's scale defines it, else raise ValidationError."""
    if isinstance(grade, bool) or not isinstance(grade, int):
        raise ValidationError(message("rtog.grade_not_integer", "grade must be an integer 0-5, got %(value)s",
                                      value=repr(grade)), field="grade")
    available = [g.grade for g in rtog_grades(organ, scale)]
    if grade not in available:
        key, _ = _organ(organ, scale)
        raise ValidationError(message("rtog.grade_not_defined",
                                      "grade %(grade)s is not defined for %(organ)s on the RTOG %(scale)s scale; "
                                      "valid grades [%(available)s]", grade=grade, organ=key, scale=scale,
                                      available=tuple(available)), field="grade")
    return grade


def rtog_grade_description(organ: str, scale: Scale | str, grade: int) -> RTOGGrade:
    """The wording of one grade (ValidationError if the grade is not defined)."""
    check_rtog_grade(organ, scale, grade)
    return next(g for g in rtog_grades(organ, scale) if g.grade == grade)


def classify_onset(
    onset: dt.date | str,
    rt_start: dt.date | str,
    rt_end: dt.date | str,
    *,
    late_after_days: int = LATE_AFTER_DAYS,
    counted_from: Literal["end", "start"] = "end",
) -> Literal["acute", "late"]:
    """'acute' or 'late' for a toxicity with the given onset date.

    Steps:
      1. Validate the dates: rt_start <= rt_end and onset not before rt_start.
      2. Days = onset - rt_end (``counted_from='end'``, the protocol rule: "late toxicities are
         evaluated beyond three months from the end of radiotherapy") or onset - rt_start + 1
         (``'start'``: the RTOG acute table's day 1 = first day of RT).
      3. Late when days > ``late_after_days`` (90); exactly 90 days is acute.
    """
    on, start, end = check_date(onset, "onset"), check_date(rt_start, "rt_start"), check_date(rt_end, "rt_end")
    if end < start:
        raise ValidationError(message("rtog.rt_end_before_start", "rt_end (%(end)s) must not be before rt_start "
                                      "(%(start)s)", end=end.isoformat(), start=start.isoformat()), field="rt_end")
    if on < start:
        raise ValidationError(message("rtog.onset_before_rt", "onset (%(onset)s) is before the start of radiotherapy "
                                      "(%(start)s)", onset=on.isoformat(), start=start.isoformat()), field="onset")
    if isinstance(late_after_days, bool) or not isinstance(late_after_days, int) or late_after_days < 0:
        raise ValidationError(message("rtog.late_after_days_invalid", "late_after_days must be a non-negative "
                                      "integer, got %(value)s", value=repr(late_after_days)), field="late_after_days")
    if counted_from == "end":
        days = (on - end).days
    elif counted_from == "start":
        days = (on - start).days + 1
    else:
        raise ValidationError(message("rtog.counted_from_invalid", "counted_from must be 'end' or 'start', got "
                                      "%(value)s", value=repr(counted_from)), field="counted_from")
    return "late" if days > late_after_days else "acute"


def check_rtog_timing(scale: Scale | str, assessment_date: dt.date | str, rt_start: dt.date | str | None,
                      rt_end: dt.date | str | None, *, late_after_days: int = LATE_AFTER_DAYS) -> int | None:
    """Days from the end of RT to the assessment (None before the course has an end date), if the
    assessment may be scored on ``scale``.

    1. An assessment of radiation morbidity is not before the first day of RT.
    2. A late score needs the end date of RT (the late period is counted from it).
    3. A late score is more than ``late_after_days`` (90) days after the end of RT
       (:func:`classify_onset`): day 90 is still acute, day 91 late. Acute scores are not
       limited by date here.
    """
    _scale(scale)
    day = check_date(assessment_date, "assessment_date")
    start = None if rt_start is None else check_date(rt_start, "rt_start")
    if start is not None and day < start:
        raise ValidationError(message("rtog.before_rt_start", "assessment_date (%(date)s) is before radiotherapy started",
                                      date=day.isoformat()), field="assessment_date")
    if rt_end is None or start is None:
        if scale == "late":
            raise ValidationError(message("rtog.late_needs_rt_end",
                                          "late RTOG toxicity needs the radiotherapy end date (treatment form)"),
                                  field="scale")
        return None
    end = check_date(rt_end, "rt_end")
    days = (day - end).days
    if scale == "late" and classify_onset(day, start, end, late_after_days=late_after_days) != "late":
        raise ValidationError(message("rtog.late_too_early",
                                      "late RTOG toxicity is scored only beyond %(limit)s days after the end of "
                                      "radiotherapy (%(days)s days)", limit=late_after_days, days=days), field="scale")
    return days


__all__ = [
    "LATE_AFTER_DAYS",
    "RTOGGrade",
    "RTOGOrgan",
    "SCALES",
    "check_rtog_grade",
    "check_rtog_timing",
    "classify_onset",
    "rtog_grade_description",
    "rtog_grades",
    "rtog_organs",
    "rtog_table",
]
