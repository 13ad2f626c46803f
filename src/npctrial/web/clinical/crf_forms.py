"""CRF forms as people read them: every field labelled with its unit and help text (protocol labels
for catalogued fields, :mod:`npctrial.web.clinical.labels` otherwise), values carried from
screening marked as such, and the open data queries flagged next to the field they concern."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext as _

from npctrial.web.clinical import labels
from npctrial.web.clinical.carry_forward import Carried


def decorate(form: forms.BaseForm, protocol: Any, carried: dict[str, Carried] | None = None,
             queries: dict[str, list[Any]] | None = None) -> forms.BaseForm:
    """Set the label (with unit), help text, carried-forward note and query flags of every field."""
    for name, field in form.fields.items():
        text = labels.field_text(name, protocol)
        field.label = labels.label_with_unit(text)
        old = str(field.help_text or "")
        helps = [str(text.help) if text.help else ("" if old in ("", text.unit) else old)]
        if carried and name in carried:
            helps.append(_("from screening: %(note)s (changing it needs a reason)") % {"note": carried[name].source})
            field.widget.attrs["data-carried"] = "1"
        field.help_text = " · ".join(h for h in helps if h)
        if queries and queries.get(name):
            field.widget.attrs["aria-describedby"] = f"q-{name}"
            field.widget.attrs["class"] = (field.widget.attrs.get("class", "") + " has-query").strip()
    return form


def field_queries(queries: Any, record: str) -> dict[str, list[Any]]:
    """Not-closed queries of one record, by field name."""
    out: dict[str, list[Any]] = {}
    for q in queries:
        if q.record == record and q.status != "closed":
            out.setdefault(q.field_name, []).append(q)
    return out
