"""Case report forms: the registry (form slug -> model, fields, derivation) and the save service.

Saving a CRF record (:func:`save_crf`):

1. Refuse if the subject or study is locked (:func:`npctrial.web.clinical.locks.assert_editable`).
2. Apply the submitted values to a working copy and derive (BSA/dose, BED/EQD2, suggested grade,
   SAE deadline, RTOG onset ...) with :mod:`npctrial.web.clinical.derive`.
3. New record: save with the subject's protocol version and the acting user. Existing record:
   :func:`npctrial.web.core.locking.save_with_version` (optimistic lock; reason for change).
4. RECIST assessments: replace the lesions and recompute the subject's whole series.
5. The record's schedule event: the one given (checked against the subject's schedule), else
   the event whose window holds the record's date (:mod:`npctrial.web.clinical.schedule`).
6. Edit checks of the protocol (:mod:`npctrial.web.clinical.checks`): after derivation a hard
   check refuses the record (field-level ValidationError); after saving, soft checks open data
   queries and automatic queries that no longer fire (on this or another record) are closed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.db import models, transaction
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from npctrial.domain import (
    OTHER_SPECIFY,
    clinical_terms,
    lab_analytes,
    lab_terms,
    other_specify_socs,
    rtog_organs,
)
from npctrial.domain.term_labels import term_label
from npctrial.errors import ValidationError
from npctrial.web.clinical import checks, derive, schedule
from npctrial.web.clinical.locks import assert_editable
from npctrial.web.clinical.models import (
    AdverseEvent,
    Baseline,
    ClinicalEvent,
    DeclaredRecord,
    DrugAdministration,
    FollowUpVisit,
    Interruption,
    LabResult,
    Lesion,
    RadiotherapyCourse,
    RtogScore,
    TumourAssessment,
)
from npctrial.web.core.locking import save_with_version
from npctrial.web.core.models import Subject
from npctrial.web.core.screening import protocol_of


@dataclass(frozen=True)
class CrfSpec:
    slug: str
    label: Any  # a lazy translation: the form's name in the reader's language
    model: type[models.Model]
    fields: tuple[str, ...]
    derive: Callable[..., list[str]] | None
    single: bool = False  # at most one record per subject
    date_field: str = ""  # the date that places a record in the schedule of assessments
    expected: tuple[str, ...] = ()  # optional fields a complete record has (else "incomplete")


# Choice lists are callables, evaluated when a form is rendered or validated: the labels are in
# the reader's language (``口腔黏膜炎 (Mucositis oral)``, English beside the translation), the
# values the coded keys that the database and exports hold.
def _lab_choices() -> list[tuple[str, str]]:
    return [(t.key, f"{_term(t.key)} ({t.canonical_unit})") for t in lab_terms()]


def _ae_choices() -> list[tuple[str, str]]:
    terms = [(t.key, t.term) for t in clinical_terms()] + [(t.key, t.term) for t in lab_terms()]
    ordered = sorted(set(terms), key=lambda x: x[1])  # English order in every language: the coded list
    return [*((key, _term(key)) for key, _name in ordered), (OTHER_SPECIFY, str(_("Other, specify (give the SOC)")))]


def _soc_choices() -> list[tuple[str, str]]:
    return [("", "-"), *((s.key, term_label("ctcae_soc", s.name, get_language()).text) for s in other_specify_socs())]


def _term(key: str) -> str:
    return term_label("ctcae_term", key, get_language()).text


def _unit_choices() -> list[tuple[str, str]]:
    names = dict.fromkeys(u for a in lab_analytes() for u in a.unit_names)
    return [(u, u) for u in names]


def _organ_choices() -> list[tuple[str, str]]:
    seen: dict[str, str] = {}
    for scale in ("acute", "late"):
        for o in rtog_organs(scale):
            seen.setdefault(o.key, o.name)
    return [(key, term_label("rtog_organ", key, get_language()).text)
            for key, _name in sorted(seen.items(), key=lambda x: x[1])]


CRFS: dict[str, CrfSpec] = {s.slug: s for s in (
    CrfSpec("baseline", gettext_lazy("Baseline"), Baseline,
            ("assessment_date", "height_cm", "weight_kg", "tnm_edition", "t_category", "n_category", "m_category",
             "ecog", "kps", "ebv_dna", "wbc", "anc", "hb", "platelets", "alt", "ast", "creatinine", "bilirubin"),
            derive.derive_baseline, single=True, date_field="assessment_date",
            expected=("ecog", "wbc", "hb", "platelets", "alt", "ast", "creatinine", "bilirubin")),
    CrfSpec("radiotherapy", gettext_lazy("Radiotherapy"), RadiotherapyCourse,
            ("technique", "total_dose_gy", "fractions", "start_date", "end_date", "delivered_fractions"),
            derive.derive_radiotherapy, single=True, date_field="start_date",
            expected=("end_date", "delivered_fractions")),
    CrfSpec("drug", gettext_lazy("Drug administration"), DrugAdministration,
            ("drug", "date", "planned_dose_mg", "dose_mg", "doses_planned", "doses_taken", "deviation_reason",
             "deviation_note"), derive.derive_administration, date_field="date"),
    CrfSpec("interruption", gettext_lazy("Treatment interruption"), Interruption,
            ("treatment", "start_date", "end_date", "reason"), None, date_field="start_date"),
    CrfSpec("lab", gettext_lazy("Weekly lab value"), LabResult,
            ("week", "sample_date", "term", "value", "unit", "lln", "lln_unit", "uln", "uln_unit", "baseline_value",
             "baseline_unit", "grade", "override_reason"), derive.derive_lab, date_field="sample_date"),
    CrfSpec("ae", gettext_lazy("Adverse event"), AdverseEvent,
            ("week", "term", "term_other", "soc", "grade", "attribution", "serious", "start_date", "stop_date",
             "aware_at", "sae_reported_at"), derive.derive_adverse_event, date_field="start_date"),
    CrfSpec("rtog", gettext_lazy("RTOG score"), RtogScore, ("assessment_date", "scale", "organ", "grade"), None,
            date_field="assessment_date"),
    CrfSpec("assessment", gettext_lazy("Tumour assessment (RECIST 1.1)"), TumourAssessment,
            ("assessment_date", "non_target", "new_lesions"), None, date_field="assessment_date"),
    CrfSpec("followup", gettext_lazy("Follow-up visit"), FollowUpVisit, ("visit_date", "status", "disease_assessed", "notes"), None,
            date_field="visit_date"),
    CrfSpec("event", gettext_lazy("Event"), ClinicalEvent, ("kind", "event_date", "sites", "cause"), None,
            date_field="event_date"),
)}

#: derived (non-editable) fields shown and exported with each form
DERIVED: dict[str, tuple[str, ...]] = {
    "baseline": ("bsa_m2", "bsa_rule", "s1_mg_per_dose", "s1_doses_per_day", "dose_rule", "stage_group"),
    "radiotherapy": ("bed_gy10", "eqd2_gy10", "bed_gy3", "eqd2_gy3"),
    "drug": ("adherence_pct", "protocol_dose_mg", "deviation"),
    "lab": ("suggested_grade",),
    "ae": ("sae_report_due",),
    "rtog": ("days_after_rt_end",),
    "assessment": ("target_sum_mm", "change_from_baseline_pct", "change_from_nadir_pct", "target_response",
                   "overall_response"),
}


def spec_of(slug: str) -> CrfSpec:
    try:
        return CRFS[slug]
    except KeyError:
        raise ValidationError(_("unknown form %(form)r (known: %(known)s)") % {"form": slug, "known": ", ".join(CRFS)},
                              field="form") from None


def _widget(field: models.Field, **kwargs: Any) -> forms.Field | None:
    if isinstance(field, models.DateTimeField):  # ISO formats whatever the language: what the inputs submit
        return forms.DateTimeField(required=not field.blank, help_text=field.help_text,
                                   input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
                                   widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"))
    if isinstance(field, models.DateField):
        return forms.DateField(required=not field.blank, help_text=field.help_text, input_formats=["%Y-%m-%d"],
                               widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    return field.formfield(**kwargs)


def query_record(slug: str, pk: int) -> str:
    """The ``DataQuery.record`` of one CRF record, e.g. ``"baseline:12"``."""
    return f"{slug}:{pk}"


def query_fields(subject: Subject, record: str) -> list[str] | None:
    """Fields a data query on CRF record ``"<form>:<id>"`` of ``subject`` may name (core resolver hook).

    ``None`` for records that are not CRF records; ValidationError for a CRF record that is not the
    subject's (so a guessed id never reveals another subject's record).
    """
    slug, sep, pk = record.partition(":")
    if not sep or slug not in CRFS:
        return None
    spec = CRFS[slug]
    if not pk.isdigit() or not spec.model.objects.filter(subject=subject, pk=int(pk)).exists():
        raise ValidationError(_("record %(record)r is not a record of subject %(subject)s")
                              % {"record": record, "subject": subject.subject_id}, field="record")
    return list(spec.fields)


def form_class(slug: str) -> type[forms.ModelForm]:
    """A ModelForm for the CRF, with choice lists from the domain's CTCAE and RTOG tables."""
    spec = spec_of(slug)
    meta = type("Meta", (), {"model": spec.model, "fields": list(spec.fields),
                             "formfield_callback": staticmethod(_widget)})  # Django 5: on Meta
    attrs: dict[str, Any] = {"Meta": meta}
    if slug == "lab":
        attrs["term"] = forms.ChoiceField(choices=_lab_choices)
        attrs["unit"] = forms.ChoiceField(choices=_unit_choices())
        for name in ("lln_unit", "uln_unit", "baseline_unit"):
            attrs[name] = forms.ChoiceField(choices=[("", "-"), *_unit_choices()], required=False)
        attrs["grade"] = forms.IntegerField(min_value=0, max_value=4, required=False,
                                            help_text=gettext_lazy("leave empty to accept the suggested grade"))
    if slug == "ae":
        attrs["term"] = forms.ChoiceField(choices=_ae_choices)
        attrs["soc"] = forms.ChoiceField(choices=_soc_choices, required=False,
                                         help_text=gettext_lazy("system organ class of an 'Other, specify' term"))
        attrs["grade"] = forms.IntegerField(min_value=1, max_value=5,
                                            help_text=gettext_lazy("only the grades CTCAE v4.03 defines for the term"))
    if slug == "rtog":
        attrs["organ"] = forms.ChoiceField(choices=_organ_choices)
        attrs["grade"] = forms.IntegerField(min_value=0, max_value=5)
    return type(f"{spec.model.__name__}Form", (forms.ModelForm,), attrs)


