"""Derived trial endpoints: time-to-event (OS, PFS, DMFS, LRRFS) and the adverse-event rate.

Definitions follow shared/domain/endpoints.md (FDA 2018 endpoint guidance; Sun 2016 and Zhang
2019 for NPC endpoints; Putter, Fiocco & Geskus, Stat Med 2007 for competing risks).

Time-to-event algorithm (:func:`derive_endpoint`)
1. Origin = the date named by the endpoint (enrolment by default; randomisation, RT start or
   end on request). Time = date - origin in **days** (same day = 0).
2. Drop every record after the data cut-off, if one is given.
3. Site failures relevant to the endpoint: PFS = progression or failure at any site; DMFS =
   distant; LRRFS = local or regional; OS = none. The first relevant failure date is the
   candidate event.
4. Censoring date: OS -> last date known alive (last contact or last assessment); the others ->
   last adequate disease assessment; with no post-origin assessment -> the origin (day 0).
5. Options: ``censor_at_new_therapy`` censors at the last adequate assessment before a new
   anticancer therapy that precedes the event; ``max_assessment_gap_days`` censors an event
   that follows the last adequate assessment by more than that gap (missed-visit rule).
6. Convention ``composite``: event = first of site failure or death from any cause (status 1).
   Convention ``site_only``: status 1 = site failure, status 2 = death without that failure
   (competing event), 0 = censored; failures at other sites do not stop follow-up.

AE rate (:func:`compute_ae_rate`): x = patients whose worst grade >= ``min_grade``; n = safety
population; exact Clopper-Pearson interval (Clopper & Pearson, Biometrika 1934):
lower = Beta^-1(alpha/2; x, n-x+1) (0 if x = 0), upper = Beta^-1(1-alpha/2; x+1, n-x) (1 if x = n).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from npctrial.domain._inputs import check_date
from npctrial.domain.protocol import EndpointSpec
from npctrial.errors import ValidationError
from npctrial.messages import message

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "DAYS_PER_MONTH",
    "DAYS_PER_YEAR",
    "STANDARD_ENDPOINTS",
    "AeRate",
    "EndpointValue",
    "Failure",
    "FirstFailure",
    "PatientCourse",
    "compute_ae_rate",
    "derive_endpoint",
    "derive_endpoints",
    "derive_first_failure",
    "derive_worst_grades",
]

DAYS_PER_MONTH = 30.4375
DAYS_PER_YEAR = 365.25

FailureSite = Literal["local", "regional", "distant", "progression"]
_SITES_FOR_EVENT = {
    "progression": ("local", "regional", "distant", "progression"),
    "local_failure": ("local",),
    "regional_failure": ("regional",),
    "distant_failure": ("distant",),
}

#: Default endpoint definitions (a protocol's own ``endpoints`` take precedence).
STANDARD_ENDPOINTS: Mapping[str, EndpointSpec] = {
    "OS": EndpointSpec(
        name="OS",
        label="Overall survival",
        kind="time_to_event",
        events=("death",),
        censoring="last_contact",
    ),
    "PFS": EndpointSpec(
        name="PFS",
        label="Progression-free survival",
        kind="time_to_event",
        events=("progression", "death"),
        censoring="last_adequate_assessment",
    ),
    "DMFS": EndpointSpec(
        name="DMFS",
        label="Distant metastasis-free survival",
        kind="time_to_event",
        events=("distant_failure", "death"),
        censoring="last_adequate_assessment",
    ),
    "LRRFS": EndpointSpec(
        name="LRRFS",
        label="Locoregional relapse-free survival",
        kind="time_to_event",
        events=("local_failure", "regional_failure", "death"),
        censoring="last_adequate_assessment",
    ),
}


def _opt_date(value: object, name: str) -> dt.date | None:
    return None if value is None else check_date(value, name)


@dataclass(frozen=True)
class Failure:
    """A documented failure at one site, dated at the first evidence."""

    site: FailureSite
    date: dt.date
    method: str | None = None

    def __post_init__(self) -> None:
        if self.site not in ("local", "regional", "distant", "progression"):
            raise ValidationError(message("endpoint.unknown_failure_site", "failure site must be local, regional, "
                                          "distant or progression, got %(value)s", value=repr(self.site)), field="site")
        object.__setattr__(self, "date", check_date(self.date, "failure date"))


def _failure(item: object, i: int) -> Failure:
    """A :class:`Failure` from a Failure or a mapping with site, date and optionally method."""
    if isinstance(item, Failure):
        return item
    if not isinstance(item, Mapping):
        raise ValidationError(message("endpoint.failure_not_mapping", "failures[%(row)s] must be a Failure or a "
                                      "mapping, got %(value)s", row=i, value=repr(item)), field="failures", row=i)
    unknown = sorted(set(item) - {"site", "date", "method"})
    missing = sorted({"site", "date"} - set(item))
    if unknown:
        raise ValidationError(message("endpoint.failure_unknown_key", "failures[%(row)s]: unknown key %(key)s; "
                                      "expected site, date and optionally method", row=i, key=repr(unknown[0])),
                              field="failures", row=i)
    if missing:
        raise ValidationError(message("endpoint.failure_missing_key", "failures[%(row)s]: missing %(key)s; "
                                      "expected site, date and optionally method", row=i, key=repr(missing[0])),
                              field="failures", row=i)
    return Failure(site=item["site"], date=item["date"], method=item.get("method"))


@dataclass(frozen=True)
class PatientCourse:
    """Dated events of one patient, the input to endpoint derivation."""

    patient_id: str
    enrolment: dt.date
    assessments: tuple[dt.date, ...] = ()
    failures: tuple[Failure, ...] = ()
    death: dt.date | None = None
    last_contact: dt.date | None = None
    randomisation: dt.date | None = None
    rt_start: dt.date | None = None
    rt_end: dt.date | None = None
    new_therapy: dt.date | None = None
    extra: Mapping[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "enrolment", check_date(self.enrolment, "enrolment"))
        for name in ("death", "last_contact", "randomisation", "rt_start", "rt_end", "new_therapy"):
            set_(self, name, _opt_date(getattr(self, name), name))
        set_(
            self, "assessments", tuple(sorted(check_date(d, "assessments") for d in self.assessments))
        )
        failures = tuple(_failure(f, i) for i, f in enumerate(self.failures))
        set_(self, "failures", failures)
        if self.death is not None:
            later = [d for d in self.assessments if d > self.death]
            if later:
                raise ValidationError(message("endpoint.assessment_after_death", "patient %(patient)s: assessment on "
                                              "%(day)s is after death on %(death)s", patient=self.patient_id,
                                              day=str(later[0]), death=str(self.death)), field="assessments")
            if self.last_contact is not None and self.last_contact > self.death:
                raise ValidationError(message("endpoint.contact_after_death", "patient %(patient)s: last_contact "
                                              "%(day)s is after death %(death)s", patient=self.patient_id,
                                              day=str(self.last_contact), death=str(self.death)), field="last_contact")


@dataclass(frozen=True)
class EndpointValue:
    """One patient's derived endpoint: time from origin and status (0 censored, 1 event, 2 competing)."""

    endpoint: str
    patient_id: str
    origin: str
    origin_date: dt.date
    end_date: dt.date
    time_days: int
    status: int
    reason: str
    convention: str

    @property
    def event(self) -> bool:
        return self.status == 1

    @property
    def time_months(self) -> float:
        return self.time_days / DAYS_PER_MONTH

    @property
    def time_years(self) -> float:
        return self.time_days / DAYS_PER_YEAR


