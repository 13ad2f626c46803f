"""Forms. The screening form is generated from the protocol's field catalogue."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from npctrial.domain.localised_text import localise
from npctrial.web.core.protocols import FieldSpec
from npctrial.web.languages.display import choice_label


def _field_for(spec: FieldSpec) -> forms.Field:
    """The form field of a catalogue item; label and help in the reader's language when the
    protocol gives one (``label: {en: ..., zh: ...}``), else the published English."""
    text = localise(spec.label, get_language())
    label = f"{text} ({spec.unit})" if spec.unit else text
    common: dict[str, Any] = {"label": label, "required": False,
                              "help_text": localise(spec.help, get_language()) if spec.help else spec.help}
    attrs = {"data-field": spec.name}
    if spec.type in {"number", "float"}:
        return forms.FloatField(
            min_value=spec.min, max_value=spec.max,
            widget=forms.NumberInput(attrs={**attrs, "step": "any"}), **common,
        )
    if spec.type in {"int", "integer"}:
        return forms.IntegerField(
            min_value=None if spec.min is None else int(spec.min),
            max_value=None if spec.max is None else int(spec.max),
            widget=forms.NumberInput(attrs=attrs), **common,
        )
    if spec.type in {"bool", "boolean"}:
        return forms.TypedChoiceField(
            choices=[("", "—"), ("true", _("Yes")), ("false", _("No"))],
            coerce=lambda v: v == "true", empty_value=None, widget=forms.Select(attrs=attrs), **common,
        )
    if spec.type == "date":
        return iso_date_field(attrs=attrs, **common)
    if spec.type == "choice":
        return forms.ChoiceField(
            choices=[("", "—")] + [(c, choice_label(c)) for c in spec.choices], widget=forms.Select(attrs=attrs),
            **common
        )
    return forms.CharField(max_length=500, widget=forms.TextInput(attrs=attrs), **common)


def iso_date_field(*, attrs: dict[str, Any] | None = None, **kwargs: Any) -> forms.DateField:
    """A date entered as YYYY-MM-DD in every language: Django's locale input formats would read
    ``03/04/2026`` as 4 March in English and accept ``2026/03/04`` only in Chinese."""
    return forms.DateField(
        input_formats=["%Y-%m-%d"], widget=forms.DateInput(attrs={**(attrs or {}), "type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Enter the date as YYYY-MM-DD (e.g. 2026-03-04).")}, **kwargs)


#: the identity inputs of a new screening (npctrial.web.core.screening_identity), as the API names them
IDENTITY_FIELDS = ("initials", "birth_date", "hospital_number", "rescreen_of", "rescreen_reason")


def identity_fields() -> dict[str, forms.Field]:
    """Who is screened, as the screening log keeps it (checked by the service, as the API is)."""
    return {
        "initials": forms.CharField(
            label=_("Patient initials"), max_length=20, required=False,
            help_text=_("2 to 4 Latin letters; for Chinese names the pinyin initials (张伟 → ZW). "
                        "With the birth date, finds a patient screened before.")),
        "birth_date": iso_date_field(label=_("Date of birth"), required=False,
                                     help_text=_("From 1900 on, not after the screening date.")),
        "hospital_number": forms.CharField(
            label=_("Hospital record number"), max_length=40, required=False,
            help_text=_("Optional; the site's own number. Never in de-identified exports.")),
    }


def rescreen_fields() -> dict[str, forms.Field]:
    return {
        "rescreen_of": forms.IntegerField(
            label=_("Re-screening of (screening ID)"), required=False, min_value=1,
            help_text=_("Only when the patient was screened before: the ID of that screening, as the "
                        "duplicate warning shows it.")),
        "rescreen_reason": forms.CharField(label=_("Reason for re-screening"), max_length=2000, required=False,
                                           widget=forms.TextInput),
    }


def screening_form_class(fields: list[FieldSpec], *, with_site: bool = False, with_reason: bool = False,
                         with_date: bool = False) -> type[forms.Form]:
    """A Form class with one input per protocol field (plus the identity and screening date for a
    new screening, version/reason for edits)."""
    attrs: dict[str, Any] = {}
    if with_date:
        attrs.update(identity_fields())
        attrs["screening_date"] = iso_date_field(
            label=_("Screening date"), initial=timezone.localdate, required=False,
            help_text=_("The date the patient was screened (not in the future). Empty: today."))
    attrs.update({spec.name: _field_for(spec) for spec in fields if spec.name not in attrs})
    if with_date:
        attrs.update(rescreen_fields())
    if with_reason:
        attrs["version"] = forms.IntegerField(widget=forms.HiddenInput)
        attrs["reason"] = forms.CharField(
            label=_("Reason for change"), max_length=500, widget=forms.TextInput(attrs={"required": True})
        )
    form_cls = type("ScreeningForm", (forms.Form,), attrs)
    form_cls.protocol_fields = [s.name for s in fields]  # type: ignore[attr-defined]
    return form_cls


def values_from_form(form: forms.Form) -> dict[str, Any]:
    names = form.protocol_fields  # type: ignore[attr-defined]
    return {n: form.cleaned_data.get(n) for n in names if form.cleaned_data.get(n) not in (None, "")}


def raw_values(data: Any, fields: list[FieldSpec]) -> dict[str, Any]:
    """Raw submitted values (strings) for live evaluation: invalid entries are left out."""
    out: dict[str, Any] = {}
    for spec in fields:
        value = data.get(spec.name)
        if value not in (None, ""):
            out[spec.name] = value
    return out


class ConsentForm(forms.Form):
    consent_date = iso_date_field(label=_("Consent date"), initial=timezone.localdate)
    consent_version = forms.CharField(max_length=40, label=_("Consent form version"))
    enrolment_date = iso_date_field(
        label=_("Enrolment date"), initial=timezone.localdate, required=False,
        help_text=_("The date the patient was enrolled (origin of the enrolment-based endpoints); "
                    "not in the future, not before consent or screening. Empty: today."))


class RandomiseForm(forms.Form):
    randomisation_date = iso_date_field(
        label=_("Randomisation date"), initial=timezone.localdate, required=False,
        help_text=_("Not in the future, not before the enrolment date. Empty: today."))


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=500, label=_("Reason"))


def _due_date_field() -> forms.DateField:
    return forms.DateField(required=False, label=_("Due date"),
                           widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))


class RaiseQueryForm(forms.Form):
    field_name = forms.ChoiceField(label=_("Field"))
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), label=_("Query"))
    assignee = forms.ChoiceField(required=False, label=_("Assign to"))
    due_date = _due_date_field()

    def __init__(self, *args: Any, field_names: list[str], assignees: list[Any] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["field_name"].choices = [(n, n) for n in field_names]  # type: ignore[attr-defined]
        set_assignee_choices(self, assignees or [])


def set_assignee_choices(form: forms.Form, assignees: list[Any]) -> None:
    form.fields["assignee"].choices = [  # type: ignore[attr-defined]
        ("", _("the site's team")), *((u.username, u.get_full_name() or u.username) for u in assignees)]


class AnswerQueryForm(forms.Form):
    answer = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), label=_("Answer"))


class ReopenQueryForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), label=_("Why re-open"))
    due_date = _due_date_field()


class AssignQueryForm(forms.Form):
    assignee = forms.ChoiceField(required=False, label=_("Assign to"))
    due_date = _due_date_field()

    def __init__(self, *args: Any, assignees: list[Any], **kwargs: Any):
        super().__init__(*args, **kwargs)
        set_assignee_choices(self, assignees)


class StudyForm(forms.Form):
    code = forms.SlugField(max_length=40)
    target_enrolment = forms.IntegerField(min_value=0, initial=0)
    protocol_file = forms.FileField(required=False, label=_("Protocol file (YAML)"))
    protocol_yaml = forms.CharField(widget=forms.Textarea(attrs={"rows": 16}), label=_("or paste the protocol (YAML)"),
                                    required=False)

    def clean(self) -> dict[str, Any]:
        """One protocol text from the uploaded file (UTF-8, at most 1 MB) or the text area."""
        data = super().clean()
        upload = data.get("protocol_file")
        if upload is not None:
            if upload.size > 1_000_000:
                self.add_error("protocol_file", _("the protocol file is larger than 1 MB"))
                return data
            try:
                data["protocol_yaml"] = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError:
                self.add_error("protocol_file", _("the protocol file is not UTF-8 text"))
        if not (data.get("protocol_yaml") or "").strip() and not self.errors:
            self.add_error("protocol_yaml", _("give a protocol file or paste the protocol"))
        return data


class AmendmentForm(forms.Form):
    protocol_yaml = forms.CharField(widget=forms.Textarea(attrs={"rows": 16}), label=_("Amended protocol (YAML)"))
    reason = forms.CharField(max_length=2000, label=_("Reason for the amendment"))
    restart_from = forms.IntegerField(
        required=False, min_value=1, label=_("Start a new randomisation sequence at allocation number"),
        help_text=_("only when the amendment changes randomisation after the first allocation: the next number"))
    restart_reason = forms.CharField(required=False, max_length=2000, label=_("Reason for the new sequence"))


class DecisionForm(forms.Form):
    note = forms.CharField(max_length=2000, required=False, label=_("Note"))
