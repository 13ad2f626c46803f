"""Exports for the statistician: per-form CSV/XLSX/SPSS, ODM XML and the analysis datasets."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render

from npctrial.errors import ValidationError
from npctrial.web.clinical import crfs, exports
from npctrial.web.core import permissions
from npctrial.web.core.models import Subject


def export_index(request: HttpRequest, study_pk: int) -> HttpResponse:
    study = permissions.get_study_for(request.user, study_pk, "export")
    return render(request, "clinical/exports.html", {"study": study, "forms": crfs.CRFS,
                                                     "analysis": exports.ANALYSIS})


def export_file(request: HttpRequest, study_pk: int, name: str, fmt: str) -> HttpResponse:
    """``name`` = form slug, adsl/adae/adtte, or 'odm'; ``fmt`` = csv, wide.csv, long.csv, xlsx, sav, xml, yaml."""
    study = permissions.get_study_for(request.user, study_pk, "export")
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
