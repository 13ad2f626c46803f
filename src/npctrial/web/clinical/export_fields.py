"""Which exported CRF columns are dates and which are free text (for de-identified exports).

Every text input of a form is either coded (choices, CTCAE/RTOG keys, units: kept) or free text
(dropped from de-identified exports); ``tests/web/test_form_access_exports.py`` fails for a text
input that is in neither list, so a new field is classified when it is added.
"""

from __future__ import annotations

from django.db import models

from npctrial.web.clinical.crfs import DERIVED, spec_of

#: free-text inputs per form (what a person typed: may name people, places, dates)
FREE_TEXT: dict[str, tuple[str, ...]] = {
    "drug": ("deviation_note",),
    "ae": ("term_other",),
    "interruption": ("reason",),
    "lab": ("override_reason",),
    "followup": ("notes",),
    "event": ("sites", "cause"),
}

#: text inputs holding codes from a controlled list (kept)
CODED_TEXT: dict[str, tuple[str, ...]] = {"lab": ("term", "unit", "lln_unit", "uln_unit", "baseline_unit"),
                                          "ae": ("term", "soc"), "rtog": ("organ",)}

#: analysis datasets: their date columns, and the forms each is derived from
ANALYSIS_DATES: dict[str, tuple[str, ...]] = {"adsl": ("enrldt", "randdt", "trtsdt"), "adae": ("astdt", "aendt"),
                                              "adtte": ("startdt", "adt")}
#: analysis datasets: their free-text columns (reasons quote dates and values: dropped when de-identified)
ANALYSIS_FREE_TEXT: dict[str, tuple[str, ...]] = {"adsl": ("pfs_evalrsn", "os_evalrsn"), "adae": ("aeterm_other",),
                                                  "adtte": ("evalrsn",)}
ANALYSIS_FORMS: dict[str, tuple[str, ...]] = {
    "adsl": ("baseline", "radiotherapy", "assessment", "followup", "event"),
    "adae": ("ae", "lab"),
    "adtte": ("radiotherapy", "assessment", "followup", "event"),
}


def date_columns(slug: str) -> tuple[str, ...]:
    """Exported columns of form ``slug`` holding a date or a date-time (inputs and derived)."""
    spec = spec_of(slug)
    return tuple(name for name in (*spec.fields, *DERIVED.get(slug, ()))
                 if isinstance(spec.model._meta.get_field(name), models.DateField))


def free_text(slug: str) -> tuple[str, ...]:
    return FREE_TEXT.get(slug, ())
