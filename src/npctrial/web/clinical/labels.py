"""Readable case report forms: the label, help text and unit of every CRF field, and how a stored
value is shown (choice labels, CTCAE terms and RTOG organs by name, Yes/No, one date format).

Labels of fields the protocol catalogues (height, weight, TNM, ECOG, labs ...) come from the
protocol's field catalogue (:func:`field_text` with the protocol); the others from :data:`TEXT`.
Units are the unit the CRF stores the value in. Dates are shown as ISO 8601 (``2026-01-05``),
the format date inputs submit, so a date reads the same on entry, on edit and in every table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from npctrial.domain import clinical_terms, lab_terms, rtog_organs
from npctrial.domain.term_labels import term_label

DATE_FORMAT = "%Y-%m-%d"
DATETIME_FORMAT = "%Y-%m-%d %H:%M"


@dataclass(frozen=True)
class FieldText:
    label: str | Promise
    help: str | Promise = ""
    unit: str = ""


_T = FieldText
#: field name -> text (the same field name means the same thing on every form)
TEXT: dict[str, FieldText] = {
    "assessment_date": _T(_("Assessment date")),
    "height_cm": _T(_("Height"), unit="cm"),
    "weight_kg": _T(_("Weight"), unit="kg"),
    "bsa_m2": _T(_("Body surface area (BSA)"), _("Mosteller, rounded to 2 decimals"), "m²"),
    "s1_mg_per_dose": _T(_("S-1 dose per administration"), _("from the protocol's BSA bands"), "mg"),
    "s1_doses_per_day": _T(_("S-1 doses per day")),
    "tnm_edition": _T(_("TNM edition"), _("AJCC/UICC edition the T, N and M categories are staged with")),
    "t_category": _T(_("T category")), "n_category": _T(_("N category")), "m_category": _T(_("M category")),
    "stage_group": _T(_("Stage group"), _("derived from T, N, M and the edition")),
    "ecog": _T(_("ECOG performance status"), _("0 fully active ... 4 completely disabled, 5 dead")),
    "kps": _T(_("Karnofsky performance status"), _("0-100, in steps of 10"), "%"),
    "ebv_dna": _T(_("Plasma EBV DNA"), _("undetectable is 0, not empty"), "copies/mL"),
    "wbc": _T(_("White blood cell count"), unit="10^9/L"),
    "anc": _T(_("Absolute neutrophil count"), unit="10^9/L"),
    "hb": _T(_("Haemoglobin"), unit="g/L"),
    "platelets": _T(_("Platelet count"), unit="10^9/L"),
    "alt": _T(_("Alanine aminotransferase (ALT)"), unit="U/L"),
    "ast": _T(_("Aspartate aminotransferase (AST)"), unit="U/L"),
    "creatinine": _T(_("Serum creatinine"), unit="umol/L"),
    "bilirubin": _T(_("Total bilirubin"), unit="umol/L"),
    "technique": _T(_("Radiotherapy technique")),
    "total_dose_gy": _T(_("Prescribed total dose"), _("to the primary tumour (PTV)"), "Gy"),
    "fractions": _T(_("Planned fractions")),
    "start_date": _T(_("Start date")),
    "end_date": _T(_("End date"), _("leave empty while ongoing")),
    "delivered_fractions": _T(_("Fractions delivered")),
    "bed_gy10": _T(_("BED, α/β 10 Gy"), unit="Gy"), "eqd2_gy10": _T(_("EQD2, α/β 10 Gy"), unit="Gy"),
    "bed_gy3": _T(_("BED, α/β 3 Gy"), unit="Gy"), "eqd2_gy3": _T(_("EQD2, α/β 3 Gy"), unit="Gy"),
    "drug": _T(_("Drug")),
    "date": _T(_("Date given")),
    "planned_dose_mg": _T(_("Planned dose"), _("per administration (per S-1 dose)"), "mg"),
    "dose_mg": _T(_("Dose given"), _("per administration (per S-1 dose)"), "mg"),
    "doses_planned": _T(_("S-1 doses due"), _("from the patient diary, for the period")),
    "doses_taken": _T(_("S-1 doses taken"), _("from the patient diary, for the period")),
    "adherence_pct": _T(_("Adherence"), unit="%"),
    "deviation": _T(_("Dose deviation"), _("the dose given differs from the planned dose")),
    "deviation_reason": _T(_("Reason for the dose change"), _("the protocol allows a change only for "
                                                               "progression, grade 4 toxicity or refusal")),
    "deviation_note": _T(_("Deviation details"), _("required when the reason is 'other'")),
    "treatment": _T(_("Treatment interrupted")),
    "reason": _T(_("Reason")),
    "week": _T(_("Week of radiotherapy"), _("1 = the first week of radiotherapy")),
    "sample_date": _T(_("Sample date")),
    "term": _T(_("CTCAE v4.03 term")),
    "value": _T(_("Result")),
    "unit": _T(_("Unit")),
    "lln": _T(_("Lower limit of normal (LLN)"), _("the site laboratory's, in the result's unit")),
    "uln": _T(_("Upper limit of normal (ULN)"), _("the site laboratory's, in the result's unit")),
    "baseline_value": _T(_("Baseline value"), _("needed for baseline-relative grades (creatinine)")),
    "grade": _T(_("CTCAE grade")),
    "suggested_grade": _T(_("Suggested CTCAE grade"), _("derived from the result and the reference range")),
    "override_reason": _T(_("Reason for a grade other than the suggested one")),
    "attribution": _T(_("Relation to study treatment")),
    "serious": _T(_("Serious adverse event (SAE)")),
    "stop_date": _T(_("Stop date"), _("leave empty while ongoing")),
    "aware_at": _T(_("Site aware of the SAE at"), _("starts the 24-hour reporting clock")),
    "sae_report_due": _T(_("SAE report due")),
    "sae_reported_at": _T(_("SAE reported at")),
    "scale": _T(_("RTOG scale"), _("acute: during RT and up to 90 days after; late: beyond 90 days")),
    "organ": _T(_("Organ / tissue")),
    "days_after_rt_end": _T(_("Days after the end of RT"), unit=str(_("days"))),
    "non_target": _T(_("Non-target lesions")),
    "new_lesions": _T(_("New lesions")),
    "target_sum_mm": _T(_("Sum of target diameters"), unit="mm"),
    "change_from_baseline_pct": _T(_("Change from baseline"), unit="%"),
    "change_from_nadir_pct": _T(_("Change from nadir"), unit="%"),
    "target_response": _T(_("Target response")),
    "overall_response": _T(_("Overall response (RECIST 1.1)")),
    "visit_date": _T(_("Visit date")),
    "status": _T(_("Disease status")),
    "disease_assessed": _T(_("Disease assessed"), _("an adequate tumour assessment was done at this visit")),
    "notes": _T(_("Notes")),
    "kind": _T(_("Event")),
    "event_date": _T(_("Event date")),
    "sites": _T(_("Metastasis sites"), _("comma separated, e.g. lung, bone")),
    "cause": _T(_("Cause of death")),
    "event": _T(_("Schedule event")),
}


def field_text(name: str, protocol: Any = None) -> FieldText:
    """Label, help and unit of a CRF field; the protocol's label and help for catalogued fields."""
    base = TEXT.get(name) or FieldText(name.replace("_", " ").capitalize())
    if protocol is not None:
        spec = next((f for f in protocol.fields if f.name == name), None)
        if spec is not None:
            return FieldText(spec.label, spec.help or base.help, base.unit)
    return base


