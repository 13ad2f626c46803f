"""Protocol-declared forms (YAML ``forms:``) in the EDC: their records stored, read and placed.

The form, its fields and every rule (types, units, ranges, choices, required, ``show_if``,
``calculate``) are the protocol's (:mod:`npctrial.domain.declared_forms`); this module stores
what :func:`~npctrial.domain.declared_forms.check_form_values` accepted and nothing else.

Saving a record (:func:`save_declared`):

1. Refuse if the subject or the study is locked, or the user lacks edit access to the form.
2. Check the submission with the domain, under the form of the subject's protocol version and the
   subject context its expressions read (:func:`form_context`: baseline weight and height from the
   baseline CRF, enrolment date, start and end of radiotherapy).
3. A new record is stored with the subject's protocol version and the acting user, in the event
   asked for (checked against the schedule) or the event whose window holds its date. An edit is
   the whole submission checked again and saved through the optimistic lock with a reason.

Records are named like CRF records (``nutrition:12``) for data queries and source-data
verification; voiding, the audit trail, the grid and the signature hash treat them like CRFs.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from npctrial.domain.declared_forms import DeclaredForm, FormField, check_form_values
from npctrial.domain.localised_text import localise
from npctrial.errors import ValidationError
from npctrial.web.clinical import schedule
from npctrial.web.clinical.locks import assert_editable
from npctrial.web.clinical.models import Baseline, DeclaredRecord, RadiotherapyCourse
from npctrial.web.core.locking import save_with_version
from npctrial.web.core.models import Subject
from npctrial.web.core.screening import protocol_of

__all__ = ["DeclaredSpec", "any_spec", "declared_spec", "declared_specs", "declared_table", "display_value",
           "field_label", "form_context", "initial_values",
           "query_fields", "save_declared"]


@dataclass(frozen=True)
class DeclaredSpec:
    """A declared form seen like a CRF spec (slug, label, model, fields, date field) by the shared pages."""

    slug: str
    form: DeclaredForm
    model: type[DeclaredRecord] = DeclaredRecord
    single: bool = False
    date_field: str = "record_date"
    expected: tuple[str, ...] = ()
    declared: bool = True

    @property
    def label(self) -> str:
        return localise(self.form.label, get_language())

    @property
    def fields(self) -> tuple[str, ...]:
        return self.form.field_names

    def records(self, subject: Subject, *, voided: bool = False) -> Any:
        manager = DeclaredRecord.all_objects if voided else DeclaredRecord.objects
        return manager.filter(subject=subject, form=self.slug)


def declared_specs(version: Any) -> dict[str, DeclaredSpec]:
    """The declared forms of a protocol version, by id."""
    return {f.id: DeclaredSpec(f.id, f) for f in protocol_of(version).forms}


def declared_spec(version: Any, slug: str) -> DeclaredSpec | None:
    return declared_specs(version).get(slug)


def any_spec(version: Any, slug: str) -> Any:
    """The CRF spec of ``slug``, else its declared form under ``version`` (None when neither)."""
    from npctrial.web.clinical import crfs

    return crfs.CRFS.get(slug) or declared_spec(version, slug)


def form_context(subject: Subject) -> dict[str, Any]:
    """The subject values a declared form's expressions read (missing ones are None)."""
    baseline = Baseline.objects.filter(subject=subject).first()
    rt = RadiotherapyCourse.objects.filter(subject=subject).first()
    return {"baseline_weight_kg": baseline.weight_kg if baseline else None,
            "baseline_height_cm": baseline.height_cm if baseline else None,
            "enrolment_date": subject.enrolment_date,
            "rt_start": rt.start_date if rt else None, "rt_end": rt.end_date if rt else None}


def _spec_or_error(subject: Subject, slug: str) -> DeclaredSpec:
    spec = declared_spec(subject.protocol_version, slug)
    if spec is None:
        raise ValidationError(_("form %(form)r is not a form of the protocol of %(subject)s")
                              % {"form": slug, "subject": subject.subject_id}, field="form")
    return spec


def _authorise(user: Any, subject: Subject, slug: str) -> Any:
    """Step 1: the lock, then the form's access; the acting user (None when anonymous, e.g. demo loaders)."""
    assert_editable(subject)
    if not getattr(user, "is_authenticated", False):
        return None
    from npctrial.web.core.form_access import require_form

    require_form(user, subject.study, slug, "edit", subject.site)
    return user


