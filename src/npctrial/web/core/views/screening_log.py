"""Screening log downloads (CSV, XLSX): audited as every export, site roles get their sites only."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse

from npctrial.web.core import permissions
from npctrial.web.core.deidentify import export_deidentifier
from npctrial.web.core.events import record_event
from npctrial.web.core.screening_log import LOG_COLUMNS, deidentified_log, log_records, log_rows
from npctrial.web.core.spreadsheet import neutralise_workbook, safe_rows

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _csv_text(rows: Iterable[dict[str, Any]], columns: list[str]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\r\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(safe_rows(rows))
    return buffer.getvalue()


def _xlsx_bytes(rows: Iterable[dict[str, Any]], columns: list[str]) -> bytes:
    """One sheet; no cell is stored as a formula (:func:`neutralise_workbook`)."""
    from openpyxl import Workbook  # only when a workbook is made

    book = Workbook()
    sheet = book.active
    sheet.title = "screening log"
    sheet.append(columns)
    for row in rows:
        sheet.append([row.get(c, "") for c in columns])
    neutralise_workbook(book)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def chosen_site(request: HttpRequest, study: Any) -> str | None:
    """The ``?site=`` filter when it is one of the user's visible sites (else every visible site)."""
    site = request.GET.get("site")
    codes = set(permissions.visible_sites(request.user, study).values_list("code", flat=True))
    return site if site in codes else None


def screening_log_export(request: HttpRequest, study_pk: int, fmt: str) -> HttpResponse:
    """The screening log as ``csv`` or ``xlsx`` (``?site=``, ``?level=deidentified`` as other exports)."""
    if fmt not in {"csv", "xlsx"}:
        raise Http404("no such format")
    study = permissions.get_study_for(request.user, study_pk, "export")
    deid = export_deidentifier(request.user, study, request.GET.get("level"))
    site = chosen_site(request, study)
    records = log_records(request.user, study, site)
    count = records.count()
    rows, columns = log_rows(records), list(LOG_COLUMNS)
    if deid is not None:
        rows, columns = deidentified_log(rows, deid)
    if fmt == "csv":
        response = HttpResponse(_csv_text(rows, columns), content_type="text/csv")
    else:
        response = HttpResponse(_xlsx_bytes(rows, columns), content_type=XLSX)
    filename = (f"{study.code}{'-uat' if study.in_development else ''}-screening-log{'-' + site if site else ''}"
                f"{'-deid' if deid else ''}.{fmt}")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    sites = sorted(set(records.values_list("site__code", flat=True)))
    record_event("export", request=request, study=study, record=filename, form="screening_log",
                 summary=f"{filename} downloaded ({count} screenings)",
                 details={"format": fmt, "screenings": count, "sites": sites, "deidentified": deid is not None})
    return response