LESION_FIELDS = ("lesion_id", "location", "target", "nodal", "diameter_mm")


class LesionForm(forms.Form):
    lesion_id = forms.CharField(max_length=20, required=False)
    location = forms.CharField(max_length=80, required=False)
    target = forms.BooleanField(required=False, initial=True)
    nodal = forms.BooleanField(required=False)
    diameter_mm = forms.FloatField(required=False, min_value=0)


LesionFormSet = forms.formset_factory(LesionForm, extra=5, max_num=20)


def subject_records(subject: Subject) -> list[models.Model]:
    """Every CRF record of the subject, voided ones included (for audit history and the signature hash)."""
    out: list[models.Model] = []
    for spec in CRFS.values():
        out.extend(spec.model.all_objects.filter(subject=subject).order_by("pk"))
    out.extend(Lesion.objects.filter(assessment__subject=subject).order_by("pk"))
    out.extend(DeclaredRecord.all_objects.filter(subject=subject).order_by("pk"))  # protocol-declared forms
    return out


def _rt_of(subject: Subject) -> RadiotherapyCourse | None:
    return RadiotherapyCourse.objects.filter(subject=subject).first()


def _derive(spec: CrfSpec, record: Any, subject: Subject) -> list[str]:
    protocol = protocol_of(record.protocol_version)
    if spec.slug == "rtog":
        return derive.derive_rtog(record, protocol, _rt_of(subject))
    if spec.slug == "drug":
        return derive.derive_administration(record, protocol, Baseline.objects.filter(subject=subject).first())
    if spec.derive is None:
        return []
    return spec.derive(record, protocol)


