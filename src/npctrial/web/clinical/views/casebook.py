"""Casebook pages: the CRF overview, one subject's casebook, CRF create/edit, live lab grading."""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from npctrial.errors import ValidationError
from npctrial.web.clinical import calendar, crfs, locks, reports, schedule
from npctrial.web.clinical.casebook_state import load_state
from npctrial.web.clinical.derive import suggest_lab_grade
from npctrial.web.clinical.grid import STATUS_LABELS
from npctrial.web.clinical.models import AdverseEvent, TumourAssessment
from npctrial.web.clinical.views.common import subject_for, today
from npctrial.web.clinical.views.grid import grid_context, hidden_forms, subject_grid
from npctrial.web.core import form_access, permissions
from npctrial.web.core.locking import EditConflict
from npctrial.web.core.models import Subject
from npctrial.web.core.screening import protocol_of


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
        "forms": crfs.CRFS})


def casebook(request: HttpRequest, study_pk: int, pk: int) -> HttpResponse:
    study, subject = subject_for(request, study_pk, pk, "view")
    queries = subject.queries.select_related("raised_by").order_by("-raised_at")
    open_queries = Counter(q.record for q in queries if q.status != "closed")
    sections = []
    for slug, spec in crfs.CRFS.items():
        level = form_access.form_level(request.user, study, slug, subject.site)
        if level == "none":  # the protocol hides this form from the user's roles
            continue
        records = list(spec.model.objects.filter(subject=subject).order_by("pk"))
        cols = [c for c in (*spec.fields, *crfs.DERIVED.get(slug, ())) if c not in ("bsa_rule", "dose_rule")]
        sections.append({"slug": slug, "spec": spec, "columns": [_label(spec.model, c) for c in cols],
                         "query_fields": [(f, _label(spec.model, f)) for f in spec.fields],
                         "rows": [(r, [_cell(getattr(r, c)) for c in cols], crfs.query_record(slug, r.pk),
                                   open_queries.get(crfs.query_record(slug, r.pk), 0)) for r in records],
                         "can_add": level == "edit" and not (spec.single and records), "editable": level == "edit"})
    lesions = {a.pk: list(a.lesions.all()) for a in TumourAssessment.objects.filter(subject=subject)}
    state = load_state(subject)
    return render(request, "clinical/casebook.html", {
        **grid_context(study, subject, subject_grid(subject, state), hidden_forms(request, study, subject)),
        "status_legend": list(STATUS_LABELS.items()),
        "study": study, "subject": subject, "sections": sections, "lesions": lesions,
        "calendar": calendar.calendar_for(subject, today()), "best_response": reports.best_response(subject),
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


_UNITS = {"cm": "cm", "kg": "kg", "m2": "m²", "gy": "Gy", "gy10": "Gy, α/β 10", "gy3": "Gy, α/β 3", "mm": "mm",
          "mg": "mg", "pct": "%"}
_ACRONYMS = {"tnm": "TNM", "ecog": "ECOG", "kps": "KPS", "ebv": "EBV", "dna": "DNA", "wbc": "WBC", "anc": "ANC",
             "hb": "Hb", "alt": "ALT", "ast": "AST", "bsa": "BSA", "s1": "S-1", "bed": "BED", "eqd2": "EQD2",
             "lln": "LLN", "uln": "ULN", "sae": "SAE", "rt": "RT"}


def _label(model: Any, name: str) -> str:
    """Column heading of a CRF field: its verbose name if set, else its words with acronyms and unit.

    ``height_cm`` -> "Height (cm)", ``eqd2_gy10`` -> "EQD2 (Gy, α/β 10)", ``ebv_dna`` -> "EBV DNA".
    """
    verbose = str(model._meta.get_field(name).verbose_name)
    if verbose != name.replace("_", " "):
        return verbose[:1].upper() + verbose[1:]
    words = name.split("_")
    unit = _UNITS.get(words[-1]) if len(words) > 1 else None
    if unit is not None:
        words = words[:-1]
    text = " ".join(_ACRONYMS.get(w, w) for w in words)
    text = text[:1].upper() + text[1:]
    return f"{text} ({unit})" if unit else text


def _cell(value: Any) -> Any:
    """Display value: floats to at most 2 decimals (the stored value keeps full precision)."""
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return value


def _lesion_rows(formset: Any) -> list[dict[str, Any]]:
    return [f.cleaned_data for f in formset.forms if f.cleaned_data.get("lesion_id")]


def crf_form(request: HttpRequest, study_pk: int, pk: int, form: str, record_pk: int | None = None) -> HttpResponse:
    """Create (record_pk None) or edit one CRF record; edits carry the version and a reason."""
    study, subject = subject_for(request, study_pk, pk, "view")
    try:
        spec = crfs.spec_of(form)
    except ValidationError:
        from django.http import Http404

        raise Http404("no such form") from None
    permissions.require(request.user, study, "edit_crf", subject.site)
    form_access.require_form(request.user, study, form, "edit", subject.site)
    instance = None
    if record_pk is not None:
        instance = permissions.get_scoped_or_404(request.user, study, spec.model.objects.filter(subject=subject),
                                                 record_pk, site_field="subject__site")
    form_cls = crfs.form_class(form)
    lesion_initial = ([{k: getattr(x, k) for k in crfs.LESION_FIELDS} for x in instance.lesions.all()]
                      if instance is not None and form == "assessment" else None)
    conflict = None
    notes: list[str] = []
    event = _event_of(subject, form, request.POST.get("event") or request.GET.get("event") or "", instance)
    if request.method == "POST":
        f = form_cls(request.POST, instance=None)
        lesion_set = crfs.LesionFormSet(request.POST, prefix="lesions") if form == "assessment" else None
        reason = request.POST.get("reason", "")
        if f.is_valid() and (lesion_set is None or lesion_set.is_valid()):
            values = {k: f.cleaned_data[k] for k in spec.fields if k in f.cleaned_data}
            try:
                record, notes = crfs.save_crf(
                    form, subject, values, request.user, instance=instance,
                    expected_version=int(request.POST.get("version", 0) or 0) if instance else None,
                    reason=reason, lesions=_lesion_rows(lesion_set) if lesion_set is not None else None,
                    event=(event.id if event is not None else None) if instance is None else None)
            except EditConflict as exc:
                conflict = exc
            except ValidationError as exc:
                f.add_error(exc.field if exc.field in f.fields else None, str(exc))
            else:
                for n in notes:
                    messages.warning(request, n)
                messages.success(request, _("%(form)s saved") % {"form": spec.label})
                if record.event:
                    return redirect("event-detail", study_pk=study.pk, pk=subject.pk, event=record.event)
                return redirect("casebook", study_pk=study.pk, pk=subject.pk)
    else:
        f = form_cls(instance=instance, initial=_initial_for_event(spec, event) if instance is None else None)
        lesion_set = crfs.LesionFormSet(prefix="lesions", initial=lesion_initial) if form == "assessment" else None
    protocol = protocol_of(subject.protocol_version)
    dose_rules = [t.wording for t in protocol.dosing if t.wording] if form == "baseline" else []
    return render(request, "clinical/crf_form.html", {
        "study": study, "subject": subject, "spec": spec, "form": f, "lesion_set": lesion_set,
        "instance": instance, "conflict": conflict, "slug": form, "dose_rules": dose_rules, "event": event})


def _event_of(subject: Subject, slug: str, requested: str, instance: Any) -> Any:
    """The schedule event a form is entered in (the record's own when editing); 404 for an unknown one."""
    wanted = instance.event if instance is not None else requested
    if not wanted:
        return None
    event = next((e for e in schedule.events_of(subject.protocol_version) if e.id == wanted), None)
    if event is None and instance is None:
        from django.http import Http404

        raise Http404("no such event")
    return event


def _initial_for_event(spec: Any, event: Any) -> dict[str, Any]:
    """Prefill from the event: the week of radiotherapy of a CCRT-week event."""
    if event is not None and event.occurrence and event.anchor == "rt_start" and "week" in spec.fields:
        return {"week": event.occurrence}
    return {}


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
            raise ValidationError("enter a value", field="value")
        grade = suggest_lab_grade(p.get("term", ""), value, p.get("unit", ""), lln=num("lln"), uln=num("uln"),
                                  baseline=num("baseline_value"))
    except ValidationError as exc:
        return HttpResponse(f'<span class="muted" id="suggested">{exc}</span>')
    return HttpResponse(f'<span id="suggested" data-grade="{grade}">Suggested CTCAE v4.03 grade: <b>{grade}</b></span>')
