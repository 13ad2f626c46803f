"""The site laboratory reference ranges of a study: every version, and a form for a new one.

Everyone with a role sees the ranges of the sites in their scope (a coordinator checks the range
the panel will copy); the study admin and the data manager (``manage_lab_ranges``) add versions.
A refused version re-renders the page with the problem next to its field (HTTP 400).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from npctrial.domain.lab_analytes import lab_analytes
from npctrial.domain.lab_panels import reference_limits_needed
from npctrial.errors import ValidationError
from npctrial.web.clinical import lab_ranges
from npctrial.web.clinical.views.common import today
from npctrial.web.core import permissions
from npctrial.web.core.models import Study
from npctrial.web.languages import display
from npctrial.web.languages.display import protocol_text


def _analyte_choices() -> list[tuple[str, str]]:
    return [(a.key, protocol_text(a.label)) for a in lab_analytes() if reference_limits_needed(a)]


def _unit_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    return [(protocol_text(a.label), [(u, u) for u in a.unit_names]) for a in lab_analytes() if reference_limits_needed(a)]


class RangeForm(forms.Form):
    site = forms.ChoiceField(label=gettext_lazy("Site"))
    analyte = forms.ChoiceField(label=gettext_lazy("Analyte"), choices=_analyte_choices)
    unit = forms.ChoiceField(label=gettext_lazy("Unit"), choices=_unit_choices,
                             help_text=gettext_lazy("unit of the LLN and the ULN, as the laboratory reports them"))
    lln = forms.FloatField(label=gettext_lazy("LLN"), required=False)
    uln = forms.FloatField(label=gettext_lazy("ULN"), required=False)
    effective_from = forms.DateField(label=gettext_lazy("Effective from"), input_formats=["%Y-%m-%d"],
                                     widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    note = forms.CharField(label=gettext_lazy("Note"), max_length=300, required=False,
                           help_text=gettext_lazy("the laboratory's reference document; required when the version "
                                                  "replaces one of the same date"))

    def __init__(self, *args: Any, sites: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["site"].choices = [(c, c) for c in sites]


def _manageable_sites(request: HttpRequest, study: Study) -> list[str]:
    return [s.code for s in permissions.visible_sites(request.user, study).order_by("code")
            if permissions.can(request.user, study, "manage_lab_ranges", s)]


def _page(request: HttpRequest, study: Study, form: RangeForm, status: int = 200) -> HttpResponse:
    ranges = list(lab_ranges.scoped_ranges(request.user, study))
    on = today()
    current = {x for x in (lab_ranges.effective_range(study, r.site, r.analyte, on) for r in ranges) if x is not None}
    labels = dict(_analyte_choices())
    return render(request, "clinical/lab_ranges.html", {
        "study": study, "form": form, "today": on, "can_manage": bool(form.fields["site"].choices),
        "rows": [{"r": r, "label": labels.get(r.analyte, r.analyte), "current": r in current,
                  "future": r.effective_from > on} for r in ranges]}, status=status)


def lab_ranges_page(request: HttpRequest, study_pk: int) -> HttpResponse:
    """GET: the ranges in the user's scope; POST (manage_lab_ranges): record a new version."""
    study = permissions.get_study_for(request.user, study_pk, "view")
    sites = _manageable_sites(request, study)
    if request.method != "POST":
        return _page(request, study, RangeForm(sites=sites, initial={"effective_from": date.isoformat(today())}))
    permissions.require(request.user, study, "manage_lab_ranges")
    form = RangeForm(request.POST, sites=sites)
    if not form.is_valid():
        return _page(request, study, form, status=400)
    d = form.cleaned_data
    try:
        r = lab_ranges.add_range(study, d["site"], analyte=d["analyte"], unit=d["unit"], lln=d["lln"], uln=d["uln"],
                                 effective_from=d["effective_from"], note=d["note"], user=request.user)
    except ValidationError as exc:
        form.add_error(exc.field if exc.field in form.fields else None, display.message_text(exc))
        return _page(request, study, form, status=400)
    messages.success(request, _("Reference range saved: %(source)s") % {"source": lab_ranges.range_source(r)})
    return redirect("lab-ranges", study_pk=study.pk)