def _resolve(endpoint: str | EndpointSpec) -> EndpointSpec:
    if isinstance(endpoint, EndpointSpec):
        if endpoint.kind != "time_to_event":
            raise ValidationError(message("endpoint.not_time_to_event", "endpoint %(name)s is not time-to-event",
                                          name=repr(endpoint.name)), field="endpoint")
        return endpoint
    key = str(endpoint).upper()
    if key not in STANDARD_ENDPOINTS:
        raise ValidationError(message("endpoint.unknown", "unknown endpoint %(name)s (known: %(known)s)",
                                      name=repr(endpoint), known=tuple(STANDARD_ENDPOINTS)), field="endpoint")
    return STANDARD_ENDPOINTS[key]


def derive_endpoint(
    course: PatientCourse,
    endpoint: str | EndpointSpec,
    *,
    origin: str | None = None,
    convention: Literal["composite", "site_only"] | None = None,
    cutoff: dt.date | str | None = None,
    censor_at_new_therapy: bool = True,
    max_assessment_gap_days: int | None = None,
) -> EndpointValue:
    """Time and status of one endpoint for one patient (steps 1-6 of the module docstring)."""
    spec = _resolve(endpoint)
    origin_name = origin or spec.origin
    conv = convention or spec.convention
    if conv not in ("composite", "site_only"):
        raise ValidationError(message("endpoint.unknown_convention", "convention must be composite or site_only, got "
                                      "%(value)s", value=repr(conv)), field="convention")
    origin_attr = {
        "enrolment": "enrolment",
        "randomisation": "randomisation",
        "rt_start": "rt_start",
        "rt_end": "rt_end",
    }.get(origin_name)
    if origin_attr is None:
        raise ValidationError(message("endpoint.unknown_origin", "unknown origin %(origin)s", origin=repr(origin_name)),
                              field="origin")
    origin_date = getattr(course, origin_attr)
    if origin_date is None:
        raise ValidationError(message("endpoint.origin_without_date", "patient %(patient)s: origin %(origin)s has no "
                                      "date", patient=course.patient_id, origin=repr(origin_name)), field=origin_name)
    cut = _opt_date(cutoff, "cutoff")

    def keep(d: dt.date | None) -> dt.date | None:
        return None if d is None or (cut is not None and d > cut) else d

    death = keep(course.death)
    assessments = [d for d in course.assessments if d >= origin_date and keep(d) is not None]
    sites = {s for e in spec.events if e != "death" for s in _SITES_FOR_EVENT[e]}
    failure_dates = sorted(
        f.date for f in course.failures if f.site in sites and keep(f.date) is not None
    )
    for d in failure_dates:
        if d < origin_date:
            raise ValidationError(message("endpoint.failure_before_origin", "patient %(patient)s: failure on %(day)s "
                                          "is before origin %(origin)s", patient=course.patient_id, day=str(d),
                                          origin=str(origin_date)), field="failures")
    if death is not None and death < origin_date:
        raise ValidationError(message("endpoint.death_before_origin", "patient %(patient)s: death on %(day)s is before "
                                      "origin %(origin)s", patient=course.patient_id, day=str(death),
                                      origin=str(origin_date)), field="death")

    if spec.censoring == "last_contact":
        # contacts before the origin (a baseline scan, the screening visit) are no follow-up
        known = [d for d in (keep(course.last_contact), *assessments) if d is not None and d >= origin_date]
        censor, censor_reason = (
            (max(known), "last contact") if known else (origin_date, "no follow-up")
        )
    else:
        censor, censor_reason = (
            (assessments[-1], "last adequate assessment")
            if assessments
            else (origin_date, "no assessment")
        )

    first_failure = failure_dates[0] if failure_dates else None
    candidates: list[tuple[dt.date, int, str]] = []
    if spec.events == ("death",):
        if death is not None:
            candidates.append((death, 1, "death"))
    else:
        if first_failure is not None:
            candidates.append((first_failure, 1, "failure"))
        if death is not None and conv == "composite" and "death" in spec.events:
            candidates.append((death, 1, "death"))
        elif death is not None and conv == "site_only":
            candidates.append((death, 2, "death (competing)"))
    candidates.sort(key=lambda c: (c[0], c[1]))

    if candidates:
        date, status, reason = candidates[0]
        if censor_at_new_therapy and course.new_therapy is not None and spec.events != ("death",):
            nt = course.new_therapy
            if nt < date:
                before = [d for d in assessments if d <= nt]
                end = before[-1] if before else origin_date
                return EndpointValue(
                    spec.name,
                    course.patient_id,
                    origin_name,
                    origin_date,
                    end,
                    (end - origin_date).days,
                    0,
                    "new anticancer therapy",
                    conv,
                )
        if max_assessment_gap_days is not None and spec.censoring == "last_adequate_assessment":
            last = max([origin_date, *[d for d in assessments if d <= date]])
            if (date - last).days > max_assessment_gap_days:
                return EndpointValue(
                    spec.name,
                    course.patient_id,
                    origin_name,
                    origin_date,
                    last,
                    (last - origin_date).days,
                    0,
                    "event after missed assessments",
                    conv,
                )
        return EndpointValue(
            spec.name,
            course.patient_id,
            origin_name,
            origin_date,
            date,
            (date - origin_date).days,
            status,
            reason,
            conv,
        )
    return EndpointValue(
        spec.name,
        course.patient_id,
        origin_name,
        origin_date,
        censor,
        (censor - origin_date).days,
        0,
        censor_reason,
        conv,
    )


