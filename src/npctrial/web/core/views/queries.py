"""Data query pages: the study's query list (filters), one query's thread, and the lifecycle steps
(raise, answer, close, re-open, assign). Rules: :mod:`npctrial.web.core.queries`."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from npctrial.errors import ValidationError
from npctrial.web.core import permissions
from npctrial.web.core.forms import (
    AnswerQueryForm,
    AssignQueryForm,
    RaiseQueryForm,
    ReopenQueryForm,
)
from npctrial.web.core.models import DataQuery, Subject
from npctrial.web.core.queries import (
    answer_query,
    assign_query,
    assignable_users,
    close_query,
    filter_queries,
    is_overdue,
    query_fields,
    query_thread,
    raise_query,
    reopen_query,
)
from npctrial.web.core.views.subjects import _back
from npctrial.web.languages import display


def _form_errors(request: HttpRequest, form: Any) -> None:
    for name, errs in form.errors.items():
        messages.error(request, _("%(field)s: %(errors)s") % {
            "field": form.fields[name].label if name in form.fields else name, "errors": " ".join(errs)})


@require_POST
def query_raise(request: HttpRequest, study_pk: int, pk: int) -> HttpResponse:
    """Raise a query on a screening field or, with ``record=<form>:<id>``, on a CRF record field."""
    study, subject = permissions.get_object_for(request.user, study_pk, Subject.objects.all(), pk, "raise_query")
    record = request.POST.get("record", "") or "screening"
    try:
        form = RaiseQueryForm(request.POST, field_names=query_fields(subject, record),
                              assignees=assignable_users(subject))
        if form.is_valid():
            raise_query(subject, field_name=form.cleaned_data["field_name"], text=form.cleaned_data["text"],
                        user=request.user, record=record, assignee=form.cleaned_data["assignee"],
                        due_date=form.cleaned_data["due_date"])
            messages.success(request, _("Query raised"))
        else:
            _form_errors(request, form)
    except ValidationError as exc:
        messages.error(request, display.message_text(exc))
    return _back(request, study.pk, subject.pk)


def query_list(request: HttpRequest, study_pk: int) -> HttpResponse:
    """Every query in the user's scope; filters: status (or ``waiting``), site, assignee (``me``), overdue."""
    study = permissions.get_study_for(request.user, study_pk, "view")
    queries = permissions.scope(request.user, study, DataQuery.objects.select_related(
        "subject__protocol_version", "site", "assignee", "raised_by"))
    filters = {"status": request.GET.get("status", ""), "site": request.GET.get("site", ""),
               "assignee": request.GET.get("assignee", ""), "overdue": request.GET.get("overdue") == "1"}
    try:
        queries = filter_queries(queries, request.user, **filters)
    except ValidationError as exc:
        messages.error(request, display.message_text(exc))
        queries = queries.none()
    today = timezone.localdate()
    rows = [(q, is_overdue(q, today)) for q in queries]
    return render(request, "core/query_list.html", {
        "study": study, "rows": rows, "filters": filters, "status": filters["status"],
        "sites": permissions.visible_sites(request.user, study).order_by("code"),
        "statuses": DataQuery._meta.get_field("status").choices})


def query_detail(request: HttpRequest, study_pk: int, pk: int) -> HttpResponse:
    """One query: the record and field it concerns, its thread, and the steps the user may take."""
    study, query = permissions.get_object_for(
        request.user, study_pk, DataQuery.objects.select_related("subject", "site", "assignee"), pk, "view")
    can_raise = permissions.can(request.user, study, "raise_query", query.site)
    return render(request, "core/query_detail.html", {
        "study": study, "q": query, "thread": query_thread(query), "overdue": is_overdue(query),
        "can_answer": permissions.can(request.user, study, "answer_query", query.site),
        "can_raise": can_raise, "answer_form": AnswerQueryForm(), "reopen_form": ReopenQueryForm(),
        "assign_form": AssignQueryForm(
            assignees=assignable_users(query.subject) if can_raise else [],
            initial={"assignee": query.assignee.username if query.assignee else "", "due_date": query.due_date}),
    })


def _step(request: HttpRequest, study_pk: int, pk: int, capability: str, run: Any, done: str) -> HttpResponse:
    study, query = permissions.get_object_for(request.user, study_pk, DataQuery.objects.all(), pk, capability)
    try:
        run(query)
    except ValidationError as exc:
        messages.error(request, display.message_text(exc))
    else:
        messages.success(request, done)
    if request.POST.get("next"):
        return _back(request, study.pk, query.subject_id)
    return redirect("query-detail", study_pk=study.pk, pk=query.pk)


@require_POST
def query_answer(request: HttpRequest, study_pk: int, pk: int) -> HttpResponse:
    form = AnswerQueryForm(request.POST)

    def run(query: DataQuery) -> None:
        if not form.is_valid():
            raise ValidationError(_("answer: this field is required"), field="answer")
        answer_query(query, answer=form.cleaned_data["answer"], user=request.user)

    return _step(request, study_pk, pk, "answer_query", run, _("Query answered"))


@require_POST
def query_close(request: HttpRequest, study_pk: int, pk: int) -> HttpResponse:
    return _step(request, study_pk, pk, "raise_query",
                 lambda q: close_query(q, user=request.user, note=request.POST.get("note", "")), _("Query closed"))


def _field_errors(form: Any) -> str:
    """Every error of ``form``, each after its field's name."""
    return _("; ").join(_("%(field)s: %(errors)s") % {"field": k, "errors": " ".join(v)} for k, v in form.errors.items())


@require_POST
def query_reopen(request: HttpRequest, study_pk: int, pk: int) -> HttpResponse:
    form = ReopenQueryForm(request.POST)

    def run(query: DataQuery) -> None:
        if not form.is_valid():
            raise ValidationError(_field_errors(form), field="reason")
        reopen_query(query, user=request.user, reason=form.cleaned_data["reason"],
                     due_date=form.cleaned_data["due_date"])

    return _step(request, study_pk, pk, "raise_query", run, _("Query re-opened"))


@require_POST
def query_assign(request: HttpRequest, study_pk: int, pk: int) -> HttpResponse:
    def run(query: DataQuery) -> None:
        form = AssignQueryForm(request.POST, assignees=assignable_users(query.subject))
        if not form.is_valid():
            raise ValidationError(_field_errors(form), field="assignee")
        assign_query(query, user=request.user, assignee=form.cleaned_data["assignee"],
                     due_date=form.cleaned_data["due_date"])

    return _step(request, study_pk, pk, "raise_query", run, _("Query assigned"))
