"""Amendment pages: the versions and a proposal form; one amendment's diff, impact and decision."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from npctrial.errors import ProtocolError, ValidationError
from npctrial.web.core import amendments, permissions
from npctrial.web.core.forms import AmendmentForm, DecisionForm
from npctrial.web.core.models import ProtocolVersion, Study
from npctrial.web.languages.display import message_text, problem_texts


@require_http_methods(["GET", "POST"])
def study_amend(request: HttpRequest, study_pk: int) -> HttpResponse:
    """The protocol versions, and the form proposing an amendment (``manage``)."""
    study = permissions.get_study_for(request.user, study_pk, "manage")
    form = AmendmentForm(request.POST or None)
    problems: list[str] = []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            version = amendments.propose_amendment(
                study, data["protocol_yaml"], user=request.user, reason=data["reason"],
                restart_from=data["restart_from"], restart_reason=data["restart_reason"], request=request)
        except ProtocolError as exc:
            problems = problem_texts(exc)
        except ValidationError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, message_text(exc))
        else:
            messages.success(request, _("Amendment %(label)s (#%(n)d) proposed: it needs approval by someone else")
                             % {"label": version.label, "n": version.number})
            return redirect("amendment-detail", study_pk=study.pk, version_pk=version.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "core/amend_form.html", {
        "study": study, "form": form, "problems": problems, "current": study.current_protocol,
        "versions": study.protocol_versions.select_related("created_by", "decided_by").order_by("-number")},
        status=status)


def _version(request: HttpRequest, study_pk: int, version_pk: int) -> tuple[Study, ProtocolVersion]:
    return amendments.reviewable_version(request.user, study_pk, version_pk)


def _detail(request: HttpRequest, study: Study, version: ProtocolVersion, *, status: int = 200,
            form: Any = None) -> HttpResponse:
    can_decide = (version.status == "proposed" and permissions.can(request.user, study, "approve_amendment")
                  and version.created_by_id != request.user.pk)
    return render(request, "core/amendment_detail.html", {
        "study": study, "version": version, "review": amendments.amendment_review(version),
        "can_decide": can_decide, "decision_form": form or DecisionForm()}, status=status)


def amendment_detail(request: HttpRequest, study_pk: int, version_pk: int) -> HttpResponse:
    study, version = _version(request, study_pk, version_pk)
    return _detail(request, study, version)


@require_POST
def amendment_decide(request: HttpRequest, study_pk: int, version_pk: int) -> HttpResponse:
    """``action`` approve or reject (a reject needs a note)."""
    study, version = _version(request, study_pk, version_pk)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        return _detail(request, study, version, status=400, form=form)
    note = form.cleaned_data["note"]
    try:
        if request.POST.get("action") == "approve":
            amendments.approve_amendment(version, user=request.user, note=note, request=request)
            messages.success(request, _("Protocol version %(label)s is now in force") % {"label": version.label})
        else:
            amendments.reject_amendment(version, user=request.user, note=note, request=request)
            messages.success(request, _("Amendment %(label)s rejected") % {"label": version.label})
    except ValidationError as exc:
        form.add_error(None, str(exc))
        return _detail(request, study, version, status=400, form=form)
    return redirect("amendment-detail", study_pk=study.pk, version_pk=version.pk)
