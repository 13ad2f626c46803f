"""Study dashboard figures: enrolment over time against target and by site, screen failures by
criterion, open queries. Every count is restricted to the sites in the viewer's scope."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Count

from npctrial.web.core import permissions
from npctrial.web.core.models import DataQuery, ScreeningRecord, Study, Subject


@dataclass(frozen=True)
class Dashboard:
    study: str
    target: int
    screened: int
    eligible: int
    enrolled: int
    randomised: int
    open_queries: int
    by_site: list[dict[str, Any]]
    failures_by_criterion: list[dict[str, Any]]
    enrolment_by_month: list[dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _month(d: date) -> str:
    return f"{d.year:04d}-{d.month:02d}"


def _month_range(first: str, last: str) -> list[str]:
    """Every month from ``first`` to ``last`` inclusive (months without enrolment included)."""
    year, month = int(first[:4]), int(first[5:])
    out = []
    while f"{year:04d}-{month:02d}" <= last:
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def compute_dashboard(user: Any, study: Study) -> Dashboard:
    screenings = permissions.scope(user, study, ScreeningRecord.objects.all())
    subjects = permissions.scope(user, study, Subject.objects.all())
    queries = permissions.scope(user, study, DataQuery.objects.all())
    sites = list(permissions.visible_sites(user, study).order_by("code"))
    screened_by_site = dict(screenings.values_list("site__code").annotate(n=Count("id")))
    enrolled_by_site = dict(subjects.values_list("site__code").annotate(n=Count("id")))
    queries_by_site = dict(
        queries.exclude(status="closed").values_list("site__code").annotate(n=Count("id"))
    )
    by_site = [
        {
            "site": s.code,
            "name": s.name,
            "screened": screened_by_site.get(s.code, 0),
            "enrolled": enrolled_by_site.get(s.code, 0),
            "open_queries": queries_by_site.get(s.code, 0),
        }
        for s in sites
    ]
    failures: Counter[str] = Counter()
    for failed in screenings.filter(outcome="ineligible").values_list("failed_criteria", flat=True):
        failures.update(failed or [])
    months: Counter[str] = Counter(_month(d) for d in subjects.values_list("enrolment_date", flat=True))
    cumulative, series = 0, []
    for month in _month_range(min(months), max(months)) if months else []:
        cumulative += months[month]
        series.append({"month": month, "enrolled": months.get(month, 0), "cumulative": cumulative})
    return Dashboard(
        study=study.code,
        target=study.target_enrolment,
        screened=screenings.count(),
        eligible=screenings.filter(outcome="eligible").count(),
        enrolled=subjects.count(),
        randomised=subjects.filter(randomisation__isnull=False).count(),
        open_queries=queries.exclude(status="closed").count(),
        by_site=by_site,
        failures_by_criterion=[{"criterion": c, "count": n} for c, n in failures.most_common()],
        enrolment_by_month=series,
    )


def enrolment_svg(dashboard: Dashboard, width: int = 560, height: int = 180) -> str:
    """A small inline SVG: cumulative enrolment by month (bars) against the target (line)."""
    series = dashboard.enrolment_by_month
    top = max([dashboard.target, *(p["cumulative"] for p in series), 1])
    pad = 28
    n = max(len(series), 1)
    bw = (width - 2 * pad) / n
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="cumulative enrolment against target">'
    ]
    for i, p in enumerate(series):
        h = (height - 2 * pad) * p["cumulative"] / top
        x = pad + i * bw
        parts.append(
            f'<rect x="{x + 2:.1f}" y="{height - pad - h:.1f}" width="{max(bw - 4, 1):.1f}" '
            f'height="{h:.1f}" class="bar"><title>{p["month"]}: {p["cumulative"]}</title></rect>'
        )
        parts.append(
            f'<text x="{x + bw / 2:.1f}" y="{height - pad + 14}" text-anchor="middle" '
            f'font-size="10">{p["month"][2:]}</text>'
        )
    if dashboard.target:
        y = height - pad - (height - 2 * pad) * dashboard.target / top
        parts.append(
            f'<line x1="{pad}" x2="{width - pad}" y1="{y:.1f}" y2="{y:.1f}" class="target"/>'
            f'<text x="{width - pad}" y="{y - 4:.1f}" text-anchor="end" font-size="11">'
            f"target {dashboard.target}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)
