"""Subject pages: list, detail, randomise, audit history; data queries."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from npctrial.errors import ValidationError
from npctrial.web.core import permissions
from npctrial.web.core.allocation import randomise
from npctrial.web.core.attachments import visible_attachments
from npctrial.web.core.audit import audit_entries
from npctrial.web.core.forms import AnswerQueryForm, RaiseQueryForm, RandomiseForm
from npctrial.web.core.models import CORRECTION_KINDS, DataQuery, Subject
from npctrial.web.core.models_attachments import ATTACHMENT_KINDS
from npctrial.web.core.queries import answer_query, close_query, query_fields, raise_query
from npctrial.web.core.randomisation_corrections import record_correction
from npctrial.web.core.screening import protocol_of
from npctrial.web.languages import display

#: Other apps add callables ``(subject) -> iterable of audited records`` to extend the history page.
SUBJECT_RECORD_PROVIDERS: list = []


def subject_list(request: HttpRequest, study_pk: int) -> HttpResponse:
    study = permissions.get_study_for(request.user, study_pk, "view")
    subjects = permissions.scope(
        request.user, study, Subject.objects.select_related("site", "randomisation")
    ).order_by("site__code", "seq")
    return render(request, "core/subject_list.html", {"study": study, "subjects": subjects})


def _protocol_arm_labels(subject: Subject) -> dict[str, str]:
    """Arm code -> label in the reader's language, from the protocol version the subject is under."""
    spec = protocol_of(subject.protocol_version).randomisation
    return {a.code: display.protocol_text(a.label) for a in spec.arms} if spec is not None else {}


def subject_detail(request: HttpRequest, study_pk: int, pk: int) -> HttpResponse:
    study, subject = permissions.get_object_for(request.user, study_pk, Subject.objects.select_related("site", "screening", "protocol_version"), pk, "view")
    randomisation = getattr(subject, "randomisation", None)
    sequence = getattr(study, "allocation_sequence", None)
    arm_labels = {**(sequence.config.get("arm_labels", {}) if sequence else {}), **_protocol_arm_labels(subject)}
    return render(
        request, "core/subject_detail.html",
        {
            "study": study, "subject": subject, "randomisation": randomisation,
            "arm_label": arm_labels.get(randomisation.arm, "") if randomisation else "",
            "randomised_study": sequence is not None,
            "queries": subject.queries.select_related("raised_by", "answered_by", "closed_by"),
            "can_randomise": permissions.can(request.user, study, "randomise", subject.site),
            "can_raise": permissions.can(request.user, study, "raise_query", subject.site),
            "can_answer": permissions.can(request.user, study, "answer_query", subject.site),
            "can_audit": permissions.can(request.user, study, "view_audit", subject.site),
            "can_correct": permissions.can(request.user, study, "correct_randomisation", subject.site),
            "can_attach": permissions.can(request.user, study, "attach", subject.site),
            "attachments": visible_attachments(request.user, subject), "attachment_kinds": ATTACHMENT_KINDS,
            "corrections": randomisation.corrections.select_related("recorded_by") if randomisation else [],
            "correction_kinds": CORRECTION_KINDS,
            "query_form": RaiseQueryForm(field_names=query_fields(subject)),
            "randomise_form": RandomiseForm(),
            "answer_form": AnswerQueryForm(),
        },
    )


@require_POST
def subject_randomise(request: HttpRequest, study_pk: int, pk: int) -> HttpResponse:
    study, subject = permissions.get_object_for(request.user, study_pk, Subject.objects.all(), pk, "randomise")
    form = RandomiseForm(request.POST)
    if not form.is_valid():
        for name, errs in form.errors.items():
            messages.error(request, f"{name}: {' '.join(errs)}")
        return redirect("subject-detail", study_pk=study.pk, pk=subject.pk)
    try:
        allocation = randomise(subject, request.user, form.cleaned_data["randomisation_date"])
    except ValidationError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("%(subject)s randomised to %(arm)s") % {"subject": subject.subject_id, "arm": allocation.arm})
    return redirect("subject-detail", study_pk=study.pk, pk=subject.pk)