def derive_endpoints(
    courses: Iterable[PatientCourse],
    endpoints: Sequence[str | EndpointSpec] = ("OS", "PFS", "DMFS", "LRRFS"),
    **options: object,
) -> pd.DataFrame:
    """Long table: one row per patient and endpoint (options as for :func:`derive_endpoint`)."""
    rows = []
    for course in courses:
        for ep in endpoints:
            v = derive_endpoint(course, ep, **options)  # type: ignore[arg-type]
            rows.append(
                {
                    "patient_id": v.patient_id,
                    "endpoint": v.endpoint,
                    "origin": v.origin,
                    "origin_date": v.origin_date,
                    "end_date": v.end_date,
                    "time_days": v.time_days,
                    "time_months": v.time_months,
                    "status": v.status,
                    "reason": v.reason,
                    "convention": v.convention,
                }
            )
    import pandas as pd  # imported when used

    return pd.DataFrame(rows)


@dataclass(frozen=True)
class FirstFailure:
    """Site(s) of first failure: every site failing within the simultaneity window of the first."""

    date: dt.date
    sites: tuple[str, ...]

    @property
    def pattern(self) -> str:
        return "+".join(self.sites)


_SITE_ORDER = ("local", "regional", "distant", "progression")


def derive_first_failure(
    course: PatientCourse, *, simultaneous_days: int = 30
) -> FirstFailure | None:
    """First failure and its sites (shared/domain/risk-and-followup.md §3).

    Failures dated within ``simultaneous_days`` of the earliest one (the same work-up; a protocol
    parameter, 30 days by default) are recorded together, e.g. ``local+distant``. None if the
    patient never failed. A site-unspecified ``progression`` is reported as such.
    """
    if (
        isinstance(simultaneous_days, bool)
        or not isinstance(simultaneous_days, int)
        or simultaneous_days < 0
    ):
        raise ValidationError(message("endpoint.simultaneous_days_invalid", "simultaneous_days must be an integer "
                                      ">= 0, got %(value)s", value=repr(simultaneous_days)), field="simultaneous_days")
    if not course.failures:
        return None
    first = min(f.date for f in course.failures)
    sites = {f.site for f in course.failures if (f.date - first).days <= simultaneous_days}
    return FirstFailure(first, tuple(s for s in _SITE_ORDER if s in sites))


