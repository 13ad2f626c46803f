"""Domain-driven CRF cases end to end through the pages (expected values from the published rules).

- S-1 bands, seed protocol 000: "BSA<1.25m2, 30mg; BSA: 1.25-1.5m2, 40mg; BSA>1.5m2, 50mg".
- CTCAE v4.03: platelet count decreased grade 3 "<50,000 - 25,000/mm3"; neutrophils grade 3
  "<1000 - 500/mm3"; anemia grade 3 "Hgb <8.0 g/dL"; ALT grade 3 ">5.0 - 20.0 x ULN".
- RECIST 1.1: PR = >= 30% decrease of the target sum from baseline; PD = >= 20% and >= 5 mm
  increase over the nadir.
- RTOG/EORTC late morbidity: beyond 90 days after the end of radiotherapy (protocol: "beyond three
  months").
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from npctrial.web.clinical.models import (
    AdverseEvent,
    Baseline,
    DrugAdministration,
    LabResult,
    RadiotherapyCourse,
    RtogScore,
    TumourAssessment,
)
from tests.web.clinical.conftest import RT, post_crf, save, url

BASE = {"assessment_date": "2026-01-06", "tnm_edition": "8", "t_category": "T3", "n_category": "N1",
        "m_category": "M0", "ecog": "1", "kps": "90", "ebv_dna": "1200", "hb": "132", "platelets": "220",
        "carry_reason": "measured again at baseline"}  # values differ from the world's screening


def _bsa_for(bsa: float, height: float = 150.0) -> float:
    """Weight giving exactly ``bsa`` by Mosteller at ``height`` (sqrt(h w / 3600))."""
    return bsa * bsa * 3600 / height


@pytest.mark.parametrize(("height", "weight", "bsa", "mg"), [
    (150, 37.5, 1.25, 40),                       # exactly 1.25 m2 -> the 1.25-1.5 band
    (150, _bsa_for(1.24), 1.24, 30),             # below 1.25
    (150, _bsa_for(1.50), 1.50, 40),             # 1.5 included in "1.25-1.5m2"
    (170, _bsa_for(1.51, 170), 1.51, 50),        # above 1.5
])
def test_baseline_bsa_and_s1_band(coordinator, world, height, weight, bsa, mg):
    r = post_crf(coordinator, world, "baseline", {**BASE, "height_cm": height, "weight_kg": f"{weight:.6f}"})
    assert r.status_code == 302, r.content.decode()[:2000]
    b = Baseline.objects.get(subject=world.subjects[("imrt", "A")])
    assert b.bsa_m2 == pytest.approx(bsa, abs=1e-9)
    assert b.s1_mg_per_dose == mg and b.s1_doses_per_day == 2
    assert "Mosteller" in b.bsa_rule and f"{mg} mg" in b.dose_rule
    assert b.stage_group == "III"  # AJCC 8th T3 N1 M0
    page = coordinator.get(url("casebook", world))
    assert f"{mg}" in page.content.decode() and "Mosteller" in page.content.decode()


def test_stage_group_follows_edition(coordinator, world):
    # T4 N1 M0: stage IVA in both editions; T1 N3 M0: 7th IVB (N3), 8th IVA.
    post_crf(coordinator, world, "baseline", {**BASE, "height_cm": 170, "weight_kg": 60, "tnm_edition": "7",
                                              "t_category": "T1", "n_category": "N3"})
    assert Baseline.objects.get().stage_group == "IVB"


@pytest.mark.parametrize(("term", "value", "unit", "extra", "grade"), [
    ("platelet_count_decreased", "40", "10^9/L", {"lln": "100", "lln_unit": "10^9/L"}, 3),
    ("platelet_count_decreased", "50", "10^9/L", {"lln": "100", "lln_unit": "10^9/L"}, 2),   # 50 is not < 50
    ("neutrophil_count_decreased", "0.8", "10^9/L", {"lln": "2", "lln_unit": "10^9/L"}, 3),
    ("anemia", "75", "g/L", {"lln": "120", "lln_unit": "g/L"}, 3),
    ("alanine_aminotransferase_increased", "210", "U/L", {"uln": "40", "uln_unit": "U/L"}, 3),  # 5.25 x ULN
])
def test_lab_value_gets_suggested_grade(coordinator, world, term, value, unit, extra, grade):
    data = {"week": "2", "sample_date": "2026-01-20", "term": term, "value": value, "unit": unit, **extra}
    hx = coordinator.post(url("lab-grade", world), data)
    assert f'data-grade="{grade}"' in hx.content.decode()
    r = post_crf(coordinator, world, "lab", data)
    assert r.status_code == 302, r.content.decode()[:1500]
    lab = LabResult.objects.get()
    assert (lab.suggested_grade, lab.grade) == (grade, grade)


def test_lab_override_requires_reason(coordinator, world):
    data = {"week": "2", "sample_date": "2026-01-20", "term": "platelet_count_decreased", "value": "40",
            "unit": "10^9/L", "lln": "100", "lln_unit": "10^9/L", "grade": "2"}
    r = post_crf(coordinator, world, "lab", data)
    assert r.status_code == 200 and "override_reason" in r.content.decode()
    assert not LabResult.objects.exists()
    r = post_crf(coordinator, world, "lab", {**data, "override_reason": "platelet clumping on smear"})
    assert r.status_code == 302
    lab = LabResult.objects.get()
    assert (lab.suggested_grade, lab.grade) == (3, 2)


def _lesions(l1, l2, new="no", date_="2026-01-05"):
    return {"assessment_date": date_, "non_target": "", "new_lesions": new,
            "lesions-TOTAL_FORMS": "5", "lesions-INITIAL_FORMS": "0",
            "lesions-0-lesion_id": "L1", "lesions-0-location": "nasopharynx", "lesions-0-target": "on",
            "lesions-0-diameter_mm": l1,
            "lesions-1-lesion_id": "N1", "lesions-1-location": "right level II node", "lesions-1-target": "on",
            "lesions-1-nodal": "on", "lesions-1-diameter_mm": l2}


def test_recist_sequence_pr_then_pd(coordinator, world):
    for data in (_lesions("50", "30"), _lesions("30", "20", date_="2026-03-30"), _lesions("40", "25", date_="2026-06-30")):
        r = post_crf(coordinator, world, "assessment", data)
        assert r.status_code == 302, r.content.decode()[:2000]
    a0, a1, a2 = TumourAssessment.objects.order_by("assessment_date")
    assert a0.target_sum_mm == 80 and a0.overall_response == ""
    assert a1.target_sum_mm == 50 and a1.change_from_baseline_pct == pytest.approx(-37.5)
    assert (a1.target_response, a1.overall_response) == ("PR", "PR")
    assert a2.change_from_nadir_pct == pytest.approx(30.0)  # 65 vs nadir 50
    assert (a2.target_response, a2.overall_response) == ("PD", "PD")
    page = coordinator.get(url("casebook", world)).content.decode()
    assert 'id="bor">PR<' in page


def test_new_lesion_is_pd_and_equivocal_is_not(coordinator, world):
    post_crf(coordinator, world, "assessment", _lesions("50", "30"))
    post_crf(coordinator, world, "assessment", _lesions("48", "30", new="equivocal", date_="2026-03-01"))
    post_crf(coordinator, world, "assessment", _lesions("48", "30", new="yes", date_="2026-04-01"))
    _, a1, a2 = TumourAssessment.objects.order_by("assessment_date")
    assert a1.overall_response == "SD" and a2.overall_response == "PD"


def test_rt_bed_eqd2(coordinator, world):
    r = post_crf(coordinator, world, "radiotherapy", {k: str(v) for k, v in RT.items()})
    assert r.status_code == 302
    rt = RadiotherapyCourse.objects.get()
    d = 70 / 33  # BED = n d (1 + d / (a/b)); EQD2 = BED / (1 + 2 / (a/b))
    assert rt.bed_gy10 == pytest.approx(70 * (1 + d / 10), rel=1e-12)
    assert rt.eqd2_gy10 == pytest.approx(70 * (1 + d / 10) / 1.2, rel=1e-12)
    assert rt.bed_gy3 == pytest.approx(70 * (1 + d / 3), rel=1e-12)


def test_dose_change_without_reason_is_refused(coordinator, world):
    base = {"drug": "S-1", "date": "2026-01-19", "planned_dose_mg": "40", "doses_planned": "14", "doses_taken": "12"}
    r = post_crf(coordinator, world, "drug", {**base, "dose_mg": "30"})
    assert r.status_code == 200 and "no dose modification" in r.content.decode()  # the protocol's rule, quoted
    assert not DrugAdministration.objects.exists()
    r = post_crf(coordinator, world, "drug", {**base, "dose_mg": "30", "deviation_reason": "grade4_toxicity"})
    assert r.status_code == 302
    d = DrugAdministration.objects.get()
    assert d.deviation and d.adherence_pct == pytest.approx(100 * 12 / 14)
    r = post_crf(coordinator, world, "drug", {**base, "dose_mg": "40"})
    assert not DrugAdministration.objects.order_by("pk").last().deviation


def test_serious_ae_has_24h_deadline(coordinator, world):
    r = post_crf(coordinator, world, "ae", {"week": "3", "term": "mucositis_oral", "grade": "3",
                                            "attribution": "probable", "serious": "on", "start_date": "2026-01-26",
                                            "aware_at": "2026-01-27T08:30"})
    assert r.status_code == 302, r.content.decode()[:1500]
    ae = AdverseEvent.objects.get()
    assert ae.sae_report_due - ae.aware_at == timedelta(hours=24)
    assert "report due" in coordinator.get(url("casebook", world)).content.decode()
    AdverseEvent.objects.filter(pk=ae.pk).update(sae_reported_at=ae.aware_at + timedelta(hours=20))
    assert "report due" not in coordinator.get(url("casebook", world)).content.decode()  # reported: no banner


def test_ae_grade_zero_refused(coordinator, world):
    r = post_crf(coordinator, world, "ae", {"term": "mucositis_oral", "grade": "0", "attribution": "possible",
                                            "start_date": "2026-01-26"})
    assert r.status_code == 200 and not AdverseEvent.objects.exists()


@pytest.mark.parametrize(("days", "ok"), [(90, False), (91, True)])
def test_late_rtog_only_beyond_90_days(coordinator, world, days, ok):
    save("radiotherapy", world, dict(RT))
    when = RT["end_date"] + timedelta(days=days)
    r = post_crf(coordinator, world, "rtog", {"assessment_date": when.isoformat(), "scale": "late",
                                              "organ": "salivary_glands", "grade": "1"})
    assert RtogScore.objects.exists() is ok
    if not ok:
        assert "90 days" in r.content.decode()


def test_follow_up_calendar_and_overdue(coordinator, world):
    # end of RT 2025-01-01: first 3-monthly visit due ~2025-04-02 (+/-14 days) is long overdue
    save("radiotherapy", world, {**RT, "start_date": date(2024, 11, 15), "end_date": date(2025, 1, 1)})
    save("followup", world, {"visit_date": date(2025, 7, 1), "status": "alive_ned"})  # M6 window
    home = coordinator.get(url("clinical-home", world)).content.decode()
    overdue = home.split('id="overdue"')[1].split("</table>")[0]
    assert "M3" in overdue and "M6<" not in overdue
    cal = coordinator.get(url("casebook", world)).content.decode()
    assert "cal-done" in cal and "cal-overdue" in cal


def test_edit_needs_reason_and_version_conflict(coordinator, world):
    b = save("baseline", world, {"assessment_date": date(2026, 1, 6), "height_cm": 170, "weight_kg": 60,
                                 "t_category": "T3", "n_category": "N1", "m_category": "M0"})
    data = {**BASE, "height_cm": "170", "weight_kg": "64", "version": str(b.version)}
    r = post_crf(coordinator, world, "baseline", data, record_pk=b.pk)
    assert r.status_code == 200 and Baseline.objects.get().weight_kg == 60  # no reason
    r = post_crf(coordinator, world, "baseline", {**data, "reason": "weighed again"}, record_pk=b.pk)
    assert r.status_code == 302
    b2 = Baseline.objects.get()
    assert b2.weight_kg == 64 and b2.bsa_m2 == pytest.approx(round((170 * 64 / 3600) ** 0.5, 2))
    stale = post_crf(coordinator, world, "baseline", {**data, "weight_kg": "65", "reason": "x"}, record_pk=b.pk)
    assert stale.status_code == 200 and 'id="conflict"' in stale.content.decode()
    assert Baseline.objects.get().weight_kg == 64
    hist = coordinator.get(f"/studies/{world.studies['imrt'].pk}/subjects/{world.subjects[('imrt', 'A')].pk}/history/")
    assert "weighed again" in hist.content.decode()