@require_POST
def randomisation_correct(request: HttpRequest, study_pk: int, pk: int) -> HttpResponse:
    """Record a mis-randomisation (kind, reason, for a wrong stratum the correct levels ``stratum_<factor>``)."""
    study, subject = permissions.get_object_for(request.user, study_pk, Subject.objects.all(), pk,
                                                "correct_randomisation")
    randomisation = getattr(subject, "randomisation", None)
    if randomisation is None:
        messages.error(request, _("%(subject)s is not randomised") % {"subject": subject.subject_id})
        return redirect("subject-detail", study_pk=study.pk, pk=subject.pk)
    strata = {k[len("stratum_"):]: v for k, v in request.POST.items() if k.startswith("stratum_") and v}
    try:
        record_correction(randomisation, user=request.user, kind=request.POST.get("kind", ""),
                          reason=request.POST.get("reason", ""), correct_strata=strata or None, request=request)
    except ValidationError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Mis-randomisation recorded; allocation #%(n)d stays in the sequence")
                         % {"n": randomisation.number})
    return redirect("subject-detail", study_pk=study.pk, pk=subject.pk)


def subject_history(request: HttpRequest, study_pk: int, pk: int) -> HttpResponse:
    """Per-subject audit trail: screening, consent, subject, randomisation, queries, other apps."""
    study, subject = permissions.get_object_for(request.user, study_pk, Subject.objects.all(), pk, "view_audit")
    return render(request, "core/history.html",
                  {"study": study, "subject": subject, "entries": audit_entries(subject_records(subject))})


def subject_records(subject: Subject) -> list:
    """Every audited record of a subject: core records, then those of other apps' providers."""
    randomisation = getattr(subject, "randomisation", None)
    records: list = [subject.screening, getattr(subject.screening, "consent", None), subject, randomisation,
                     *(randomisation.corrections.all() if randomisation else ()), *subject.queries.all()]
    for provider in SUBJECT_RECORD_PROVIDERS:
        records.extend(provider(subject))
    return records


def _back(request: HttpRequest, study_pk: int, subject_pk: int) -> HttpResponse:
    """Back to the page the form was posted from (``next``, same host only), else the subject page."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return redirect(target)
    return redirect("subject-detail", study_pk=study_pk, pk=subject_pk)


@require_POST
def query_raise(request: HttpRequest, study_pk: int, pk: int) -> HttpResponse:
    """Raise a query on a screening field or, with ``record=<form>:<id>``, on a CRF record field."""
    study, subject = permissions.get_object_for(request.user, study_pk, Subject.objects.all(), pk, "raise_query")
    record = request.POST.get("record", "") or "screening"
    try:
        form = RaiseQueryForm(request.POST, field_names=query_fields(subject, record))
        if form.is_valid():
            raise_query(subject, field_name=form.cleaned_data["field_name"], text=form.cleaned_data["text"],
                        user=request.user, record=record)
            messages.success(request, _("Query raised"))
        else:
            for name, errs in form.errors.items():
                messages.error(request, f"{name}: {' '.join(errs)}")
    except ValidationError as exc:
        messages.error(request, str(exc))
    return _back(request, study.pk, subject.pk)


def query_list(request: HttpRequest, study_pk: int) -> HttpResponse:
    study = permissions.get_study_for(request.user, study_pk, "view")
    queries = permissions.scope(request.user, study, DataQuery.objects.select_related("subject", "site"))
    status = request.GET.get("status")
    if status in {"open", "answered", "closed"}:
        queries = queries.filter(status=status)
    return render(request, "core/query_list.html", {"study": study, "queries": queries, "status": status})


@require_POST
def query_answer(request: HttpRequest, study_pk: int, pk: int) -> HttpResponse:
    study, query = permissions.get_object_for(request.user, study_pk, DataQuery.objects.all(), pk, "answer_query")
    form = AnswerQueryForm(request.POST)
    if form.is_valid():
        try:
            answer_query(query, answer=form.cleaned_data["answer"], user=request.user)
        except ValidationError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Query answered"))
    else:
        messages.error(request, _("answer: this field is required"))
    return _back(request, study.pk, query.subject_id)


@require_POST
def query_close(request: HttpRequest, study_pk: int, pk: int) -> HttpResponse:
    study, query = permissions.get_object_for(request.user, study_pk, DataQuery.objects.all(), pk, "raise_query")
    try:
        close_query(query, user=request.user, note=request.POST.get("note", ""))
    except ValidationError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Query closed"))
    return _back(request, study.pk, query.subject_id)
