"""Casebook pages: the CRF overview, one subject's casebook, CRF create/edit, live lab grading."""

from __future__ import annotations

from collections import Counter

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from npctrial.domain import grade_lab
from npctrial.errors import ValidationError
from npctrial.web.clinical import calendar, crfs, labels, locks
from npctrial.web.clinical.analysis_set import best_response_or_reason
from npctrial.web.clinical.casebook_state import load_state
from npctrial.web.clinical.grid import STATUS_LABELS
from npctrial.web.clinical.models import AdverseEvent, TumourAssessment
from npctrial.web.clinical.views.common import subject_for, today
from npctrial.web.clinical.views.declared import casebook_sections
from npctrial.web.clinical.views.grid import grid_context, hidden_forms, subject_grid
from npctrial.web.core import form_access, permissions
from npctrial.web.core.models import Subject
from npctrial.web.core.screening import protocol_of
from npctrial.web.languages import display


def clinical_home(request: HttpRequest, study_pk: int) -> HttpResponse:
    """Subjects with their CRF status, and the overdue follow-up visits per site."""
    study = permissions.get_study_for(request.user, study_pk, "view")
    subjects = list(permissions.scope(request.user, study, Subject.objects.select_related("site"))
                    .order_by("site__code", "seq"))
    rows = [{"subject": s, "locked": locks.is_locked(s),
             "forms": {slug: spec.model.objects.filter(subject=s).count() for slug, spec in crfs.CRFS.items()}}
            for s in subjects]
    return render(request, "clinical/home.html", {
        "study": study, "rows": rows, "overdue": calendar.overdue_list(subjects, today()),
        "study_locked": locks.study_locked(study), "can_lock": permissions.can(request.user, study, "lock"),
        "can_import": permissions.can(request.user, study, "import_data"),
        "forms": crfs.CRFS})


def casebook(request: HttpRequest, study_pk: int, pk: int) -> HttpResponse:
    study, subject = subject_for(request, study_pk, pk, "view")
    queries = subject.queries.select_related("raised_by").order_by("-raised_at")
    open_queries = Counter(q.record for q in queries if q.status != "closed")
    protocol = protocol_of(subject.protocol_version)
    sections = []
    levels = form_access.form_levels(request.user, study, crfs.CRFS, subject.site)
    for slug, spec in crfs.CRFS.items():
        level = levels[slug]
        if level == "none":  # the protocol hides this form from the user's roles
            continue
        records = list(spec.model.objects.filter(subject=subject).order_by("pk"))
        cols = labels.summary_columns(slug, spec.fields)
        sections.append({"slug": slug, "spec": spec,
                         "columns": [labels.label_with_unit(labels.field_text(c, protocol)) for c in cols],
                         "query_fields": [(f, labels.label_with_unit(labels.field_text(f, protocol)))
                                          for f in spec.fields],
                         "rows": [(r, [labels.display(spec.model, c, getattr(r, c)) for c in cols],
                                   crfs.query_record(slug, r.pk), open_queries.get(crfs.query_record(slug, r.pk), 0))
                                  for r in records],
                         "can_add": level == "edit" and not (spec.single and records), "editable": level == "edit"})
    sections += casebook_sections(request, study, subject, open_queries)  # forms the protocol declares
    lesions = {a.pk: list(a.lesions.all()) for a in TumourAssessment.objects.filter(subject=subject)}
    state = load_state(subject)
    return render(request, "clinical/casebook.html", {
        **grid_context(study, subject, subject_grid(subject, state), hidden_forms(request, study, subject)),
        "status_legend": list(STATUS_LABELS.items()),
        "study": study, "subject": subject, "sections": sections, "lesions": lesions,
        "calendar": calendar.calendar_for(subject, today()), "best_response": best_response_or_reason(subject)[0],
        "best_response_note": best_response_or_reason(subject)[1],
        "locked": locks.is_locked(subject), "signature": locks.signature_current(subject),
        "signatures": subject.signatures.select_related("signed_by").order_by("-signed_at"),
        "statement": locks.SIGNATURE_STATEMENT,
        "can_edit": permissions.can(request.user, study, "edit_crf", subject.site),
        "can_sign": permissions.can(request.user, study, "sign_casebook", subject.site),
        "can_lock": permissions.can(request.user, study, "lock", subject.site),
        "can_raise": permissions.can(request.user, study, "raise_query", subject.site),
        "can_answer": permissions.can(request.user, study, "answer_query", subject.site),
        "queries": [q for q in queries if q.record != "screening"], "next": request.path,
        "open_saes": AdverseEvent.objects.filter(subject=subject, serious=True, sae_reported_at__isnull=True),
        "now": timezone.now()})


@require_POST
def lab_grade(request: HttpRequest, study_pk: int, pk: int) -> HttpResponse:
    """htmx: the CTCAE grade suggested for the lab value being typed."""
    subject_for(request, study_pk, pk, "view")
    p = request.POST

    def num(name: str) -> float | None:
        try:
            return float(p[name]) if p.get(name) not in (None, "") else None
        except ValueError:
            return None

    try:
        value = num("value")
        if value is None:
            raise ValidationError(_("enter a value"), field="value")
        grade = grade_lab(p.get("term", ""), value, p.get("unit", ""), lln=num("lln"), uln=num("uln"),
                          baseline=num("baseline_value"), lln_unit=p.get("lln_unit") or None,
                          uln_unit=p.get("uln_unit") or None, baseline_unit=p.get("baseline_unit") or None)
    except ValidationError as exc:
        return HttpResponse(format_html('<span class="muted" id="suggested">{}</span>', display.message_text(exc)))
    return HttpResponse(f'<span id="suggested" data-grade="{grade}">Suggested CTCAE v4.03 grade: <b>{grade}</b></span>')
