"""Amendment change control: proposal, diff and impact, approval by someone else, randomisation rule.

Found problem: after 11 allocations, an amendment changing minimisation 1:1 to permuted blocks 2:1
was saved as v1.1 without a word while allocation #12 still used the old method. Now such an
amendment is refused unless it records the decision to start a new sequence at the next
allocation number, and nothing is in force before a second person approves it.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
import yaml
from django.test import Client

from npctrial.web.core.allocation import randomise, verify_sequence
from npctrial.web.core.amendments import approve_amendment, propose_amendment
from npctrial.web.core.enrolment import enrol
from npctrial.web.core.models import AllocationSegment, ProtocolVersion, Randomisation
from npctrial.web.core.models_audit import AuditEvent
from npctrial.web.core.protocols import load_bundled_protocol_text
from npctrial.web.core.screening import create_screening
from tests.web.conftest import CCRT_ELIGIBLE, login


def _ccrt_blocks_2_to_1() -> str:
    data = yaml.safe_load(load_bundled_protocol_text("ccrt-nimotuzumab"))
    data["version"] = "1.1"
    data["randomisation"].update({"method": "permuted_block", "ratio": [2, 1], "block_sizes": [3]})
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def _imrt_amended(hb: int = 140) -> str:
    text = load_bundled_protocol_text("imrt-s1").replace('version: "1.0"', 'version: "1.1"', 1)
    return text.replace('rule: "hb >= 100"', f'rule: "hb >= {hb}"')


def _allocate(world, n: int) -> list[Randomisation]:
    study, site, actor = world.studies["ccrt"], world.sites["A"], world.users["coordinator"]
    out = []
    for k in range(n):
        record = create_screening(study, site, {**CCRT_ELIGIBLE, "induction_response": ("PR", "SD")[k % 2]}, actor)
        subject = enrol(record, consent_date=date(2026, 1, 5), consent_version="1.0", user=actor)
        out.append(randomise(subject, actor))
    return out


def _sequence(study):
    from npctrial.web.core.models import AllocationSequence

    return AllocationSequence.objects.get(study=study)


def _post(client, url, body):
    return client.post(url, body, content_type="application/json")


def _api(study, tail=""):
    return f"/api/v1/studies/{study.pk}/amendments{tail}"


def test_randomisation_change_after_allocation_is_refused_without_an_explicit_new_sequence(world):
    ccrt = world.studies["ccrt"]
    _allocate(world, 9)
    assert _sequence(ccrt).count == 11
    admin = login(Client(), "study_admin")
    body = {"protocol_yaml": _ccrt_blocks_2_to_1(), "reason": "block randomisation 2:1 per DSMB"}
    refused = _post(admin, _api(ccrt), body)
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "randomisation"
    assert "11 allocations" in refused.json()["detail"] and "12" in refused.json()["detail"]
    wrong = _post(admin, _api(ccrt), {**body, "restart_from": 5, "restart_reason": "x"})
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "restart_from"
    silent = _post(admin, _api(ccrt), {**body, "restart_from": 12})
    assert silent.status_code == 422 and silent.json()["errors"][0]["field"] == "restart_reason"
    assert ccrt.protocol_versions.count() == 1


def test_new_sequence_starts_at_the_stated_number_after_approval_by_someone_else(world):
    ccrt = world.studies["ccrt"]
    _allocate(world, 9)
    admin = login(Client(), "study_admin")
    body = {"protocol_yaml": _ccrt_blocks_2_to_1(), "reason": "block randomisation 2:1", "restart_from": 12,
            "restart_reason": "DSMB recommendation of 2026-03-01"}
    proposed = _post(admin, _api(ccrt), body)
    assert proposed.status_code == 201 and proposed.json()["status"] == "proposed"
    assert _post(admin, _api(ccrt), {**body, "reason": "again"}).status_code == 422  # one proposal at a time
    assert ccrt.current_protocol.label == "1.0"
    # allocation #12 happens before the approval: still the version in force (minimisation)
    (twelfth,) = _allocate(world, 1)
    assert twelfth.number == 12 and twelfth.details["method"] == "minimisation"
    dm = login(Client(), "data_manager")
    late = _post(dm, _api(ccrt, f"/{proposed.json()['id']}/approve"), {"note": "ok"})
    assert late.status_code == 422 and "13" in late.json()["detail"]  # the decision stated 12
    assert _post(dm, _api(ccrt, f"/{proposed.json()['id']}/reject"), {"note": ""}).status_code == 422
    assert _post(dm, _api(ccrt, f"/{proposed.json()['id']}/reject"), {"note": "restart number stale"}).json()[
        "status"] == "rejected"
    again = _post(admin, _api(ccrt), {**body, "restart_from": 13})
    assert again.status_code == 201 and again.json()["number"] == 3
    own = _post(admin, _api(ccrt, f"/{again.json()['id']}/approve"), {"note": ""})
    assert own.status_code == 403  # never the proposer
    coordinator = login(Client(), "coordinator")
    assert _post(coordinator, _api(ccrt, f"/{again.json()['id']}/approve"), {}).status_code == 403
    approved = _post(dm, _api(ccrt, f"/{again.json()['id']}/approve"), {"note": "checked against the DSMB letter"})
    assert approved.status_code == 200 and approved.json()["in_force"] is True
    ccrt.refresh_from_db()
    assert ccrt.current_protocol.label == "1.1"
    segment = AllocationSegment.objects.get(sequence__study=ccrt, number=2)
    assert (segment.start_number, segment.method, segment.config["ratio"]) == (13, "permuted_block", [2, 1])
    after = _allocate(world, 6)
    assert [r.number for r in after] == list(range(13, 19))
    assert {r.details["method"] for r in after} == {"permuted_block"} and {r.details["segment"] for r in after} == {2}
    arms = [r.arm for r in after]
    assert arms.count("CCRT") == 4 and arms.count("CCRT+NIMO") == 2  # one 2:1 block of 3 in each stratum (PR, SD)
    check = verify_sequence(_sequence(ccrt))
    assert check.intact and check.count == 18, check.problems
    actions = list(AuditEvent.objects.filter(study=ccrt, action__in=[
        "amendment", "amendment_rejected", "amendment_approved", "sequence_restarted"]).order_by("at", "pk")
        .values_list("action", flat=True))
    assert actions == ["amendment", "amendment_rejected", "amendment", "amendment_approved", "sequence_restarted"]


def test_a_tampered_segment_breaks_the_sequence_check(world):
    ccrt = world.studies["ccrt"]
    version = propose_amendment(ccrt, _ccrt_blocks_2_to_1(), user=world.users["study_admin"], reason="2:1",
                                restart_from=3, restart_reason="DSMB")
    approve_amendment(version, user=world.users["data_manager"])
    _allocate(world, 3)
    assert verify_sequence(_sequence(ccrt)).intact
    AllocationSegment.objects.filter(sequence__study=ccrt, number=2).update(config={
        **AllocationSegment.objects.get(sequence__study=ccrt, number=2).config, "ratio": [1, 1]})
    check = verify_sequence(_sequence(ccrt))
    assert not check.intact and any("segment 2" in p for p in check.problems)


def test_removing_randomisation_after_allocation_is_refused(world):
    data = yaml.safe_load(load_bundled_protocol_text("ccrt-nimotuzumab"))
    data["version"] = "2.0"
    del data["randomisation"]
    data["endpoints"] = [e for e in data.get("endpoints", []) if e.get("origin") != "randomisation"]
    admin = login(Client(), "study_admin")
    response = _post(admin, _api(world.studies["ccrt"]), {"protocol_yaml": yaml.safe_dump(data), "reason": "x",
                                                          "restart_from": 3, "restart_reason": "x"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] in ("randomisation", "protocol", "protocol_yaml")


def test_review_shows_the_diff_and_the_impact_of_an_amendment(world):
    imrt = world.studies["imrt"]
    text = _imrt_amended(hb=140).replace("max: 5", "max: 4", 1)
    admin = login(Client(), "study_admin")
    proposed = _post(admin, _api(imrt), {"protocol_yaml": text, "reason": "Hb >= 140 g/L"})
    assert proposed.status_code == 201
    review = login(Client(), "data_manager").get(_api(imrt, f"/{proposed.json()['id']}")).json()
    assert review["previous_version"] == "1.0"
    i5 = next(c for c in review["criteria"] if c["id"] == "I5")
    assert (i5["change"], i5["old_rule"], i5["new_rule"]) == ("changed", "hb >= 100", "hb >= 140")
    assert [c["id"] for c in review["criteria"]] == ["I5"]
    assert review["randomisation_changed"] is False
    assert review["subjects_by_version"] == {"1.0": 2} and review["screenings_by_version"] == {"1.0": 4}
    # the four stored screenings have Hb 132 g/L: eligible now, ineligible under Hb >= 140
    assert review["outcome_changes"] == {"eligible -> ineligible": 4}
    assert any(line.startswith("+") and "hb >= 140" in line for line in review["text_diff"])
    assert login(Client(), "monitor").get(_api(imrt, f"/{proposed.json()['id']}")).status_code == 403
    assert login(Client(), "outsider").get(_api(imrt, f"/{proposed.json()['id']}")).status_code == 404


def test_a_randomisation_change_before_the_first_allocation_needs_no_decision(world, db):
    from npctrial.web.core.studies import create_study

    fresh = create_study(code="ccrt-new", yaml_text=load_bundled_protocol_text("ccrt-nimotuzumab"),
                         sites=[world.sites["A"]])
    from npctrial.web.core.models import Membership

    Membership.objects.create(user=world.users["study_admin"], study=fresh, role="study_admin")
    Membership.objects.create(user=world.users["data_manager"], study=fresh, role="data_manager")
    version = propose_amendment(fresh, _ccrt_blocks_2_to_1(), user=world.users["study_admin"], reason="before start")
    approve_amendment(version, user=world.users["data_manager"])
    fresh.refresh_from_db()
    assert _sequence(fresh).method == "permuted_block" and _sequence(fresh).config["ratio"] == [2, 1]
    assert verify_sequence(_sequence(fresh)).intact


def test_amendment_pages_propose_review_and_approve(world):
    imrt = world.studies["imrt"]
    admin = login(Client(), "study_admin")
    page = admin.post(f"/studies/{imrt.pk}/amend/", {"protocol_yaml": _imrt_amended(110), "reason": "Hb 110"})
    assert page.status_code == 302
    version = ProtocolVersion.objects.get(study=imrt, number=2)
    assert page["Location"] == f"/studies/{imrt.pk}/amendments/{version.pk}/"
    detail = admin.get(page["Location"]).content.decode()
    assert 'data-criterion="I5"' in detail and "hb &gt;= 110" in detail
    assert 'id="decision-form"' not in detail and 'id="awaiting"' in detail  # the proposer cannot decide
    investigator = login(Client(), "investigator")
    detail = investigator.get(page["Location"]).content.decode()
    assert 'id="decision-form"' in detail
    done = investigator.post(f"/studies/{imrt.pk}/amendments/{version.pk}/decide/", {"action": "approve",
                                                                                     "note": "PI approval"})
    assert done.status_code == 302
    version.refresh_from_db()
    assert version.status == "approved" and version.decided_by == world.users["investigator"]
    listing = admin.get(f"/studies/{imrt.pk}/amend/").content.decode()
    assert re.search(r'data-version="2".*in force', listing, re.S)


@pytest.mark.parametrize("user", ["coordinator", "monitor"])
def test_roles_without_manage_cannot_propose(world, user):
    response = _post(login(Client(), user), _api(world.studies["imrt"]), {"protocol_yaml": _imrt_amended(),
                                                                          "reason": "x"})
    assert response.status_code == 403


def test_amendment_routes_never_answer_500(client, world):
    from tests.web.api_fuzz import fuzz_operations

    login(client, "study_admin")
    schema = client.get("/api/v1/openapi.json").json()
    operations = [(m, p) for p, item in schema["paths"].items() for m, op in item.items()
                  if "amendments" in op.get("tags", [])]
    assert len(operations) == 5
    sent = sum(fuzz_operations(login(client, u), schema, operations, examples=15) for u in ("study_admin",
                                                                                            "data_manager"))
    assert sent == 2 * 5 * 15
