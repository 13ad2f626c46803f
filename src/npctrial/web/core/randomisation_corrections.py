"""Randomisation corrections: a mis-randomisation recorded with its reason, the allocation kept.

An allocation is never changed or removed (the sequence, its hash chain and intention-to-treat
analysis depend on it). A data manager or statistician (``correct_randomisation``) records what
went wrong instead:

* ``wrong_stratum``: the subject was allocated in a stratum that was not theirs; the correct
  levels are recorded (each factor of the allocation, a valid level, at least one different);
* ``randomised_in_error``: the subject should not have been randomised (e.g. ineligible, or
  randomised twice under two screenings);
* ``other``: any other mis-randomisation, described in the reason.
Each kind is recorded once per allocation; every correction is an audit event.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from npctrial.errors import ValidationError
from npctrial.web.core import permissions
from npctrial.web.core.allocation import design_factors, segment_for, segments_of
from npctrial.web.core.audit import create_audited
from npctrial.web.core.events import record_event
from npctrial.web.core.models import CORRECTION_KINDS, Randomisation, RandomisationCorrection

__all__ = ["record_correction"]


def _levels(randomisation: Randomisation) -> dict[str, list[str]]:
    """Valid levels of each factor of the segment the allocation was made in (site codes for site)."""
    segment = segment_for(segments_of(randomisation.sequence), randomisation.number)
    return design_factors(randomisation.sequence, segment.config)


def _check_strata(randomisation: Randomisation, strata: dict[str, Any]) -> dict[str, str]:
    recorded = {k: str(v) for k, v in randomisation.strata.items()}
    given = {str(k): str(v) for k, v in (strata or {}).items()}
    if set(given) != set(recorded):
        raise ValidationError(_("give the correct level of every stratification factor: %(factors)s")
                              % {"factors": ", ".join(sorted(recorded)) or "-"}, field="correct_strata")
    for name, levels in _levels(randomisation).items():
        if levels and given.get(name) not in levels:
            raise ValidationError(_("%(factor)s must be one of %(levels)s") % {"factor": name,
                                                                                "levels": ", ".join(levels)},
                                  field="correct_strata")
    if given == recorded:
        raise ValidationError(_("the correct stratum is the one the subject was allocated in"), field="correct_strata")
    return given


def record_correction(randomisation: Randomisation, *, user: Any, kind: str, reason: str,
                      correct_strata: dict[str, Any] | None = None, request: Any = None) -> RandomisationCorrection:
    subject = randomisation.subject
    permissions.require(user, subject.study, "correct_randomisation", subject.site)
    if kind not in dict(CORRECTION_KINDS):
        raise ValidationError(_("kind must be one of %(kinds)s") % {"kinds": ", ".join(dict(CORRECTION_KINDS))},
                              field="kind")
    text = (reason or "").strip()
    if not text:
        raise ValidationError(_("a reason is required"), field="reason")
    if randomisation.corrections.filter(kind=kind).exists():
        raise ValidationError(_("this mis-randomisation is already recorded for allocation #%(n)d")
                              % {"n": randomisation.number}, field="kind")
    strata = _check_strata(randomisation, correct_strata or {}) if kind == "wrong_stratum" else {}
    if kind != "wrong_stratum" and correct_strata:
        raise ValidationError(_("a correct stratum is recorded only for a wrong stratum"), field="correct_strata")
    correction = create_audited(RandomisationCorrection, user, randomisation=randomisation, kind=kind,
                                correct_strata=strata, reason=text,
                                recorded_by=user if getattr(user, "is_authenticated", False) else None)
    record_event("randomisation_correction", request=request, user=user, subject=subject,
                 record=f"allocation #{randomisation.number}", reason=text,
                 summary=f"{kind} ({subject.subject_id})",
                 details={"kind": kind, "number": randomisation.number, "recorded_strata": randomisation.strata,
                          "correct_strata": strata})
    return correction
