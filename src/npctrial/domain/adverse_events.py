"""An adverse event as recorded: its CTCAE v4.03 term, system organ class, grade and dates.

Rules (each raises :class:`~npctrial.errors.ValidationError` naming the field):

1. :func:`check_ae_term`: an event without a CTCAE term is "<SOC> - Other, specify": it needs the
   verbatim term (``term_other``) and its system organ class (``soc``), and its grades are those of
   the SOC (Eye disorders has no grade 5). A listed term takes its SOC from CTCAE, its grade is one
   the term defines, and a verbatim term beside it is refused (it would be a second event).
2. :func:`check_ae_dates`: the event does not stop before it started (a one-day event stops on its
   start date).

The reporting deadline of a serious AE is :func:`npctrial.domain.treatment_rules.sae_report_deadline`.

Reference: NCI CTCAE v4.03 (14 June 2010): "Other, specify" terms within each SOC.
"""

from __future__ import annotations

import datetime as dt

from npctrial.domain._inputs import check_date
from npctrial.domain.ctcae import (
    OTHER_SPECIFY,
    check_ae_grade,
    ctcae_term_soc,
    other_specify_soc,
    other_specify_socs,
)
from npctrial.errors import ValidationError
from npctrial.messages import message

__all__ = ["check_ae_dates", "check_ae_term", "compute_term_soc"]


def compute_term_soc(term: str) -> str:
    """The key of the system organ class a CTCAE term belongs to (``"gastrointestinal"``)."""
    name = ctcae_term_soc(term)
    return next((s.key for s in other_specify_socs() if s.name == name), "")


def check_ae_term(term: str, grade: int, *, term_other: str | None = "", soc: str | None = "") -> str:
    """The SOC key of the event if its term, verbatim term, SOC and grade agree (rule 1)."""
    verbatim = (term_other or "").strip()
    if term == OTHER_SPECIFY:
        if not verbatim:
            raise ValidationError(message("ae.term_other_required",
                                          "term_other is required for an 'Other, specify' adverse event"),
                                  field="term_other")
        if not soc:
            raise ValidationError(message("ae.soc_required",
                                          "soc (system organ class) is required for an 'Other, specify' adverse event"),
                                  field="soc")
        key = other_specify_soc(soc).key
        check_ae_grade(OTHER_SPECIFY, grade, soc=key)
        return key
    if verbatim:
        raise ValidationError(message("ae.term_other_not_other",
                                      "term_other is only for an 'Other, specify' adverse event"), field="term_other")
    check_ae_grade(term, grade)
    return compute_term_soc(term)


def check_ae_dates(start_date: dt.date | str, stop_date: dt.date | str | None) -> dt.date | None:
    """The stop date (None while the event is ongoing) if it is not before the start date (rule 2)."""
    start = check_date(start_date, "start_date")
    if stop_date is None:
        return None
    stop = check_date(stop_date, "stop_date")
    if stop < start:
        raise ValidationError(message("ae.stop_before_start", "stop_date (%(stop)s) is before start_date (%(start)s)",
                                      stop=stop.isoformat(), start=start.isoformat()), field="stop_date")
    return stop
