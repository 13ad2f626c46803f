"""The data-quality page: every open problem of the user's sites, per site.

Open data queries (raised by people or by edit checks), the protocol's checks re-run on every
stored record (data entered before a check existed, or made inconsistent by a later record),
the subjects not evaluable for an endpoint and why, and overdue follow-up visits. Data managers
can open the queries of the current findings in one step (``POST``: the sweep of
:func:`npctrial.web.clinical.checks.sweep` with ``open_queries``).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from npctrial.web.clinical import calendar, checks
from npctrial.web.clinical.analysis_set import build_analysis_set
from npctrial.web.clinical.views.common import today
from npctrial.web.core import permissions
from npctrial.web.core.models import DataQuery, Subject
from npctrial.web.core.screening import protocol_of


def quality_report(user: Any, study: Any) -> dict[str, Any]:
    """Open problems of the subjects in ``user``'s sites, grouped by site code."""
    subjects = list(permissions.scope(user, study, Subject.objects.select_related("site", "screening",
                                                                                  "randomisation"))
                    .order_by("site__code", "seq"))
    queries = permissions.scope(user, study, DataQuery.objects.select_related("subject__protocol_version", "site")) \
        .exclude(status="closed").order_by("site__code", "subject__seq", "raised_at")
    open_keys = {(q.record, q.edit_check) for q in queries if q.edit_check}
    findings = checks.sweep(subjects)
    protocol = protocol_of(study.current_protocol)
    analysis = build_analysis_set(subjects, protocol.randomisation is not None)
    sites: dict[str, dict[str, list[Any]]] = defaultdict(lambda: {"queries": [], "findings": [], "not_evaluable": [],
                                                                   "overdue": []})
    for q in queries:
        sites[q.site.code]["queries"].append(q)
    for f in findings:
        sites[f.subject.site.code]["findings"].append(
            {"finding": f, "query_open": (f.record, f.finding.check) in open_keys})
    for n in analysis.not_evaluable:
        sites[n.site]["not_evaluable"].append(n)
    for row in calendar.overdue_list(subjects, today()):
        sites[row.subject.site.code]["overdue"].append(row)
    counts = {"queries": queries.count(), "findings": len(findings), "not_evaluable": len(analysis.not_evaluable),
              "unqueried": sum(1 for f in findings if (f.record, f.finding.check) not in open_keys)}
    return {"sites": dict(sorted(sites.items())), "counts": counts, "subjects": subjects}


def data_quality(request: HttpRequest, study_pk: int) -> HttpResponse:
    study = permissions.get_study_for(request.user, study_pk, "view")
    if request.method == "POST":
        permissions.require(request.user, study, "raise_query")
        subjects = permissions.scope(request.user, study, Subject.objects.select_related("site", "screening"))
        found = checks.sweep(list(subjects), open_queries=True)
        messages.success(request, _("Edit checks re-run on every record: %(n)s findings, queries opened for the "
                                    "new ones.") % {"n": len(found)})
        return redirect("data-quality", study_pk=study.pk)
    return render(request, "clinical/quality.html", {
        "study": study, **quality_report(request.user, study),
        "can_raise": permissions.can(request.user, study, "raise_query")})
