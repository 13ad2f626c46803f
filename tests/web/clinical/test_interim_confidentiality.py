"""Interim confidentiality and the cached study report.

Written from the rule (web.clinical.interim): PFS/OS by arm and the log-rank test only for the
statistician and the DMC (when the blinding lets them see arms); every other role sees efficacy
pooled over the arms, on the page, in the PDF and in the API. The report is cached per data
version: the same data gives the cached report, a saved record gives a new one.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.core.cache import cache
from django.test import Client

from npctrial.web.clinical import reports
from tests.web.clinical.conftest import RT, save, url
from tests.web.conftest import login

ARMS = {"CCRT", "CCRT+NIMO"}


@pytest.fixture
def ccrt(world):
    """Both randomised CCRT subjects with radiotherapy and a follow-up visit (PFS/OS evaluable)."""
    arms = {world.subjects[("ccrt", site)].randomisation.arm for site in ("A", "B")}
    assert arms == ARMS, f"the world's two CCRT subjects must be in different arms, got {arms}"
    for site in ("A", "B"):
        save("followup", world, {"visit_date": date(2026, 6, 1), "status": "alive_ned"}, study="ccrt", site=site)
    return world


def _report(role: str, world) -> dict:
    response = login(Client(), role).get(f"/api/v1/studies/{world.studies['ccrt'].pk}/report")
    assert response.status_code == 200, response.content[:300]
    return response.json()


@pytest.mark.parametrize("role", ["statistician", "dmc"])
def test_statistician_and_dmc_see_efficacy_by_arm(ccrt, role):
    data = _report(role, ccrt)
    assert data["efficacy"] == "by_arm"
    groups = {g for s in data["survival"] for g in s["groups"]}
    assert data["survival"] and groups <= ARMS and len(groups) == 2


@pytest.mark.parametrize("role", ["investigator", "coordinator", "data_manager", "monitor", "study_admin"])
def test_other_roles_see_efficacy_pooled(ccrt, role):
    data = _report(role, ccrt)
    assert data["efficacy"] == "pooled"
    assert data["survival"], "the pooled curves are still shown"
    for s in data["survival"]:
        assert s["groups"] == ["All"] and s["logrank_p"] is None and s["logrank_chisq"] is None
        assert sum(s["n"]) >= 1


def test_the_page_and_pdf_follow_the_same_rule(ccrt):
    pooled = login(Client(), "coordinator").get(url("study-report", ccrt, study="ccrt")).content.decode()
    assert 'id="interim-confidentiality"' in pooled and "all arms pooled" in pooled
    assert not any(f'data-arm="{arm}"' in pooled for arm in ARMS)
    split = login(Client(), "dmc").get(url("study-report", ccrt, study="ccrt")).content.decode()
    assert 'id="interim-confidentiality"' not in split and "by arm" in split
    assert all(f'data-arm="{arm}"' in split for arm in ARMS)
    pdf = login(Client(), "monitor").get(url("study-report-pdf", ccrt, study="ccrt"))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_a_blinded_statistician_sees_no_arm(ccrt, monkeypatch):
    monkeypatch.setattr("npctrial.web.clinical.interim.allocation_visible", lambda user, study, site=None: False)
    assert _report("statistician", ccrt)["efficacy"] == "pooled"


def test_a_single_arm_study_is_the_same_for_everyone(ccrt):
    for role in ("coordinator", "statistician"):
        response = login(Client(), role).get(f"/api/v1/studies/{ccrt.studies['imrt'].pk}/report")
        assert response.json()["efficacy"] == "single_arm"


def test_the_report_is_cached_per_data_version(ccrt, monkeypatch):
    calls = []
    real = reports.compute_report

    def counting(*args, **kwargs):
        calls.append(kwargs.get("by_arm"))
        return real(*args, **kwargs)

    save("radiotherapy", ccrt, dict(RT))
    monkeypatch.setattr(reports, "compute_report", counting)
    client = login(Client(), "monitor")
    first = client.get(url("study-report", ccrt)).content.decode()
    client.get(url("study-report", ccrt))
    login(Client(), "data_manager").get(url("study-report", ccrt))  # same scope and rule: same report
    assert len(calls) == 1
    assert 'data-term="mucositis_oral"' not in first
    save("ae", ccrt, {"week": 3, "term": "mucositis_oral", "grade": 3, "attribution": "probable",
                      "start_date": date(2026, 1, 26)})
    after = client.get(url("study-report", ccrt)).content.decode()
    assert len(calls) == 2 and 'data-term="mucositis_oral"' in after  # a new record: a new report
    login(Client(), "statistician").get(url("study-report", ccrt))  # another rule: computed for it
    assert len(calls) == 3
    login(Client(), "coordinator").get(url("study-report", ccrt))  # one site only: another scope
    assert len(calls) == 4


def _svgs(page: str) -> list[str]:
    return re.findall(r"<svg.*?</svg>", page, flags=re.S)


def test_a_figure_is_drawn_again_only_when_what_it_plots_changes(ccrt, monkeypatch):
    """Report cache step 3: a saved AE gives a new report (its numbers) but the same KM figures,
    not drawn again; a death changes the curves and redraws them."""
    cache.clear()
    drawn = []
    real = reports._figure

    def counting(km, pvalue, title, fmt="svg"):
        drawn.append((title, fmt))
        return real(km, pvalue, title, fmt)

    monkeypatch.setattr(reports, "_figure", counting)
    save("radiotherapy", ccrt, dict(RT), study="ccrt")
    client = login(Client(), "monitor")
    first = client.get(url("study-report", ccrt, study="ccrt")).content.decode()
    figures = _svgs(first)
    assert figures and len(drawn) == len(figures)
    save("ae", ccrt, {"week": 3, "term": "mucositis_oral", "grade": 3, "attribution": "probable",
                      "start_date": date(2026, 1, 26)}, study="ccrt")
    after_ae = client.get(url("study-report", ccrt, study="ccrt")).content.decode()
    assert 'data-term="mucositis_oral"' in after_ae and 'data-term="mucositis_oral"' not in first
    assert len(drawn) == len(figures) and _svgs(after_ae) == figures  # the same curves, not redrawn
    death = ccrt.subjects[("ccrt", "A")].randomisation.randomisation_date
    save("event", ccrt, {"kind": "death", "event_date": death, "cause": "stroke"}, study="ccrt")
    later = client.get(url("study-report", ccrt, study="ccrt")).content.decode()
    assert drawn[len(figures):] == [("PFS", "svg"), ("OS", "svg")]  # a death: both curves drawn again
    assert all(a != b for a, b in zip(_svgs(later), figures, strict=True))
