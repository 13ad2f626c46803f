"""Studies from protocol YAML, amendments, screening pages with live eligibility, enrolment, subject
IDs, high-risk derivation, randomisation through the pages, concealed list, dashboard."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from npctrial.errors import ProtocolError, ValidationError
from npctrial.web.core.amendments import approve_amendment, propose_amendment
from npctrial.web.core.enrolment import enrol, format_subject_id
from npctrial.web.core.models import ProtocolVersion, Randomisation, Study, Subject, UnblindingEvent
from npctrial.web.core.protocols import load_bundled_protocol_text
from npctrial.web.core.screening import create_screening
from tests.web.conftest import CCRT_ELIGIBLE, IMRT_ELIGIBLE, login


def _form(values: dict) -> dict:
    return {k: ("true" if v is True else "false" if v is False else v) for k, v in values.items()}


def test_superuser_creates_a_study_from_yaml_and_bad_yaml_gives_a_page_of_errors(client, world):
    from django.contrib.auth import get_user_model

    admin = get_user_model().objects.create_superuser("root", password="x" * 12)
    client.force_login(admin, backend="django.contrib.auth.backends.ModelBackend")
    text = load_bundled_protocol_text("imrt-s1")
    ok = client.post(reverse("study-create"), {"code": "imrt2", "target_enrolment": 30, "protocol_yaml": text})
    assert ok.status_code == 302
    study = Study.objects.get(code="imrt2")
    assert study.current_protocol.protocol_id == "imrt-s1" and study.current_protocol.number == 1
    broken = text.replace("kind: inclusion", "kind: maybe", 1).replace("rule: \"ecog in (0, 1)\"", "rule: \"ecog in\"")
    bad = client.post(reverse("study-create"), {"code": "imrt3", "target_enrolment": 30, "protocol_yaml": broken})
    assert bad.status_code == 400
    page = bad.content.decode()
    assert "The protocol is not valid" in page and "criteria[0].kind" in page and "criteria[1]" in page
    assert not Study.objects.filter(code="imrt3").exists()
    assert client.post(reverse("study-create"), {"code": "x", "target_enrolment": 1,
                                                 "protocol_yaml": "id: [unclosed"}).status_code == 400


def test_site_roles_cannot_create_studies(client, world):
    login(client, "study_admin")
    assert client.get(reverse("study-create")).status_code == 403


def test_amendment_is_a_new_version_and_records_keep_theirs(world):
    study = world.studies["imrt"]
    old_record = world.screenings[("imrt", "A")]
    amended_text = load_bundled_protocol_text("imrt-s1").replace('version: "1.0"', 'version: "1.1"', 1)
    assert amended_text != load_bundled_protocol_text("imrt-s1"), "fixture: version line not found"
    amended_text = amended_text.replace('rule: "hb >= 100"', 'rule: "hb >= 110"')
    v2 = propose_amendment(study, amended_text, user=world.users["study_admin"], reason="Hb threshold raised")
    assert (v2.number, v2.label, v2.status) == (2, "1.1", "proposed")
    assert study.current_protocol.number == 1  # not in force before approval
    approve_amendment(v2, user=world.users["data_manager"])
    study.refresh_from_db()
    assert study.current_protocol == v2
    new_record = create_screening(study, world.sites["A"], {**IMRT_ELIGIBLE, "hb": 105}, world.users["coordinator"])
    assert new_record.protocol_version == v2 and new_record.outcome == "ineligible"
    assert new_record.failed_criteria == ["I5"]
    old_record.refresh_from_db()
    assert old_record.protocol_version.number == 1 and old_record.outcome == "eligible"
    with pytest.raises(ValidationError):
        propose_amendment(study, amended_text, user=world.users["study_admin"], reason="x")  # identical to current
    with pytest.raises(ProtocolError):  # another protocol id
        propose_amendment(study, load_bundled_protocol_text("ccrt-nimotuzumab"), user=world.users["study_admin"],
                          reason="x")
    assert ProtocolVersion.objects.filter(study=study).count() == 2


def test_amendment_page(client, world):
    login(client, "study_admin")
    study = world.studies["imrt"]
    url = reverse("study-amend", kwargs={"study_pk": study.pk})
    bad = client.post(url, {"protocol_yaml": "id: imrt-s1\ntitle: x\n", "reason": "new title"})
    assert bad.status_code == 400 and b"problem" in bad.content
    text = load_bundled_protocol_text("imrt-s1").replace('version: "1.0"', 'version: "2.0"', 1)
    assert client.post(url, {"protocol_yaml": text}).status_code == 400  # a reason is required
    assert client.post(url, {"protocol_yaml": text, "reason": "typo in wording"}).status_code == 302
    assert study.protocol_versions.count() == 2


def test_live_eligibility_partial_shows_each_criterion(client, world):
    login(client, "coordinator")
    study = world.studies["imrt"]
    url = reverse("screening-evaluate", kwargs={"study_pk": study.pk})
    response = client.post(url, {"hb": "99", "ecog": "1"}, HTTP_HX_REQUEST="true")
    page = response.content.decode()
    assert response.status_code == 200
    assert 'data-criterion="I5"' in page and 'data-verdict="not_met"' in page
    assert 'data-verdict="met"' in page  # ecog 1 meets I2
    assert 'data-verdict="missing"' in page  # e.g. platelets not given yet
    assert 'data-outcome="ineligible"' in page
    assert "hb &gt;= 100" in page and "hb=99" in page
    bad = client.post(url, {"hb": "abc"}).content.decode()
    assert "hb must be a number" in bad


def test_screen_eligible_and_ineligible_through_the_pages_then_enrol(client, world):
    login(client, "coordinator")
    study = world.studies["imrt"]
    new_url = reverse("screening-new", kwargs={"study_pk": study.pk})
    page = client.get(new_url).content.decode()
    assert 'name="hb"' in page and "Haemoglobin" in page and "g/L" in page and 'hx-post=' in page
    response = client.post(new_url, {**_form({**IMRT_ELIGIBLE, "platelets": 90}), "site": "GZ"})
    assert response.status_code == 302
    ineligible = study.screenings.order_by("-pk").first()
    assert ineligible.outcome == "ineligible" and ineligible.failed_criteria == ["I6"]
    detail = client.get(response["Location"]).content.decode()
    assert "Record consent and enrol" not in detail and "I6" in detail
    response = client.post(new_url, {**_form(IMRT_ELIGIBLE), "site": "GZ"})
    eligible = study.screenings.order_by("-pk").first()
    assert eligible.outcome == "eligible"
    enrol_url = reverse("screening-enrol", kwargs={"study_pk": study.pk, "pk": eligible.pk})
    response = client.post(enrol_url, {"consent_date": "2026-02-01", "consent_version": "1.0"})
    assert response.status_code == 302
    subject = Subject.objects.get(screening=eligible)
    assert subject.subject_id == "IMRT-GZ-002"  # the protocol pattern IMRT-{site}-{seq:03d}; the world enrolled IMRT-GZ-001
    assert subject.screening.consent.consent_version == "1.0"
    # a coordinator cannot screen at another site by posting its code
    other = client.post(new_url, {**_form(IMRT_ELIGIBLE), "site": "HK"})
    assert other.status_code == 400 and not study.screenings.filter(site__code="HK", screened_by__username="coordinator").exists()


def test_enrolment_rules(world):
    record = world.screenings[("imrt", "A")]
    with pytest.raises(ValidationError) as info:
        enrol(record, consent_date=date(2999, 1, 1), consent_version="1.0", user=None)
    assert info.value.field == "consent_date"
    with pytest.raises(ValidationError) as info:
        enrol(record, consent_date=date(2026, 1, 1), consent_version=" ", user=None)
    assert info.value.field == "consent_version"
    subject = enrol(record, consent_date=date(2026, 1, 1), consent_version="1.0", user=None)
    with pytest.raises(ValidationError):
        enrol(record, consent_date=date(2026, 1, 1), consent_version="1.0", user=None)
    assert subject.seq == 2
    assert format_subject_id("IMRT-{site}-{seq:03d}", site="GZ", seq=7, study="x") == "IMRT-GZ-007"
    assert format_subject_id("{study}-{site}-{seq:03d}", site="GZ", seq=7, study="x") == "x-GZ-007"
    with pytest.raises(ValidationError):
        format_subject_id("NPC-{centre}-{seq}", site="GZ", seq=7, study="x")


@pytest.mark.parametrize(
    ("ebv", "response", "expected"),
    [(1200, "PR", True), (0, "SD", True), (0, "PD", True), (1, "CR", True), (0, "CR", False), (0, "PR", False)],
)
def test_high_risk_is_derived_at_enrolment(world, ebv, response, expected):
    """Nimotuzumab protocol: high risk = EBV DNA > 0 copies/mL or SD/PD after induction."""
    study = world.studies["ccrt"]
    values = {**CCRT_ELIGIBLE, "ebv_dna_post_induction": ebv, "induction_response": response}
    record = create_screening(study, world.sites["A"], values, world.users["coordinator"])
    if not expected:  # not high risk is also not eligible (I3); the derivation still applies
        assert record.outcome == "ineligible" and record.failed_criteria == ["I3"]
        return
    subject = enrol(record, consent_date=date(2026, 1, 1), consent_version="1.0", user=None)
    assert subject.high_risk is True


def test_single_arm_protocol_has_no_randomisation(client, world):
    login(client, "coordinator")
    subject = world.subjects[("imrt", "A")]
    page = client.get(reverse("subject-detail", kwargs={"study_pk": subject.study_id, "pk": subject.pk})).content
    assert b"Randomise" not in page
    response = client.post(f"/api/v1/studies/{subject.study_id}/subjects/{subject.pk}/randomise",
                           content_type="application/json", data={})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "study"


def test_randomise_through_the_page_once_only(client, world):
    study = world.studies["ccrt"]
    record = create_screening(study, world.sites["A"], CCRT_ELIGIBLE, world.users["coordinator"])
    subject = enrol(record, consent_date=date(2026, 1, 1), consent_version="1.0", user=None)
    login(client, "investigator")
    url = reverse("subject-randomise", kwargs={"study_pk": study.pk, "pk": subject.pk})
    page = client.post(url)  # unconfirmed: the confirmation page, nothing allocated
    assert page.status_code == 200 and "cannot be undone" in page.content.decode()
    assert not Randomisation.objects.filter(subject=subject).exists()
    client.post(url, {"confirm": "yes"})
    allocation = Randomisation.objects.get(subject=subject)
    assert allocation.arm in {"CCRT", "CCRT+NIMO"}
    assert allocation.allocated_by.username == "investigator"
    assert allocation.strata == {"induction_response": "PR"}
    assert set(allocation.details["scores"]) == {"CCRT", "CCRT+NIMO"}
    response = client.post(url, {"confirm": "yes"}, follow=True)
    assert b"already randomised" in response.content
    assert Randomisation.objects.filter(subject=subject).count() == 1


def test_concealed_list_needs_a_recorded_reason(client, world):
    study = world.studies["ccrt"]
    login(client, "study_admin")
    url = reverse("allocation-list", kwargs={"study_pk": study.pk})
    form = client.get(url)
    assert form.status_code == 200 and b"CCRT+NIMO" not in form.content and b"CCRT</td>" not in form.content
    assert client.post(url, {"reason": ""}).status_code == 400
    assert UnblindingEvent.objects.count() == 0
    shown = client.post(url, {"reason": "DSMB interim safety review"})
    text = shown.content.decode()
    assert shown.status_code == 200 and "intact" in text
    assert world.subjects[("ccrt", "B")].subject_id in text
    event = UnblindingEvent.objects.get()
    assert event.user.username == "study_admin" and event.reason == "DSMB interim safety review"
    # the seed never appears anywhere
    assert str(study.allocation_sequence.seed) not in text


def test_site_roles_never_see_other_subjects_arms_or_the_seed(client, world):
    login(client, "coordinator")
    study = world.studies["ccrt"]
    b = world.subjects[("ccrt", "B")]
    for url in (reverse("subject-list", kwargs={"study_pk": study.pk}), f"/api/v1/studies/{study.pk}/subjects",
                f"/api/v1/studies/{study.pk}"):
        body = client.get(url).content.decode()
        assert b.subject_id not in body and str(study.allocation_sequence.seed) not in body


def test_dashboard_counts(client, world):
    study = world.studies["imrt"]
    create_screening(study, world.sites["A"], {**IMRT_ELIGIBLE, "hb": 90}, world.users["coordinator"])
    create_screening(study, world.sites["A"], {**IMRT_ELIGIBLE, "hb": 90, "ecog": 3}, world.users["coordinator"])
    login(client, "monitor")
    dash = client.get(f"/api/v1/studies/{study.pk}/dashboard").json()
    assert dash["screened"] == 6 and dash["eligible"] == 4 and dash["enrolled"] == 2
    assert dash["open_queries"] == 2 and dash["target"] == 40
    assert {f["criterion"]: f["count"] for f in dash["failures_by_criterion"]} == {"I5": 2, "I2": 1}
    assert [(s["site"], s["screened"], s["enrolled"]) for s in dash["by_site"]] == [("GZ", 4, 1), ("HK", 2, 1)]
    assert dash["enrolment_by_month"][-1]["cumulative"] == 2
    page = client.get(reverse("study-dashboard", kwargs={"study_pk": study.pk})).content.decode()
    assert "<svg" in page and "target 40" in page


def test_screening_log_per_site(client, world):
    login(client, "monitor")
    study = world.studies["imrt"]
    url = reverse("screening-log", kwargs={"study_pk": study.pk})
    both = client.get(url).content.decode()
    assert "S-GZ-0001" in both and "S-HK-0001" in both
    only_hk = client.get(url, {"site": "HK"}).content.decode()
    assert "S-HK-0001" in only_hk and "S-GZ-0001" not in only_hk
    failures = client.get(url, {"outcome": "ineligible"}).content.decode()
    assert "S-GZ-0001" not in failures


def test_enrolment_series_has_every_month_and_is_cumulative(world):
    from datetime import UTC, datetime

    from npctrial.web.core.dashboard import compute_dashboard

    study = world.studies["imrt"]
    a, b = (world.subjects[("imrt", s)] for s in ("A", "B"))
    # by the entered enrolment date, not by the moment the enrolment was recorded
    Subject.objects.filter(pk=a.pk).update(enrolment_date=date(2025, 11, 15), enrolled_at=datetime(2026, 3, 1, tzinfo=UTC))
    Subject.objects.filter(pk=b.pk).update(enrolment_date=date(2026, 2, 3), enrolled_at=datetime(2026, 3, 1, tzinfo=UTC))
    series = compute_dashboard(world.users["monitor"], study).enrolment_by_month
    assert [(p["month"], p["enrolled"], p["cumulative"]) for p in series] == [
        ("2025-11", 1, 1), ("2025-12", 0, 1), ("2026-01", 0, 1), ("2026-02", 1, 2)]


def test_the_problems_of_a_refused_protocol_read_in_the_admins_language(client, world):
    from django.contrib.auth import get_user_model

    admin = get_user_model().objects.create_superuser("root_zh", password="x" * 12)
    client.force_login(admin, backend="django.contrib.auth.backends.ModelBackend")
    broken = load_bundled_protocol_text("imrt-s1").replace('rule: "ecog in (0, 1)"', 'rule: "ecog in"')
    form = {"code": "imrt4", "target_enrolment": 30, "protocol_yaml": broken}
    zh = client.post(reverse("study-create"), form, HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert "criteria[1].rule：规则 &#x27;ecog in&#x27; 不是有效的表达式" in zh
    en = client.post(reverse("study-create"), form, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "criteria[1].rule: rule &#x27;ecog in&#x27; is not a valid expression" in en
