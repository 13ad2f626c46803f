"""JSON values of the CRF API validated exactly like the pages: the same Django form, field by field.

JSON brings types an HTML form never sends (numbers, booleans, lists, objects, null); before the
form sees them they are put in the form's own terms, so a bad value is a 422 naming the field,
never a 500:

1. ``null`` -> empty (a required field then says "This field is required").
2. Numbers -> their text (so ``5`` in a date field is "Enter a valid date.", not a crash); NaN and
   infinities are refused by the number fields.
3. Booleans stay booleans for check boxes; elsewhere they are refused.
4. Lists and objects are refused: every CRF field holds one value.
5. A new record is validated with every field of the form (required ones included); an edit only
   with the fields sent (the stored values are kept, as a page edit shows them).
Lesions of a tumour assessment go through the page's lesion form the same way
(``lesions[2].diameter_mm`` names the row and field).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext as _

from npctrial.errors import ValidationError
from npctrial.web.clinical import crfs

__all__ = ["coerce_lesions", "coerce_values"]


def _as_form_value(name: str, value: Any, field: forms.Field) -> Any:
    """Steps 1-4 for one value."""
    if value is None:
        return ""
    if isinstance(value, bool):
        if isinstance(field, forms.BooleanField):
            return value
        raise ValidationError(_("%(field)s: true/false is not a value of this field") % {"field": name}, field=name)
    if isinstance(value, int | float):
        return repr(value) if isinstance(value, float) else str(value)
    if isinstance(value, str):
        return value
    raise ValidationError(_("%(field)s: a single value is expected, got %(type)s") % {"field": name, "type": type(value).__name__},
                          field=name)


def _errors(form: forms.Form, names: list[str], where: str = "") -> None:
    for name in names:
        if name in form.errors:
            raise ValidationError(_("%(field)s: %(errors)s") % {"field": f"{where}{name}", "errors": " ".join(form.errors[name])},
                                  field=f"{where}{name}")


def coerce_values(slug: str, values: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    """Typed values of ``slug`` from JSON (step 5: all fields for a new record, the given ones for an edit).

    A new record omitting a field with an initial value (the page shows it pre-filled, e.g. TNM
    edition 8) gets that value, as a page submission would.
    """
    cls = crfs.form_class(slug)
    fields = cls.base_fields
    data: dict[str, Any] = {}
    for name, value in values.items():
        if name not in fields:
            raise ValidationError(_("unknown field %(field)r for form %(form)s") % {"field": name, "form": slug}, field=name)
        data[name] = _as_form_value(name, value, fields[name])
    if not partial:
        for name, field in fields.items():
            initial = field.initial() if callable(field.initial) else field.initial
            if name not in data and initial not in (None, ""):
                data[name] = initial
    form = cls(data=data)
    form.is_valid()
    _errors(form, list(values) if partial else list(fields))
    return {n: form.cleaned_data.get(n) for n in data if n in form.cleaned_data}


def coerce_lesions(lesions: list[Any] | None) -> list[dict[str, Any]] | None:
    """The lesion rows of an assessment, each through the page's lesion form."""
    if lesions is None:
        return None
    out = []
    for i, row in enumerate(lesions):
        where = f"lesions[{i}]."
        if not isinstance(row, dict):
            raise ValidationError(_("lesions[%(row)s] must be an object with %(fields)s")
                                  % {"row": i, "fields": ", ".join(crfs.LESION_FIELDS)}, field="lesions")
        unknown = sorted(set(row) - set(crfs.LESION_FIELDS))
        if unknown:
            raise ValidationError(_("%(field)s: unknown lesion field") % {"field": f"{where}{unknown[0]}"},
                                  field=f"{where}{unknown[0]}")
        fields = crfs.LesionForm.base_fields
        data = {k: _as_form_value(f"{where}{k}", v, fields[k]) for k, v in row.items()}
        form = crfs.LesionForm(data=data)
        form.is_valid()
        _errors(form, list(crfs.LESION_FIELDS), where)
        out.append(form.cleaned_data)
    return out