# --------------------------------------------------------------------------- AE rate


@dataclass(frozen=True)
class AeRate:
    """Proportion of patients with worst grade >= ``min_grade`` and its exact interval."""

    x: int
    n: int
    min_grade: int
    confidence: float
    proportion: float
    lower: float
    upper: float

    def summary(self) -> str:
        pct = int(round(self.confidence * 100))
        return (
            f"grade >= {self.min_grade}: {self.x}/{self.n} = {self.proportion:.1%} "
            f"({pct}% CI {self.lower:.1%} to {self.upper:.1%}, Clopper-Pearson)"
        )


def derive_worst_grades(
    records: Iterable[tuple[str, int]], population: Iterable[str]
) -> dict[str, int]:
    """Worst CTCAE grade per patient of the safety ``population`` (patients without AE -> 0)."""
    worst = {str(p): 0 for p in population}
    for i, (pid, grade) in enumerate(records):
        pid = str(pid)
        if pid not in worst:
            raise ValidationError(message("endpoint.ae_patient_not_in_population", "AE record %(row)s: patient "
                                          "%(patient)s is not in the safety population", row=i, patient=repr(pid)),
                                  row=i)
        if isinstance(grade, bool) or not isinstance(grade, int) or not 0 <= grade <= 5:
            raise ValidationError(message("endpoint.ae_grade_invalid", "AE record %(row)s: grade must be an integer "
                                          "0-5, got %(value)s", row=i, value=repr(grade)), row=i)
        worst[pid] = max(worst[pid], grade)
    return worst


def compute_ae_rate(
    worst_grades: Sequence[int] | Mapping[str, int], *, min_grade: int = 3, confidence: float = 0.95
) -> AeRate:
    """AE-rate endpoint with an exact Clopper-Pearson interval (see module docstring)."""
    grades = (
        list(worst_grades.values()) if isinstance(worst_grades, Mapping) else list(worst_grades)
    )
    if not grades:
        raise ValidationError(message("endpoint.worst_grades_empty", "worst_grades must hold at least one patient"),
                              field="worst_grades")
    for i, g in enumerate(grades):
        if isinstance(g, bool) or not isinstance(g, int) or not 0 <= g <= 5:
            raise ValidationError(message("endpoint.worst_grade_invalid", "worst_grades[%(row)s] must be an integer "
                                          "0-5, got %(value)s", row=i, value=repr(g)), field="worst_grades")
    if not isinstance(min_grade, int) or not 1 <= min_grade <= 5:
        raise ValidationError(message("endpoint.min_grade_invalid", "min_grade must be 1-5, got %(value)s",
                                      value=repr(min_grade)), field="min_grade")
    if not 0 < confidence < 1:
        raise ValidationError(message("endpoint.confidence_invalid", "confidence must be in (0, 1), got %(value)s",
                                      value=repr(confidence)), field="confidence")
    n = len(grades)
    x = sum(1 for g in grades if g >= min_grade)
    alpha = 1 - confidence
    from scipy import stats  # imported when used: the CLI and the EDC start without SciPy

    lower = 0.0 if x == 0 else float(stats.beta.ppf(alpha / 2, x, n - x + 1))
    upper = 1.0 if x == n else float(stats.beta.ppf(1 - alpha / 2, x + 1, n - x))
    return AeRate(x, n, min_grade, confidence, x / n, lower, upper)
