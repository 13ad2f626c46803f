"""The page form of a protocol-declared form: inputs built from the declared fields, no rules.

Every field is an untyped Django field (no Django validation: what is typed reaches
:func:`~npctrial.domain.declared_forms.check_form_values` as typed, and its errors are put on
the field they name). The inputs follow the field's type: a date input for dates, a select of
the localised choice labels for choices, Yes/No for booleans, a decimal or whole-number text
input with the unit beside it for numbers, a text input with the declared length for text.
Calculated fields are shown read-only (never submitted); hidden fields (``show_if`` false or
undecided, :func:`~npctrial.domain.declared_forms.preview_form`) are rendered hidden and disabled,
and the app's script shows and enables them as the form is typed.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from npctrial.domain.declared_forms import (
    DEFAULT_TEXT_LENGTH,
    DeclaredForm,
    FormField,
    preview_form,
)
from npctrial.domain.localised_text import localise
from npctrial.web.clinical.declared import display_value, field_label

__all__ = ["EntryField", "entry_fields", "entry_form", "submitted_values"]


def _widget(field: FormField) -> forms.Widget:
    if field.type == "date":
        return forms.DateInput(attrs={"type": "date"})
    if field.type == "choice":
        choices = [("", "—"), *((c, localise(field.choice_label(c), get_language())) for c in field.choices or ())]
        return forms.Select(choices=choices)
    if field.type == "bool":
        return forms.Select(choices=[("", "—"), ("yes", _("Yes")), ("no", _("No"))])
    if field.type in ("number", "int"):
        return forms.TextInput(attrs={"inputmode": "decimal" if field.type == "number" else "numeric",
                                      "size": "10", "class": "num"})
    return forms.TextInput(attrs={"maxlength": str(field.max_length or DEFAULT_TEXT_LENGTH), "size": "40"})


def entry_form(form: DeclaredForm, data: Any = None, initial: dict[str, Any] | None = None) -> forms.Form:
    """A Django form with one untyped input per entered field (calculated fields have none)."""
    attrs: dict[str, Any] = {}
    for spec in form.entered:
        attrs[spec.name] = forms.Field(required=False, label=localise(spec.label, get_language()),
                                       widget=_widget(spec))
    cls = type(f"{form.id.title().replace('_', '')}Form", (forms.Form,), attrs)
    return cls(data=data, initial=initial)


def submitted_values(form: DeclaredForm, post: Any) -> dict[str, Any]:
    """The values a page submission sends: every declared field present in the POST (calculated ones
    included, so a value sent for one is refused by the domain rather than dropped)."""
    return {name: post.get(name) for name in form.field_names if name in post}


class EntryField:
    """One row of the page: the bound input (None for a calculated field) and how it is shown."""

    def __init__(self, spec: FormField, bound: Any, hidden: bool, calculated: Any, queries: list[Any]):
        self.spec = spec
        self.bound = bound
        self.hidden = hidden
        self.value = display_value(spec, calculated) if spec.calculated else ""
        self.queries = queries
        self.error = ""  # the domain's error on a calculated field (entered fields carry theirs)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def label(self) -> str:
        return field_label(self.spec)

    @property
    def help(self) -> str:
        return localise(self.spec.help, get_language()) if self.spec.help is not None else ""

    @property
    def required(self) -> bool:
        return self.spec.required

    @property
    def calculated(self) -> bool:
        return self.spec.calculated


def entry_fields(declared: DeclaredForm, page_form: forms.Form, values: dict[str, Any], context: dict[str, Any],
                 queries: dict[str, list[Any]] | None = None) -> list[EntryField]:
    """The rows of the page in declaration order, hidden and calculated as the values typed so far say."""
    preview = preview_form(declared, values, context)
    rows = []
    for spec in declared.fields:
        bound = None if spec.calculated else page_form[spec.name]
        hidden = spec.name in preview.hidden
        if bound is not None and hidden:
            bound.field.widget.attrs["disabled"] = "disabled"
        row = EntryField(spec, bound, hidden, preview.calculated.get(spec.name), (queries or {}).get(spec.name, []))
        row.error = getattr(page_form, "calculated_errors", {}).get(spec.name, "")
        rows.append(row)
    return rows