def recompute_recist(subject: Subject, user: Any = None) -> None:
    """Recompute the RECIST series of the subject; every derived value that changes is an audited change."""
    assessments = list(TumourAssessment.objects.filter(subject=subject).order_by("assessment_date", "pk")
                       .prefetch_related("lesions"))
    names = (*DERIVED["assessment"], "note")
    before = {a.pk: tuple(getattr(a, f) for f in names) for a in assessments}
    derive.derive_recist_series(assessments)
    for a in assessments:
        if tuple(getattr(a, f) for f in names) == before[a.pk]:
            continue
        if user is not None and getattr(user, "is_authenticated", False):
            a._history_user = user
        a.save(reason="RECIST values derived again from the lesions of the series", update_fields=names)


def _save_lesions(assessment: TumourAssessment, lesions: Iterable[dict[str, Any]], user: Any, reason: str | None) -> None:
    rows = [row for row in lesions if row.get("lesion_id")]
    ids = [r["lesion_id"] for r in rows]
    if len(set(ids)) != len(ids):
        raise ValidationError(_("each lesion_id may appear once per assessment"), field="lesions")
    for old in assessment.lesions.all():
        old._history_user = user
        old.delete(reason=reason or "lesions re-entered")
    for row in rows:
        lesion = Lesion(assessment=assessment, **{k: row.get(k) for k in LESION_FIELDS})
        lesion.target = bool(row.get("target", True))
        lesion.nodal = bool(row.get("nodal", False))
        if user is not None and getattr(user, "is_authenticated", False):
            lesion._history_user = user
        lesion.save()


