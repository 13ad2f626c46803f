"""The study-wide audit log page and its CSV / ODM downloads (filters in the query string)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from npctrial.errors import ValidationError
from npctrial.web.core import permissions
from npctrial.web.core.audit_export import log_csv, log_odm
from npctrial.web.core.audit_log import HISTORY_ACTIONS, LogFilter, entries, form_choices, page_of
from npctrial.web.core.events import EVENT_ACTIONS, record_event
from npctrial.web.core.models import Site, Study

PAGE_SIZE = 100


class AuditLogFilterForm(forms.Form):
    user = forms.CharField(label=_("User"), required=False, max_length=150)
    subject = forms.CharField(label=_("Subject"), required=False, max_length=40)
    form = forms.ChoiceField(label=_("Form"), required=False)
    action = forms.ChoiceField(label=_("Action"), required=False)
    # ISO dates only: 03/04/2026 could be either day first or month first
    since = forms.DateField(label=_("From (date)"), required=False, input_formats=["%Y-%m-%d"],
                            widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    until = forms.DateField(label=_("To (date)"), required=False, input_formats=["%Y-%m-%d"],
                            widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    page = forms.IntegerField(required=False, min_value=1, max_value=1_000_000, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["form"].choices = [("", _("any")), *form_choices(), ("login", _("logins"))]
        self.fields["action"].choices = [("", _("any")), *[(v, v) for v in HISTORY_ACTIONS.values()],
                                         *[(k, str(v)) for k, v in EVENT_ACTIONS.items()]]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", _("must be on or after the start date"))
        return data

    def log_filter(self) -> LogFilter:
        d = self.cleaned_data
        return LogFilter(user=(d.get("user") or "").strip(), subject=(d.get("subject") or "").strip(),
                         form=d.get("form") or "", action=d.get("action") or "", since=d.get("since"),
                         until=d.get("until"))


def parse_filter(params: Any) -> tuple[LogFilter, int]:
    """The filter and page of a query string; ValidationError naming the first bad field."""
    form = AuditLogFilterForm(params)
    if not form.is_valid():
        name, errors = next(iter(form.errors.items()))
        raise ValidationError(gettext("%(field)s: %(errors)s") % {"field": name, "errors": " ".join(errors)}, field=name)
    return form.log_filter(), form.cleaned_data.get("page") or 1


def audit_log(request: HttpRequest, study_pk: int) -> HttpResponse:
    study = permissions.get_study_for(request.user, study_pk, "view_audit_log")
    form = AuditLogFilterForm(request.GET or None)
    if request.GET and not form.is_valid():
        return render(request, "core/audit_log.html", {"study": study, "form": form, "page": None}, status=400)
    flt = form.log_filter() if request.GET else LogFilter()
    number = (form.cleaned_data.get("page") if request.GET else None) or 1
    page = page_of(request.user, study, flt, page=number, page_size=PAGE_SIZE)
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "core/audit_log.html", {
        "study": study, "form": form, "page": page, "query": query.urlencode(),
        "previous_page": page.page - 1 if page.page > 1 else None,
        "next_page": page.page + 1 if page.page < page.pages else None})


def _users_and_sites(study: Study, rows: list[Any]) -> tuple[set[str], list[tuple[str, str]]]:
    users = {e.user for e in rows}
    sites = [(s.code, s.name) for s in Site.objects.filter(study_sites__study=study).order_by("code")]
    return users, sites


def audit_log_export(request: HttpRequest, study_pk: int, fmt: str) -> HttpResponse:
    """The filtered log as CSV (``fmt=csv``) or ODM 1.3.2 AuditRecords (``fmt=xml``); audited as an export."""
    study = permissions.get_study_for(request.user, study_pk, "view_audit_log")
    if fmt not in ("csv", "xml"):
        raise Http404("no such format")
    try:
        flt, _page = parse_filter(request.GET)
    except ValidationError as exc:
        return HttpResponse(str(exc), status=400, content_type="text/plain; charset=utf-8")
    filename = f"{study.code}-audit-log.{fmt}"
    record_event("export", request=request, study=study, record=filename, form="audit_log",
                 summary=f"{filename} downloaded", details={"format": fmt, "filter": {
                     k: str(v) for k, v in flt.__dict__.items() if v}})
    if fmt == "csv":
        response: HttpResponse = StreamingHttpResponse(log_csv(entries(request.user, study, flt)),
                                                       content_type="text/csv; charset=utf-8")
    else:
        rows = list(entries(request.user, study, flt))
        users, sites = _users_and_sites(study, rows)
        response = StreamingHttpResponse(log_odm(study, rows, users, sites), content_type="application/xml")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
