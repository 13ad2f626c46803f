"""Subject pages: list, detail, randomise, audit history (data query pages: ``views.queries``)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from npctrial.errors import ValidationError
from npctrial.web.core import permissions
from npctrial.web.core.allocation import randomise, segment_for, segments_of, subject_factors
from npctrial.web.core.attachments import visible_attachments
from npctrial.web.core.audit import audit_entries
from npctrial.web.core.blinding import allocation_visible, mask_arm
from npctrial.web.core.confirm import Confirmation, confirmed, render_confirmation
from npctrial.web.core.forms import AnswerQueryForm, RaiseQueryForm, RandomiseForm, ReopenQueryForm
from npctrial.web.core.models import CORRECTION_KINDS, Subject
from npctrial.web.core.models_attachments import ATTACHMENT_KINDS
from npctrial.web.core.queries import assignable_users, query_fields
from npctrial.web.core.randomisation_corrections import record_correction
from npctrial.web.core.screening import protocol_of
from npctrial.web.languages import display

#: Other apps add callables ``(subject) -> iterable of audited records`` to extend the history page.
SUBJECT_RECORD_PROVIDERS: list = []


#: Subjects per page of the subject list (a trial of several hundred patients stays quick to open).
SUBJECTS_PER_PAGE = 100


def subject_list(request: HttpRequest, study_pk: int) -> HttpResponse:
    """The subjects of the user's sites, 100 a page in site and enrolment order; ``?q=`` narrows to
    subject IDs containing the text (case-insensitive), ``?page=`` picks the page."""
    study = permissions.get_study_for(request.user, study_pk, "view")
    query = request.GET.get("q", "").strip()[:64]
    subjects = permissions.scope(
        request.user, study, Subject.objects.select_related("site", "randomisation")
    ).order_by("site__code", "seq")
    if query:
        subjects = subjects.filter(subject_id__icontains=query)
    page = Paginator(subjects, SUBJECTS_PER_PAGE).get_page(request.GET.get("page"))
    visible: dict[int, bool] = {}
    rows = []
    for s in page:
        if s.site_id not in visible:
            visible[s.site_id] = allocation_visible(request.user, study, s.site)
        r = getattr(s, "randomisation", None)
        rows.append({"subject": s, "randomisation": r, "arm": mask_arm(r.arm, visible[s.site_id]) if r else ""})
    return render(request, "core/subject_list.html", {"study": study, "rows": rows, "page": page, "q": query})


def _protocol_arm_labels(subject: Subject) -> dict[str, str]:
    """Arm code -> label in the reader's language, from the protocol version the subject is under."""
    spec = protocol_of(subject.protocol_version).randomisation
    return {a.code: display.protocol_text(a.label) for a in spec.arms} if spec is not None else {}


def subject_detail(request: HttpRequest, study_pk: int, pk: int) -> HttpResponse:
    study, subject = permissions.get_object_for(request.user, study_pk, Subject.objects.select_related("site", "screening", "protocol_version"), pk, "view")
    randomisation = getattr(subject, "randomisation", None)
    sequence = getattr(study, "allocation_sequence", None)
    arm_labels = {**(sequence.config.get("arm_labels", {}) if sequence else {}), **_protocol_arm_labels(subject)}
    visible = allocation_visible(request.user, study, subject.site)
    return render(
        request, "core/subject_detail.html",
        {
            "study": study, "subject": subject, "randomisation": randomisation, "allocation_visible": visible,
            "arm_label": arm_labels.get(randomisation.arm, "") if randomisation and visible else "",
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
            "query_form": RaiseQueryForm(field_names=query_fields(subject), assignees=assignable_users(subject)),
            "randomise_form": RandomiseForm(),
            "answer_form": AnswerQueryForm(), "reopen_form": ReopenQueryForm(),
        },
    )