def save_crf(
    slug: str,
    subject: Subject,
    values: dict[str, Any],
    user: Any,
    *,
    instance: Any = None,
    expected_version: int | None = None,
    reason: str | None = None,
    lesions: list[dict[str, Any]] | None = None,
    event: str | None = None,
    resync: bool = True,
) -> tuple[Any, list[str]]:
    """Create or update one CRF record (steps 1-5 of the module docstring); returns it and notes.

    ``resync=False``: the caller re-checks the subject's other records with open automatic queries
    once after a batch (a lab panel), instead of after each record."""
    spec = spec_of(slug)
    assert_editable(subject)
    if getattr(user, "is_authenticated", False):  # per-form access of the protocol (403 below "edit")
        from npctrial.web.core.form_access import require_form

        require_form(user, subject.study, slug, "edit", subject.site)
    unknown = set(values) - set(spec.fields)
    if unknown:
        raise ValidationError(_("unknown field(s) for %(form)s: %(fields)s") % {"form": slug, "fields": ", ".join(sorted(unknown))},
                              field=sorted(unknown)[0])
    with transaction.atomic():
        if instance is None:
            if spec.single and spec.model.objects.filter(subject=subject).exists():
                raise ValidationError(_("%(form)s already recorded for %(subject)s: edit it instead")
                                      % {"form": spec.label, "subject": subject.subject_id}, field="form")
            record = spec.model(subject=subject, protocol_version=subject.protocol_version,
                                created_by=user if getattr(user, "is_authenticated", False) else None, **values)
            notes = _derive(spec, record, subject)
            findings = checks.check_record(slug, record, subject)
            record.event = schedule.event_for(subject, slug, getattr(record, spec.date_field), event,
                                              rt=record if slug == "radiotherapy" else None)
            if getattr(user, "is_authenticated", False):
                record._history_user = user
            record.save(reason=reason or None)  # e.g. values carried forward from screening
        else:
            if expected_version is None:
                raise ValidationError(_("version is required to edit a record"), field="version")
            work = spec.model.objects.get(pk=instance.pk)
            if slug == "lab" and "grade" not in values and work.grade == work.suggested_grade:
                work.grade = None  # the grade followed the suggestion: keep following it
            for k, v in values.items():
                setattr(work, k, v)
            notes = _derive(spec, work, subject)
            findings = checks.check_record(slug, work, subject)
            if event is not None:
                work.event = schedule.event_for(subject, slug, getattr(work, spec.date_field), event,
                                                rt=work if slug == "radiotherapy" else None)
            names = [*spec.fields, *DERIVED.get(slug, ()), *(("event",) if event is not None else ())]
            record = save_with_version(instance, expected_version=expected_version,
                                       changes={k: getattr(work, k) for k in names}, reason=reason or "", user=user)
        if slug == "assessment":
            if lesions is not None:
                _save_lesions(record, lesions, user, reason)
            recompute_recist(subject, user)
            record.refresh_from_db()
        checks.sync_queries(subject, slug, record, findings)
        if resync:
            checks.resync_open_queries(subject, exclude={(slug, record.pk)})
    return record, [*notes, *(_("%(finding)s (query opened: %(check)s)") % {"finding": f.message, "check": f.check}
                            for f in findings)]
