"""Pages of the clinical workflow. Every view: study (404 if no role) -> object in the user's site scope
(404 otherwise) -> capability at that site (403), all through :mod:`npctrial.web.core.permissions`.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from npctrial.errors import ValidationError
from npctrial.web.clinical import calendar, crfs, exports, locks, reports
from npctrial.web.clinical.derive import suggest_lab_grade
from npctrial.web.clinical.models import AdverseEvent, TumourAssessment
from npctrial.web.core import permissions
from npctrial.web.core.locking import EditConflict
from npctrial.web.core.models import ScreeningRecord, Subject
from npctrial.web.core.screening import protocol_of


def _today() -> date:
    return timezone.localdate()


def _subject(request: HttpRequest, study_pk: int, pk: int, capability: str) -> tuple[Any, Subject]:
    study = permissions.get_study_or_404(request.user, study_pk)
    subject = permissions.get_scoped_or_404(
        request.user, study, Subject.objects.select_related("site", "protocol_version", "study"), pk)
    permissions.require(request.user, study, capability, subject.site)
    return study, subject


def clinical_home(request: HttpRequest, study_pk: int) -> HttpResponse:
    """Subjects with their CRF status, and the overdue follow-up visits per site."""
    study = permissions.get_study_or_404(request.user, study_pk)
    permissions.require(request.user, study, "view")
    subjects = list(permissions.scope(request.user, study, Subject.objects.select_related("site"))
                    .order_by("site__code", "seq"))
    rows = [{"subject": s, "locked": locks.is_locked(s),
             "forms": {slug: spec.model.objects.filter(subject=s).count() for slug, spec in crfs.CRFS.items()}}
            for s in subjects]
    return render(request, "clinical/home.html", {
        "study": study, "rows": rows, "overdue": calendar.overdue_list(subjects, _today()),
        "study_locked": locks.study_locked(study), "can_lock": permissions.can(request.user, study, "lock"),
        "forms": crfs.CRFS})


def casebook(request: HttpRequest, study_pk: int, pk: int) -> HttpResponse:
    study, subject = _subject(request, study_pk, pk, "view")
    queries = subject.queries.select_related("raised_by").order_by("-raised_at")
    open_queries = Counter(q.record for q in queries if q.status != "closed")
    sections = []
    for slug, spec in crfs.CRFS.items():
        records = list(spec.model.objects.filter(subject=subject).order_by("pk"))
        cols = [c for c in (*spec.fields, *crfs.DERIVED.get(slug, ())) if c not in ("bsa_rule", "dose_rule")]
        sections.append({"slug": slug, "spec": spec, "columns": cols,
                         "rows": [(r, [_cell(getattr(r, c)) for c in cols], crfs.query_record(slug, r.pk),
                                   open_queries.get(crfs.query_record(slug, r.pk), 0)) for r in records],
                         "can_add": not (spec.single and records)})
    lesions = {a.pk: list(a.lesions.all()) for a in TumourAssessment.objects.filter(subject=subject)}
    return render(request, "clinical/casebook.html", {
        "study": study, "subject": subject, "sections": sections, "lesions": lesions,
        "calendar": calendar.calendar_for(subject, _today()), "best_response": reports.best_response(subject),
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


def _cell(value: Any) -> Any:
    """Display value: floats to at most 2 decimals (the stored value keeps full precision)."""
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return value


def _lesion_rows(formset: Any) -> list[dict[str, Any]]:
    return [f.cleaned_data for f in formset.forms if f.cleaned_data.get("lesion_id")]


def crf_form(request: HttpRequest, study_pk: int, pk: int, form: str, record_pk: int | None = None) -> HttpResponse:
    """Create (record_pk None) or edit one CRF record; edits carry the version and a reason."""
    study, subject = _subject(request, study_pk, pk, "view")
    try:
        spec = crfs.spec_of(form)
    except ValidationError:
        from django.http import Http404

        raise Http404("no such form") from None
    permissions.require(request.user, study, "edit_crf", subject.site)
    instance = None
    if record_pk is not None:
        instance = permissions.get_scoped_or_404(request.user, study, spec.model.objects.filter(subject=subject),
                                                 record_pk, site_field="subject__site")
    form_cls = crfs.form_class(form)
    lesion_initial = ([{k: getattr(x, k) for k in crfs.LESION_FIELDS} for x in instance.lesions.all()]
                      if instance is not None and form == "assessment" else None)
    conflict = None
    notes: list[str] = []
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
                    reason=reason, lesions=_lesion_rows(lesion_set) if lesion_set is not None else None)
            except EditConflict as exc:
                conflict = exc
            except ValidationError as exc:
                f.add_error(exc.field if exc.field in f.fields else None, str(exc))
            else:
                for n in notes:
                    messages.warning(request, n)
                messages.success(request, f"{spec.label} saved")
                return redirect("casebook", study_pk=study.pk, pk=subject.pk)
    else:
        f = form_cls(instance=instance)
        lesion_set = crfs.LesionFormSet(prefix="lesions", initial=lesion_initial) if form == "assessment" else None
    protocol = protocol_of(subject.protocol_version)
    dose_rules = [t.wording for t in protocol.dosing if t.wording] if form == "baseline" else []
    return render(request, "clinical/crf_form.html", {
        "study": study, "subject": subject, "spec": spec, "form": f, "lesion_set": lesion_set,
        "instance": instance, "conflict": conflict, "slug": form, "dose_rules": dose_rules})


@require_POST
def lab_grade(request: HttpRequest, study_pk: int, pk: int) -> HttpResponse:
    """htmx: the CTCAE grade suggested for the lab value being typed."""
    _subject(request, study_pk, pk, "view")
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


@require_POST
def sign(request: HttpRequest, study_pk: int, pk: int) -> HttpResponse:
    study, subject = _subject(request, study_pk, pk, "sign_casebook")
    try:
        locks.sign_casebook(subject, request.user, request.POST.get("password", ""))
    except ValidationError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Casebook of {subject.subject_id} signed")
    return redirect("casebook", study_pk=study.pk, pk=subject.pk)


@require_POST
def subject_lock(request: HttpRequest, study_pk: int, pk: int) -> HttpResponse:
    study, subject = _subject(request, study_pk, pk, "lock")
    try:
        if request.POST.get("action") == "unlock":
            locks.unlock(study, request.user, request.POST.get("reason", ""), subject)
            messages.success(request, f"{subject.subject_id} unlocked")
        else:
            locks.lock(study, request.user, subject)
            messages.success(request, f"{subject.subject_id} locked")
    except ValidationError as exc:
        messages.error(request, str(exc))
    return redirect("casebook", study_pk=study.pk, pk=subject.pk)


@require_POST
def study_lock(request: HttpRequest, study_pk: int) -> HttpResponse:
    study = permissions.get_study_or_404(request.user, study_pk)
    permissions.require(request.user, study, "lock")
    if permissions.visible_site_ids(request.user, study) is not None:
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied("locking the whole study needs a study-wide role")
    try:
        if request.POST.get("action") == "unlock":
            locks.unlock(study, request.user, request.POST.get("reason", ""))
            messages.success(request, f"Study {study.code} unlocked")
        else:
            locks.lock(study, request.user)
            messages.success(request, f"Study {study.code} locked")
    except ValidationError as exc:
        messages.error(request, str(exc))
    return redirect("clinical-home", study_pk=study.pk)


def _report(request: HttpRequest, study: Any, figures: bool = True) -> reports.StudyReport:
    subjects = permissions.scope(request.user, study, Subject.objects.all())
    screenings = permissions.scope(request.user, study, ScreeningRecord.objects.all())
    return reports.compute_report(study, subjects, screenings, _today(), figures=figures)


def study_report(request: HttpRequest, study_pk: int) -> HttpResponse:
    study = permissions.get_study_or_404(request.user, study_pk)
    permissions.require(request.user, study, "view")
    return render(request, "clinical/report.html", {"study": study, "report": _report(request, study),
                                                    "at_risk_months": reports.AT_RISK_MONTHS})


def study_report_pdf(request: HttpRequest, study_pk: int) -> HttpResponse:
    study = permissions.get_study_or_404(request.user, study_pk)
    permissions.require(request.user, study, "view")
    pdf = reports.report_pdf(_report(request, study, figures=False))
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{study.code}-report.pdf"'
    return response


def export_index(request: HttpRequest, study_pk: int) -> HttpResponse:
    study = permissions.get_study_or_404(request.user, study_pk)
    permissions.require(request.user, study, "export")
    return render(request, "clinical/exports.html", {"study": study, "forms": crfs.CRFS,
                                                     "analysis": exports.ANALYSIS})


def export_file(request: HttpRequest, study_pk: int, name: str, fmt: str) -> HttpResponse:
    """``name`` = form slug, adsl/adae/adtte, or 'odm'; ``fmt`` = csv, wide.csv, long.csv, xlsx, sav, xml, yaml."""
    study = permissions.get_study_or_404(request.user, study_pk)
    permissions.require(request.user, study, "export")
    subjects = permissions.scope(request.user, study, Subject.objects.all())
    filename = f"{study.code}-{name}.{fmt}"
    try:
        response = _export(study, subjects, name, fmt)
    except ValidationError:
        from django.http import Http404

        raise Http404("no such export") from None
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _export(study: Any, subjects: Any, name: str, fmt: str) -> HttpResponse:
    if name == "odm" and fmt == "xml":
        return StreamingHttpResponse(exports.odm_stream(study, subjects), content_type="application/xml")
    if name in exports.ANALYSIS:
        if fmt == "yaml" and name == "adsl":
            return HttpResponse(exports.adsl_config_yaml(study.code, hasattr(study, "allocation_sequence")),
                                content_type="text/yaml")
        rows, cols = exports.analysis_rows(name, subjects)
        if fmt == "csv":
            return StreamingHttpResponse(exports.csv_stream(rows, cols), content_type="text/csv")
        if fmt == "xlsx":
            import pandas as pd

            return HttpResponse(exports.xlsx_bytes({name: pd.DataFrame(list(rows), columns=cols)}),
                                content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        raise ValidationError(f"unknown format {fmt!r}", field="fmt")
    crfs.spec_of(name)
    if fmt in ("csv", "wide.csv"):
        if fmt == "csv":
            return StreamingHttpResponse(exports.csv_stream(exports.form_rows(name, subjects),
                                                            exports.form_columns(name)), content_type="text/csv")
        df = exports.wide_frame(name, subjects)
        return HttpResponse(df.to_csv(index=False, lineterminator="\n"), content_type="text/csv")
    if fmt == "long.csv":
        return StreamingHttpResponse(
            exports.csv_stream(exports.long_rows(name, subjects),
                               ["subject_id", "site", "form", "record_id", "field", "value"]), content_type="text/csv")
    if fmt == "xlsx":
        import pandas as pd

        long = pd.DataFrame(list(exports.form_rows(name, subjects)), columns=exports.form_columns(name))
        tall = pd.DataFrame(list(exports.long_rows(name, subjects)),
                            columns=["subject_id", "site", "form", "record_id", "field", "value"])
        return HttpResponse(exports.xlsx_bytes({"records": long, "long": tall,
                                                "wide": exports.wide_frame(name, subjects)}),
                            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    if fmt == "sav":
        return HttpResponse(exports.sav_bytes(name, subjects), content_type="application/x-spss-sav")
    raise ValidationError(f"unknown format {fmt!r}", field="fmt")