def _randomise_confirmation(request: HttpRequest, study: Any, subject: Subject, day: Any) -> Confirmation:
    """What randomising ``subject`` does: arms, ratio, method, the strata read from screening."""
    problems: list[str] = []
    sequence = getattr(study, "allocation_sequence", None)
    consequences: list[str] = []
    if sequence is None:
        problems.append(_("%(study)s is a single-arm study: there is nothing to randomise") % {"study": study.code})
    elif hasattr(subject, "randomisation"):
        problems.append(_("%(subject)s is already randomised (allocation #%(n)s): a subject is randomised once")
                        % {"subject": subject.subject_id, "n": subject.randomisation.number})
    else:
        config = segment_for(segments_of(sequence), sequence.count + 1).config
        labels = config.get("arm_labels", {})
        arms = ", ".join(f"{a} ({labels.get(a, a)})" for a in config.get("arms", []))
        consequences.append(_("%(subject)s is allocated to one arm: %(arms)s; ratio %(ratio)s, by %(method)s.") % {
            "subject": subject.subject_id, "arms": arms, "ratio": ":".join(str(r) for r in config.get("ratio", [])),
            "method": str(config.get("method", "")).replace("_", " ")})
        try:
            strata = subject_factors(subject, config)
        except ValidationError as exc:
            problems.append(str(exc))
        else:
            if strata:
                consequences.append(_("Stratification factors, from the screening record: %(strata)s.") % {
                    "strata": ", ".join(f"{k} = {v}" for k, v in strata.items())})
        consequences.append(_("The allocation is final: it is added to the concealed sequence and the audit trail, "
                              "and cannot be undone or repeated."))
        consequences.append(_("Randomisation date: %(day)s.") % {"day": (day or timezone.localdate()).isoformat()})
        consequences.append(_("The arm is shown to you as soon as it is allocated.")
                            if allocation_visible(request.user, study, subject.site)
                            else _("The arm stays concealed from you (blinded for your role); the allocation "
                                   "number is shown."))
    return Confirmation(
        title=_("Randomise %(subject)s?") % {"subject": subject.subject_id}, consequences=consequences,
        action=request.path, button=_("Randomise now"), problems=problems,
        hidden={"randomisation_date": day.isoformat() if day else ""},
        cancel_url=reverse("subject-detail", kwargs={"study_pk": study.pk, "pk": subject.pk}))


@require_http_methods(["GET", "POST"])
def subject_randomise(request: HttpRequest, study_pk: int, pk: int) -> HttpResponse:
    """GET (or a POST without confirm=yes): what will happen; the confirmed POST randomises."""
    study, subject = permissions.get_object_for(request.user, study_pk, Subject.objects.all(), pk, "randomise")
    form = RandomiseForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and not form.is_valid():
        for name, errs in form.errors.items():
            messages.error(request, _("%(field)s: %(errors)s") % {"field": name, "errors": " ".join(errs)})
        return redirect("subject-detail", study_pk=study.pk, pk=subject.pk)
    day = form.cleaned_data["randomisation_date"] if request.method == "POST" else None
    if not confirmed(request):
        return render_confirmation(request, study, _randomise_confirmation(request, study, subject, day))
    try:
        allocation = randomise(subject, request.user, day, request=request)
    except ValidationError as exc:
        messages.error(request, display.message_text(exc))
    else:
        if allocation_visible(request.user, study, subject.site):
            messages.success(request, _("%(subject)s randomised to %(arm)s (allocation #%(number)d)") % {
                "subject": subject.subject_id, "arm": allocation.arm, "number": allocation.number})
        else:
            messages.success(request, _("%(subject)s randomised: allocation #%(number)d (arm concealed)") % {
                "subject": subject.subject_id, "number": allocation.number})
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
        messages.error(request, display.message_text(exc))
    else:
        messages.success(request, _("Mis-randomisation recorded; allocation #%(n)d stays in the sequence")
                         % {"n": randomisation.number})
    return redirect("subject-detail", study_pk=study.pk, pk=subject.pk)


def subject_history(request: HttpRequest, study_pk: int, pk: int) -> HttpResponse:
    """Per-subject audit trail: screening, consent, subject, randomisation, queries, other apps."""
    study, subject = permissions.get_object_for(request.user, study_pk, Subject.objects.all(), pk, "view_audit")
    entries = audit_entries(subject_records(subject),
                            allocation_visible=allocation_visible(request.user, study, subject.site))
    return render(request, "core/history.html", {"study": study, "subject": subject, "entries": entries})


def subject_records(subject: Subject) -> list:
    """Every audited record of a subject: core records, then those of other apps' providers."""
    randomisation = getattr(subject, "randomisation", None)
    records: list = [subject.screening, getattr(subject.screening, "consent", None), subject, randomisation,
                     *(randomisation.corrections.all() if randomisation else ()), *subject.queries.all()]
    for provider in SUBJECT_RECORD_PROVIDERS:
        records.extend(provider(subject))
    return records


def _back(request: HttpRequest, study_pk: int, subject_pk: int) -> HttpResponse:
    """Back to the page the form was posted from (``next``: a path on this host), else the subject page."""
    target = request.POST.get("next", "")
    if target.startswith("/") and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return HttpResponseRedirect(target)  # a URL, never looked up as a view name
    return redirect("subject-detail", study_pk=study_pk, pk=subject_pk)