def label_with_unit(text: FieldText) -> str:
    return f"{text.label} ({text.unit})" if text.unit else str(text.label)


@cache
def _term_names() -> dict[str, str]:
    names = {t.key: t.term for t in clinical_terms()}
    names.update({t.key: t.term for t in lab_terms()})
    return names


@cache
def _organ_names() -> dict[str, str]:
    out: dict[str, str] = {}
    for scale in ("acute", "late"):
        for o in rtog_organs(scale):
            out.setdefault(o.key, o.name)
    return out


def display(model: Any, name: str, value: Any) -> str:
    """A stored value as people read it: choice label, term/organ name, Yes/No, ISO date, 2 decimals."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return str(_("Yes") if value else _("No"))
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime(DATETIME_FORMAT) if timezone.is_aware(value) else \
            value.strftime(DATETIME_FORMAT)
    if isinstance(value, date):
        return value.strftime(DATE_FORMAT)
    if name == "term" and str(value) in _term_names():  # 口腔黏膜炎 (Mucositis oral) in Chinese
        return term_label("ctcae_term", str(value), get_language()).text
    if name == "organ" and str(value) in _organ_names():
        return term_label("rtog_organ", str(value), get_language()).text
    if name in ("term", "organ"):
        return str(value)
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:  # a derived attribute that is not a model field
        field = None
    if field is not None and field.choices:
        return str(dict(field.choices).get(value, value))
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return str(value)


#: the columns of each form's record table (every field is on the record page)
SUMMARY: dict[str, tuple[str, ...]] = {
    "baseline": ("assessment_date", "height_cm", "weight_kg", "t_category", "n_category", "m_category",
                 "stage_group", "ecog", "bsa_m2", "s1_mg_per_dose"),
    "radiotherapy": ("technique", "total_dose_gy", "fractions", "start_date", "end_date", "eqd2_gy10"),
    "drug": ("date", "drug", "planned_dose_mg", "dose_mg", "adherence_pct", "deviation"),
    "interruption": ("treatment", "start_date", "end_date", "reason"),
    "lab": ("week", "sample_date", "term", "value", "unit", "grade"),
    "ae": ("week", "term", "grade", "attribution", "serious", "start_date", "stop_date"),
    "rtog": ("assessment_date", "scale", "organ", "grade"),
    "assessment": ("assessment_date", "target_sum_mm", "change_from_baseline_pct", "overall_response"),
    "followup": ("visit_date", "status", "disease_assessed"),
    "event": ("kind", "event_date", "sites", "cause"),
}


def summary_columns(slug: str, fields: tuple[str, ...]) -> tuple[str, ...]:
    return SUMMARY.get(slug, fields[:6])
