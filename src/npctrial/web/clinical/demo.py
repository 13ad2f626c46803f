"""Demo CRF data (synthetic) for every enrolled demo subject, at every stage of the workflow.

Subjects get, by position: baseline only; radiotherapy under way with weekly toxicity; completed
chemoradiotherapy with labs, AEs (one serious), RTOG, RECIST assessments; follow-up visits (some
missed, so the overdue list is populated); relapses, a death; one signed and locked casebook.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from django.utils import timezone

from npctrial.web.clinical.crfs import save_crf
from npctrial.web.clinical.lab_ranges import add_range
from npctrial.web.clinical.locks import lock, sign_casebook
from npctrial.web.core.models import Study, Subject
from npctrial.web.demo import coordinator_of


def _save(form: str, subject: Subject, values: dict[str, Any], user: Any, **kw: Any) -> Any:
    return save_crf(form, subject, values, user, **kw)[0]


#: synthetic laboratory reference ranges (analyte, unit, LLN, ULN): the first demo site reports in SI
#: units, the others bilirubin and creatinine in mg/dL and haemoglobin in g/dL (the panel converts)
DEMO_RANGES_SI = (("wbc", "10^9/L", 3.5, 9.5), ("neutrophils", "10^9/L", 1.8, 6.3), ("lymphocytes", "10^9/L", 1.1, 3.2),
                  ("hemoglobin", "g/L", 130, 175), ("platelets", "10^9/L", 125, 350), ("alt", "U/L", None, 40),
                  ("ast", "U/L", None, 35), ("bilirubin", "umol/L", None, 21), ("albumin", "g/L", 40, 55),
                  ("creatinine", "umol/L", 57, 111), ("sodium", "mmol/L", 137, 147), ("potassium", "mmol/L", 3.5, 5.3),
                  ("magnesium", "mmol/L", 0.75, 1.02))
DEMO_RANGES_CONVENTIONAL = {"hemoglobin": ("g/dL", 13.0, 17.5), "bilirubin": ("mg/dL", None, 1.2),
                            "creatinine": ("mg/dL", 0.6, 1.3)}


def load_demo_ranges(study: Study, user: Any, today: Any) -> None:
    """Every demo site's ranges from a year ago; the first site's ALT ULN recalibrated 30 days ago (a new version)."""
    for k, link in enumerate(study.study_sites.select_related("site").order_by("site__code")):
        for analyte, unit, lln, uln in DEMO_RANGES_SI:
            if k > 0 and analyte in DEMO_RANGES_CONVENTIONAL:
                unit, lln, uln = DEMO_RANGES_CONVENTIONAL[analyte]
            add_range(study, link.site.code, analyte=analyte, unit=unit, lln=lln, uln=uln,
                      effective_from=today - timedelta(days=365), note="demo laboratory reference ranges", user=user)
        if k == 0:
            add_range(study, link.site.code, analyte="alt", unit="U/L", lln=None, uln=50,
                      effective_from=today - timedelta(days=30), note="demo: analyser changed, new ULN", user=user)


def _nutrition(s: Subject, week: int, day: Any, weight: float, k: int, user: Any) -> None:
    """A weekly weight-and-nutrition record (the protocol-declared form of imrt-s1; none elsewhere):
    weight falling during CCRT, a nasogastric tube from week 3 for every third subject."""
    from npctrial.web.clinical.declared import declared_spec, save_declared

    if declared_spec(s.protocol_version, "nutrition") is None:
        return
    tube = week == 3 and k % 3 == 1
    save_declared("nutrition", s, {
        "assessment_date": day.isoformat(), "weight_kg": str(round(weight * (1 - 0.02 * week), 1)),
        "oral_intake": ("usual", "reduced", "half_or_less")[week - 1], "supplements": "yes" if week > 1 else "no",
        "feeding_tube": "yes" if tube else "no", **({"tube_type": "nasogastric", "tube_date": day.isoformat()}
                                                    if tube else {})}, user)


def load_clinical_demo(study: Study, users: dict[str, Any], rng: random.Random, password: str | None = None) -> None:
    today = timezone.localdate()
    load_demo_ranges(study, users["data_manager"], today)
    subjects = list(Subject.objects.filter(study=study).select_related("screening", "site")
                    .order_by("enrolment_date", "enrolled_at"))
    for k, s in enumerate(subjects):
        coordinator = users[coordinator_of(s.site.code)]
        enrolled = s.enrolment_date
        v = s.screening.values
        stage = k % 6
        baseline = _save("baseline", s, {
            "assessment_date": enrolled, "height_cm": v.get("height_cm", 165), "weight_kg": v.get("weight_kg", 60),
            "t_category": v.get("t_category", "T3"), "n_category": v.get("n_category", "N2"),
            "m_category": "M0", "ecog": v.get("ecog", 1), "kps": 90, "ebv_dna": v.get("ebv_dna_post_induction", 800),
            "hb": v.get("hb", 130), "platelets": v.get("platelets", 220), "wbc": v.get("wbc", 6.0)}, coordinator)
        start = enrolled + timedelta(days=7)
        if stage == 0 or start > today:  # enrolled in the last week (large demos): radiotherapy not started
            continue
        end = start + timedelta(days=45)
        done = end <= today and stage != 1
        _save("radiotherapy", s, {"technique": "IMRT", "total_dose_gy": 70.0, "fractions": 33, "start_date": start,
                                       "end_date": end if done else None, "delivered_fractions": 33 if done else None},
                   coordinator)
        s1 = "S-1" if study.code == "imrt-s1" else "cisplatin"
        # the protocol's band dose for the baseline BSA (S-1); cisplatin has no table in the protocol
        planned = float(baseline.s1_mg_per_dose) if s1 == "S-1" else 160.0
        _save("drug", s, {"drug": s1, "date": start, "planned_dose_mg": planned, "dose_mg": planned,
                          "doses_planned": 14 if s1 == "S-1" else None, "doses_taken": 13 if s1 == "S-1" else None},
              coordinator)
        arm = getattr(getattr(s, "randomisation", None), "arm", None)
        if arm == "CCRT+NIMO":  # the experimental arm only, from the first day of CCRT
            _save("drug", s, {"drug": "nimotuzumab", "date": start, "planned_dose_mg": 200.0, "dose_mg": 200.0},
                  coordinator)
        if stage == 5 and start + timedelta(days=21) <= today:
            _save("drug", s, {"drug": s1, "date": start + timedelta(days=21), "planned_dose_mg": planned,
                              "dose_mg": planned * 0.75, "deviation_reason": "grade4_toxicity"}, coordinator)
        weeks = 7 if done else max(1, min(7, (today - start).days // 7))
        for w in range(1, weeks + 1):
            day = start + timedelta(days=7 * (w - 1) + 3)
            if day > today:
                break
            plt = rng.choice([210, 160, 120, 90, 60, 40]) if w > 2 else 200
            _save("lab", s, {"week": w, "sample_date": day, "term": "platelet_count_decreased", "value": plt,
                             "unit": "10^9/L", "lln": 150, "lln_unit": "10^9/L", "grade": None}, coordinator)
            if w <= 3:
                _nutrition(s, w, day, float(baseline.weight_kg), k, coordinator)
            if w in (3, 5):
                grade = rng.choice([1, 2, 2, 3])
                _save("ae", s, {"week": w, "term": "mucositis_oral", "grade": grade, "attribution": "probable",
                                "serious": grade == 3 and k % 4 == 0, "start_date": day,
                                "aware_at": timezone.now() - timedelta(hours=30) if grade == 3 and k % 4 == 0 else None}, coordinator)
                _save("rtog", s, {"assessment_date": day, "scale": "acute", "organ": "mucous_membrane",
                                  "grade": min(grade, 4)}, coordinator)
        if not done:
            continue
        base: list[dict[str, Any]] = [{"lesion_id": "T1", "location": "nasopharynx", "target": True, "nodal": False, "diameter_mm": 42},
                {"lesion_id": "N1", "location": "left level II node", "target": True, "nodal": True, "diameter_mm": 24}]
        _save("assessment", s, {"assessment_date": enrolled - timedelta(days=2), "new_lesions": "no"}, coordinator,
              lesions=base)
        post = end + timedelta(days=28)
        if post > today:
            continue
        shrink = rng.choice([0.0, 0.4, 0.6, 0.9])
        _save("assessment", s, {"assessment_date": post, "new_lesions": "no"}, coordinator,
              lesions=[{**b, "diameter_mm": round(b["diameter_mm"] * shrink) if not b["nodal"]
                        else (8 if shrink == 0 else round(b["diameter_mm"] * shrink))} for b in base])
        metastasis = end + timedelta(days=85) if stage == 4 and (today - end).days > 90 else None
        relapse = end + timedelta(days=80) if stage == 3 and k % 2 == 1 and end + timedelta(days=80) <= today else None
        death = min(today, end + timedelta(days=150)) if metastasis is not None and k % 2 == 0 else None
        month = 1
        while True:  # visits stop at death; after a relapse or metastasis the patient is alive with disease
            visit = end + timedelta(days=round(3 * month * 30.4375))
            if visit > today or (death is not None and visit >= death):
                break
            if k % 4 != 2:  # some subjects miss their visits -> overdue list
                failed = any(d is not None and d <= visit for d in (metastasis, relapse))
                _save("followup", s, {"visit_date": visit, "status": "alive_disease" if failed else "alive_ned"},
                      coordinator)
            month += 1
        if (today - end).days > 100:
            _save("rtog", s, {"assessment_date": end + timedelta(days=100), "scale": "late", "organ": "salivary_glands",
                              "grade": 1}, coordinator)
        if metastasis is not None:
            _save("event", s, {"kind": "distant_metastasis", "event_date": metastasis, "sites": "lung, bone"},
                  coordinator)
        if death is not None:
            _save("event", s, {"kind": "death", "event_date": death, "cause": "progressive disease"}, coordinator)
        if relapse is not None:
            _save("event", s, {"kind": "locoregional_relapse", "event_date": relapse}, coordinator)
    for k, s in enumerate(subjects):  # alive subjects under treatment or follow-up: last contact recently
        if s.radiotherapycourse_records.exists() and not s.clinicalevent_records.filter(kind="death").exists():
            contact = today - timedelta(days=k % 20)
            if contact > s.enrolment_date:
                _save("event", s, {"kind": "last_contact", "event_date": contact}, users[coordinator_of(s.site.code)])
    if password is None:
        return
    investigator = users["investigator"]
    sites = set(investigator.memberships.filter(study=study).values_list("site_id", flat=True))
    signed = next((s for s in subjects if s.site_id in sites and s.radiotherapycourse_records.exists()), None)
    if signed is not None:
        sign_casebook(signed, investigator, password)
        lock(study, users["data_manager"], signed)
