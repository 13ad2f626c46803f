"""Study report page and PDF (site scope of the user)."""

from __future__ import annotations

import html
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from npctrial.web.clinical import reports, voiding
from npctrial.web.clinical.interim import comparative_visible
from npctrial.web.clinical.report_cache import cached_report
from npctrial.web.clinical.views.common import today
from npctrial.web.clinical.views.export import audit_export
from npctrial.web.core import permissions
from npctrial.web.core.models import ScreeningRecord, Subject
from npctrial.web.core.snapshot import read_snapshot


def scoped_report(user: Any, study: Any, figures: bool = True) -> reports.StudyReport:
    """The study report over the subjects and screenings of the user's sites (pages and API), efficacy
    by arm only for those who may see it (interim confidentiality); cached per data version."""
    by_arm = comparative_visible(user, study)
    day = today()

    def compute() -> reports.StudyReport:
        subjects = permissions.scope(user, study, Subject.objects.all())
        screenings = permissions.scope(user, study, ScreeningRecord.objects.all())
        with read_snapshot():  # the report and its voided counts from one state of the data
            report = reports.compute_report(study, subjects, screenings, day, figures=figures, by_arm=by_arm)
            voided = voiding.voided_count(subjects)
        if voided:  # never dropped silently: say what was left out and why
            report.notes.append(_("Left out: %(n)s records voided as entered in error (%(forms)s); see the "
                                  "voided-records listing.") % {"n": sum(voided.values()),
                                                                "forms": ", ".join(f"{k} {v}" for k, v in voided.items())})
        return report

    return cached_report("page" if figures else "data", study, permissions.visible_site_ids(user, study),
                         by_arm, day, compute)


def not_evaluable_rows(report: reports.StudyReport) -> SafeString:
    """The not-evaluable table's rows, every value escaped (one per subject and endpoint, often
    hundreds while a trial enrols: joined here with the standard library's escape, which is about
    ten times faster than the template engine or Django's lazy-aware ``format_html``)."""
    rows = []
    for n in report.not_evaluable:
        endpoint, subject, site, reason = (html.escape(str(n[k])) for k in ("endpoint", "subject", "site", "reason"))
        rows.append(f'<tr data-endpoint="{endpoint}" data-subject="{subject}"><td>{endpoint}</td><td>{subject}</td>'
                    f"<td>{site}</td><td>{reason}</td></tr>")
    return mark_safe("".join(rows))  # noqa: S308 - every value above is escaped


def study_report(request: HttpRequest, study_pk: int) -> HttpResponse:
    study = permissions.get_study_for(request.user, study_pk, "view")
    report = scoped_report(request.user, study)
    return render(request, "clinical/report.html", {"study": study, "report": report,
                                                    "not_evaluable_rows": not_evaluable_rows(report),
                                                    "at_risk_months": reports.AT_RISK_MONTHS,
                                                    "pooled_note": reports.POOLED_NOTE})


def study_report_pdf(request: HttpRequest, study_pk: int) -> HttpResponse:
    study = permissions.get_study_for(request.user, study_pk, "view")
    pdf = cached_report("pdf", study, permissions.visible_site_ids(request.user, study),
                        comparative_visible(request.user, study), today(),
                        lambda: reports.report_pdf(scoped_report(request.user, study, figures=False)))
    response = HttpResponse(pdf, content_type="application/pdf")
    filename = f"{study.code}{'-uat' if study.in_development else ''}-report.pdf"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    audit_export(request, study, filename, permissions.scope(request.user, study, Subject.objects.all()),
                 form="report", details={"format": "pdf"})
    return response
