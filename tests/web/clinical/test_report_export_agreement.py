"""Report and analysis exports agree on every count, on the whole demo (its messy site MX included:
bad dates, duplicate assessments, impossible grades stored before the checks existed).

For each study, as the data manager (every site): the report's AE table (worst grade per subject and
term over the safety population, AEs and lab-derived grades) against ADAE; the report's PFS/OS
numbers and events against ADTTE (evaluable rows, events = cnsr 0); its not-evaluable list against
ADTTE's rows with ``evalfl = N`` (same subjects, the report's reason within ADTTE's, which also
says e.g. "never randomised"); its enrolled and treated counts against ADSL.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict

import pytest
from django.test import Client

from npctrial.web.core.models import Study
from tests.web.conftest import login


def _csv(client: Client, study: Study, name: str) -> list[dict[str, str]]:
    r = client.get(f"/studies/{study.pk}/clinical/exports/{name}.csv")
    assert r.status_code == 200, name
    text = b"".join(r.streaming_content).decode() if r.streaming else r.content.decode()
    return list(csv.DictReader(io.StringIO(text)))


def _worst_grades(adae: list[dict[str, str]], safety: set[str]) -> dict[str, dict[str, int]]:
    worst: dict[str, dict[str, int]] = defaultdict(dict)
    for r in adae:
        if r["usubjid"] in safety and r["aetoxgr"]:
            g = int(r["aetoxgr"])
            worst[r["aeterm"]][r["usubjid"]] = max(worst[r["aeterm"]].get(r["usubjid"], 0), g)
    return worst


@pytest.mark.django_db
def test_the_report_and_the_analysis_exports_agree_on_every_count_of_the_demo():
    from npctrial.web.demo import load_demo

    load_demo()
    client = login(Client(), "data_manager")
    checked = 0
    for study in Study.objects.order_by("code"):
        report = client.get(f"/api/v1/studies/{study.pk}/report").json()
        adsl, adae, adtte = (_csv(client, study, n) for n in ("adsl", "adae", "adtte"))
        assert len(adsl) == report["flow"]["enrolled"], study.code
        safety = {r["usubjid"] for r in adsl if r.get("saffl") == "Y"}
        assert len(safety) == report["flow"]["treated"], study.code
        worst = _worst_grades(adae, safety)
        terms = {t["term"]: t for t in report["ae_terms"]}
        assert set(terms) == set(worst), study.code
        for term, by_subject in worst.items():
            grades = list(by_subject.values())
            assert [terms[term][f"g{g}"] for g in range(1, 6)] == [grades.count(g) for g in range(1, 6)], term
        for s in report["survival"]:
            rows = [r for r in adtte if r["paramcd"] == s["endpoint"]]
            evaluable = [r for r in rows if r["evalfl"] == "Y"]
            assert sum(s["n"]) == len(evaluable), (study.code, s["endpoint"])
            assert sum(s["events"]) == sum(1 for r in evaluable if r["cnsr"] == "0"), (study.code, s["endpoint"])
            listed = {n["subject"]: n["reason"] for n in report["not_evaluable"] if n["endpoint"] == s["endpoint"]}
            in_adtte = {r["usubjid"]: r["evalrsn"] for r in rows if r["evalfl"] == "N"}
            assert set(listed) == set(in_adtte), (study.code, s["endpoint"])
            for subject, reason in listed.items():  # ADTTE's reason holds the report's (and e.g. "never randomised")
                assert reason in in_adtte[subject], (subject, reason, in_adtte[subject])
            checked += 1
    assert checked >= 4  # PFS and OS of both studies
