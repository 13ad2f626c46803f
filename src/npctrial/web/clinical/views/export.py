"""Exports for the statistician: per-form CSV/XLSX/SPSS, ODM XML and the analysis datasets."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from npctrial.errors import ValidationError
from npctrial.web.clinical import crfs, exports, voiding
from npctrial.web.clinical.declared_export import (
    declared_columns,
    declared_export_forms,
    declared_rows,
    declared_xlsx,
)
from npctrial.web.clinical.export_fields import ANALYSIS_DATES, ANALYSIS_FORMS, ANALYSIS_FREE_TEXT
from npctrial.web.clinical.screening_export import scoped_screenings, screening_export
from npctrial.web.core import form_access, permissions
from npctrial.web.core.attachments import attachment_manifest
from npctrial.web.core.blinding import CONCEALED, allocation_visible
from npctrial.web.core.deidentify import export_deidentifier
from npctrial.web.core.events import record_event
from npctrial.web.core.models import Subject
from npctrial.web.core.spreadsheet import safe_frame
from npctrial.web.languages import display


def export_index(request: HttpRequest, study_pk: int) -> HttpResponse:
    study = permissions.get_study_for(request.user, study_pk, "export")
    level = form_access.require_export(request.user, study)
    readable = form_access.readable(request.user, study, crfs.CRFS)
    listed, _columns, hidden_attachments = attachment_manifest(request.user, study)
    return render(request, "clinical/exports.html", {
        "study": study, "forms": {k: v for k, v in crfs.CRFS.items() if k in readable},
        "declared_forms": [(k, display.protocol_text(f.label)) for k, f in declared_export_forms(study).items()
                           if k in form_access.readable(request.user, study, [k])],
        "hidden_forms": [k for k in crfs.CRFS if k not in readable], "analysis": exports.ANALYSIS,
        "export_level": level, "attachments_listed": len(listed), "attachments_hidden": hidden_attachments,
        "voided": voiding.voided_count(permissions.scope(request.user, study, Subject.objects.all()))})


def _require_forms(request: HttpRequest, study: Any, name: str) -> list[str]:
    """The forms an export reads, each readable by the user (403 naming the first that is not)."""
    forms = list(crfs.CRFS) if name == "odm" else list(ANALYSIS_FORMS.get(name, (name,)))
    for form in forms:
        if form in crfs.CRFS or form in declared_export_forms(study):
            form_access.require_form(request.user, study, form, "read")
    return forms


def export_file(request: HttpRequest, study_pk: int, name: str, fmt: str) -> HttpResponse:
    """``name`` = form slug, screening, adsl/adae/adtte, or 'odm'; ``fmt`` = csv, wide.csv, long.csv, xlsx, sav, xml, yaml.

    ``?level=deidentified`` asks for a de-identified file; roles whose export level is de-identified
    always get one (``-deid`` in the file name). The ``arm`` column follows the protocol's blinding
    for the downloading user; every download is an ``export`` audit event (who, what, when, how
    many subjects).
    """
    study = permissions.get_study_for(request.user, study_pk, "export")
    deid = export_deidentifier(request.user, study, request.GET.get("level"))
    _require_forms(request, study, name)
    subjects = permissions.scope(request.user, study, Subject.objects.all())
    filename = f"{study.code}{'-uat' if study.in_development else ''}-{name}{'-deid' if deid else ''}.{fmt}"
    visible = allocation_visible(request.user, study)
    try:
        if name == "screening" and fmt == "csv":  # values, consent, enrolment: what the import reads back
            rows, columns = screening_export(study, scoped_screenings(request.user, study), deid)
            response = StreamingHttpResponse(exports.csv_stream(rows, columns), content_type="text/csv")
        elif name == "attachments" and fmt == "csv":  # the manifest of the documents (not their bytes)
            listed, columns, _hidden = attachment_manifest(request.user, study, deid)
            response = StreamingHttpResponse(exports.csv_stream(listed, columns), content_type="text/csv")
        else:
            response = _export(study, subjects, name, fmt, deid, conceal_arm=not visible)
    except ValidationError:
        from django.http import Http404

        raise Http404("no such export") from None
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    audit_export(request, study, filename, subjects, form=name,
                 details={"format": fmt, "arm_shown": visible, "deidentified": deid is not None})
    return response


def audit_export(request: HttpRequest, study: Any, filename: str, subjects: Any, form: str = "",
                 details: dict[str, Any] | None = None) -> None:
    """The ``export`` audit event of a download: file, format, subjects and sites in it."""
    count = subjects.count()
    sites = sorted(set(subjects.values_list("site__code", flat=True)))
    record_event("export", request=request, study=study, record=filename, form=form,
                 summary=f"{filename} downloaded ({count} subjects)",
                 details={**(details or {}), "subjects": count, "sites": sites})


def _concealed(rows: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for row in rows:
        if row.get("arm"):
            row = {**row, "arm": str(CONCEALED)}
        yield row


def _declared_export(form: Any, subjects: Any, fmt: str, deid: Any) -> HttpResponse:
    if fmt == "csv":
        return StreamingHttpResponse(exports.csv_stream(declared_rows(form, subjects, deid),
                                                        declared_columns(form, deid)), content_type="text/csv")
    if fmt == "xlsx":
        return HttpResponse(declared_xlsx(form, subjects, deid),
                            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    raise ValidationError(_("unknown format %(format)r") % {"format": fmt}, field="fmt")


def _export(study: Any, subjects: Any, name: str, fmt: str, deid: Any = None,
            conceal_arm: bool = True) -> HttpResponse:
    if name == "odm" and fmt == "xml":
        return StreamingHttpResponse(exports.odm_stream(study, subjects, deid=deid), content_type="application/xml")
    if name in exports.ANALYSIS:
        if fmt == "yaml" and name == "adsl":
            return HttpResponse(exports.adsl_config_yaml(study.code, hasattr(study, "allocation_sequence")),
                                content_type="text/yaml")
        rows, cols = exports.analysis_rows(name, subjects)
        if conceal_arm:
            rows = _concealed(rows)
        if deid is not None:
            rows = deid.rows(rows, "usubjid", ANALYSIS_DATES[name], ANALYSIS_FREE_TEXT[name])
            cols = deid.columns(cols, ANALYSIS_DATES[name], ANALYSIS_FREE_TEXT[name])
        if fmt == "csv":
            return StreamingHttpResponse(exports.csv_stream(rows, cols), content_type="text/csv")
        if fmt == "xlsx":
            import pandas as pd

            return HttpResponse(exports.xlsx_bytes({name: pd.DataFrame(list(rows), columns=cols)}),
                                content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        raise ValidationError(_("unknown format %(format)r") % {"format": fmt}, field="fmt")
    declared = declared_export_forms(study)
    if name in declared:  # a protocol-declared form: CSV, or XLSX with its voided records apart
        return _declared_export(declared[name], subjects, fmt, deid)
    crfs.spec_of(name)
    if fmt in ("csv", "wide.csv"):
        if fmt == "csv":
            return StreamingHttpResponse(exports.csv_stream(exports.form_rows(name, subjects, deid),
                                                            exports.form_columns(name, deid)), content_type="text/csv")
        df = exports.wide_frame(name, subjects, deid)
        return HttpResponse(safe_frame(df).to_csv(index=False, lineterminator="\n"), content_type="text/csv")
    if fmt == "long.csv":
        return StreamingHttpResponse(
            exports.csv_stream(exports.long_rows(name, subjects, deid),
                               ["subject_id", "site", "form", "record_id", "field", "value"]), content_type="text/csv")
    if fmt == "xlsx":
        import pandas as pd

        long = pd.DataFrame(list(exports.form_rows(name, subjects, deid)), columns=exports.form_columns(name, deid))
        tall = pd.DataFrame(list(exports.long_rows(name, subjects, deid)),
                            columns=["subject_id", "site", "form", "record_id", "field", "value"])
        return HttpResponse(exports.xlsx_bytes({"records": long, "long": tall,
                                                "wide": exports.wide_frame(name, subjects, deid)}),
                            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    if fmt == "sav":
        return HttpResponse(exports.sav_bytes(name, subjects, deid), content_type="application/x-spss-sav")
    raise ValidationError(_("unknown format %(format)r") % {"format": fmt}, field="fmt")
