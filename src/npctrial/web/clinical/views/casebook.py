"""Casebook pages: the CRF overview, one subject's casebook, CRF create/edit, live lab grading."""

from __future__ import annotations

import html
from collections import Counter
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from npctrial.domain import grade_lab
from npctrial.errors import ValidationError
from npctrial.web.clinical import calendar, crfs, labels, locks
from npctrial.web.clinical.analysis_set import best_response_or_reason
from npctrial.web.clinical.casebook_state import load_state
from npctrial.web.clinical.grid import STATUS_LABELS
from npctrial.web.clinical.models import Lesion
from npctrial.web.clinical.views.common import subject_for, today
from npctrial.web.clinical.views.declared import casebook_sections
from npctrial.web.clinical.views.grid import form_levels, grid_context, hidden_of, subject_grid
from npctrial.web.core import permissions
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


def _lesions(subject: Subject) -> dict[int, list[Lesion]]:
    """The lesions of every tumour assessment of the subject, in one query."""
    out: dict[int, list[Lesion]] = {}
    for lesion in Lesion.objects.filter(assessment__subject=subject).order_by("pk"):
        out.setdefault(lesion.assessment_id, []).append(lesion)
    return out


def _sections(request: HttpRequest, study: Any, subject: Subject, state: Any, open_queries: Counter[str],
              levels: dict[str, str]) -> list[dict[str, Any]]:
    """One table per form the user may see (``levels``), the CRFs' from the records in ``state``."""
    protocol = protocol_of(subject.protocol_version)
    sections: list[dict[str, Any]] = []
    for slug, spec in crfs.CRFS.items():
        level = levels[slug]
        if level == "none":  # the protocol hides this form from the user's roles
            continue
        records = state.records.get(slug, [])  # live records in pk order, as spec.model.objects gives them
        cols = labels.summary_columns(slug, spec.fields)
        sections.append({"slug": slug, "spec": spec,
                         "columns": [labels.label_with_unit(labels.field_text(c, protocol)) for c in cols],
                         "query_fields": [(f, labels.label_with_unit(labels.field_text(f, protocol)))
                                          for f in spec.fields],
                         "rows": [(r, [labels.display(spec.model, c, getattr(r, c)) for c in cols],
                                   crfs.query_record(slug, r.pk), open_queries.get(crfs.query_record(slug, r.pk), 0))
                                  for r in records],
                         "can_add": level == "edit" and not (spec.single and records), "editable": level == "edit"})
    sections += casebook_sections(request, study, subject, open_queries, levels, state.records)  # forms the protocol declares
    for sec in sections:  # a record's pages are <prefix><pk>/ and <prefix><pk>/view/: reversed once per form
        one = reverse("crf-edit", kwargs={"study_pk": study.pk, "pk": subject.pk, "form": sec["slug"], "record_pk": 1})
        sec["record_prefix"] = one[:-2]
        # the field choices of the raise-query form on every record row, escaped once per form
        sec["query_options"] = mark_safe("".join(  # noqa: S308 - every value is escaped
            f'<option value="{html.escape(str(f))}">{html.escape(str(label))}</option>' for f, label in sec["query_fields"]))
    return sections


def casebook(request: HttpRequest, study_pk: int, pk: int) -> HttpResponse:
    """One subject's casebook: the schedule grid, every form's records, queries and signatures.

    The records are read once (``load_state``) and shared by the grid, the form tables and the
    signature check; the latest signature is shown only while it covers the records as they are."""
    study, subject = subject_for(request, study_pk, pk, "view")
    queries = list(subject.queries.select_related("raised_by").order_by("-raised_at"))
    open_queries = Counter(q.record for q in queries if q.status != "closed")
    state = load_state(subject)
    signatures = list(subject.signatures.select_related("signed_by").order_by("-signed_at", "-pk"))
    assessments = sorted(state.records.get("assessment", []), key=lambda a: (a.assessment_date, a.pk))
    best_response, best_response_note = best_response_or_reason(subject, assessments)
    levels = form_levels(request, study, subject)
    return render(request, "clinical/casebook.html", {
        **grid_context(study, subject, subject_grid(subject, state), hidden_of(levels)),
        "status_legend": list(STATUS_LABELS.items()),
        "study": study, "subject": subject, "sections": _sections(request, study, subject, state, open_queries, levels),
        "lesions": _lesions(subject),
        "calendar": calendar.calendar_for(subject, today(), state.records), "best_response": best_response,
        "best_response_note": best_response_note,
        "locked": state.locked, "signature": signatures[0] if signatures and state.signed else None,
        "signatures": signatures,
        "statement": locks.SIGNATURE_STATEMENT,
        "can_edit": permissions.can(request.user, study, "edit_crf", subject.site),
        "can_sign": permissions.can(request.user, study, "sign_casebook", subject.site),
        "can_lock": permissions.can(request.user, study, "lock", subject.site),
        "can_raise": permissions.can(request.user, study, "raise_query", subject.site),
        "can_answer": permissions.can(request.user, study, "answer_query", subject.site),
        "queries": [q for q in queries if q.record != "screening"], "next": request.path,
        "raise_url": reverse("query-raise", kwargs={"study_pk": study.pk, "pk": subject.pk}),
        "open_saes": [ae for ae in state.records.get("ae", []) if ae.serious and ae.sae_reported_at is None],
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