def save_declared(slug: str, subject: Subject, submitted: Any, user: Any, *, instance: DeclaredRecord | None = None,
                  expected_version: int | None = None, reason: str | None = None,
                  event: str | None = None) -> tuple[DeclaredRecord, list[str]]:
    """Create or update one declared record (steps 1-3 of the module docstring); the record and warnings."""
    spec = _spec_or_error(subject, slug)
    actor = _authorise(user, subject, slug)
    if instance is not None and (instance.subject_id != subject.pk or instance.form != slug):
        raise ValidationError(_("this record is not a %(form)s record of %(subject)s")
                              % {"form": slug, "subject": subject.subject_id}, field="record")
    form = protocol_of(instance.protocol_version).form(slug) if instance is not None else spec.form
    checked = check_form_values(form, submitted, form_context(subject))
    values, calculated = checked.as_json()
    day = checked.values[form.date_field]
    with transaction.atomic():
        if instance is None:
            record = DeclaredRecord(subject=subject, protocol_version=subject.protocol_version, form=slug,
                                    created_by=actor, record_date=day, values=values, calculated=calculated)
            record.event = schedule.event_for(subject, slug, day, event)
            if actor is not None:
                record._history_user = actor  # type: ignore[attr-defined]
            record.save(reason=reason or None)
        else:
            if expected_version is None:
                raise ValidationError(_("version is required to edit a record"), field="version")
            if instance.voided_at is not None:
                raise ValidationError(_("this record is already voided"), field="record")
            changes: dict[str, Any] = {"values": values, "calculated": calculated, "record_date": day}
            if event is not None:
                changes["event"] = schedule.event_for(subject, slug, day, event)
            record = save_with_version(instance, expected_version=expected_version, changes=changes,
                                       reason=reason or "", user=user)
    return record, list(checked.warnings)


def initial_values(record: DeclaredRecord) -> dict[str, Any]:
    """The stored entered values as the page's inputs show them (text; yes/no for booleans)."""
    out: dict[str, Any] = {}
    for name, value in (record.values or {}).items():
        if isinstance(value, bool):
            out[name] = "yes" if value else "no"
        elif value is not None:
            out[name] = str(value)
    return out


def display_value(field: FormField, value: Any) -> str:
    """A stored value as people read it: the choice's label, Yes/No, the number, the ISO date."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return str(_("Yes") if value else _("No"))
    if field.type == "choice":
        return localise(field.choice_label(str(value)), get_language())
    if field.type == "date":
        try:
            return dt.date.fromisoformat(str(value)).isoformat()
        except ValueError:
            return str(value)
    if isinstance(value, float) and value == int(value) and field.type == "int":
        return str(int(value))
    return str(value)


def record_value(record: DeclaredRecord, name: str) -> Any:
    """An entered or calculated value of a record (None when empty)."""
    if name in (record.calculated or {}):
        return record.calculated[name]
    return (record.values or {}).get(name)


def field_label(field: FormField) -> str:
    """The field's label in the reader's language, with its unit."""
    label = localise(field.label, get_language())
    return f"{label} ({field.unit})" if field.unit else label


#: Columns of a declared form's record tables (event page, casebook, listing): its first fields.
TABLE_COLUMNS = 6


def declared_table(spec: DeclaredSpec, records: Any) -> tuple[list[str], list[tuple[Any, list[str]]]]:
    """(column headings, [(record, shown values)]) of the records of a declared form."""
    fields = spec.form.fields[:TABLE_COLUMNS]
    return ([field_label(f) for f in fields],
            [(r, [display_value(f, record_value(r, f.name)) for f in fields]) for r in records])


def query_fields(subject: Subject, record: str) -> list[str] | None:
    """Fields a data query on declared record ``"<form>:<id>"`` may name (core resolver hook).

    ``None`` when ``<form>`` is not a declared form of the subject's protocol; ValidationError for a
    record that is not the subject's (a guessed id never reveals another subject's record).
    """
    slug, sep, pk = record.partition(":")
    if not sep:
        return None
    spec = declared_spec(subject.protocol_version, slug)
    if spec is None:
        return None
    if not pk.isdigit() or not spec.records(subject).filter(pk=int(pk)).exists():
        raise ValidationError(_("record %(record)r is not a record of subject %(subject)s")
                              % {"record": record, "subject": subject.subject_id}, field="record")
    return list(spec.fields)
