"""Report numbers and export round-trips.

Expected values are written from definitions, not from the code's output:
- Clopper-Pearson for 1/2 (R ``binom.test(1, 2)``): lower = 1 - sqrt(0.975), upper = sqrt(0.975)
  (Beta(1,2) and Beta(2,1) quantiles have closed forms).
- PFS (protocol: from enrolment to progression or death), months = days / 30.4375.
- R's KM median when S(t) equals 0.5 exactly on a flat stretch: midpoint of that stretch.
"""

from __future__ import annotations

import io
import math
from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pyreadstat
import pytest
from django.test import Client

from npctrial.web.clinical.exports import read_odm
from npctrial.web.clinical.models import AdverseEvent, LabResult
from npctrial.web.core.models import Subject
from tests.web.clinical.conftest import RT, save, url
from tests.web.conftest import login

ENROL = date(2026, 1, 5)
PD_DAY = date(2026, 6, 30)
DEATH = date(2026, 9, 1)


def _lesions(a, b):
    return [{"lesion_id": "L1", "location": "nasopharynx", "target": True, "nodal": False, "diameter_mm": a},
            {"lesion_id": "N1", "location": "level II node", "target": True, "nodal": True, "diameter_mm": b}]


@pytest.fixture
def trial(world):
    for s in ("A", "B"):
        Subject.objects.filter(pk=world.subjects[("imrt", s)].pk).update(
            enrolment_date=date(2026, 1, 5), enrolled_at=datetime(2026, 6, 20, 10, tzinfo=UTC))
        world.subjects[("imrt", s)].refresh_from_db()
        save("radiotherapy", world, dict(RT), site=s)
        save("baseline", world, {"assessment_date": date(2026, 1, 6), "height_cm": 150, "weight_kg": 37.5,
                                 "t_category": "T3", "n_category": "N1", "m_category": "M0", "ecog": 1}, site=s)
    save("ae", world, {"week": 3, "term": "mucositis_oral", "grade": 3, "attribution": "probable",
                       "start_date": date(2026, 1, 26)})
    save("ae", world, {"week": 2, "term": "dermatitis_radiation", "grade": 1, "attribution": "definite",
                       "start_date": date(2026, 1, 19)})
    save("ae", world, {"week": 4, "term": "dermatitis_radiation", "grade": 2, "attribution": "definite",
                       "start_date": date(2026, 2, 2)}, site="B")
    save("lab", world, {"week": 2, "sample_date": date(2026, 1, 20), "term": "anemia", "value": 95, "unit": "g/L",
                        "lln": 120, "lln_unit": "g/L", "grade": None}, site="B")
    for d, (x, y) in ((date(2026, 1, 4), (50, 30)), (date(2026, 3, 30), (30, 20)), (PD_DAY, (40, 25))):
        save("assessment", world, {"assessment_date": d, "new_lesions": "no"}, lesions=_lesions(x, y))
    save("followup", world, {"visit_date": date(2026, 6, 1), "status": "alive_ned"}, site="B")
    save("event", world, {"kind": "death", "event_date": DEATH, "cause": "stroke"}, site="B")
    return world


def test_report_ae_rate_orr_and_pfs(trial):
    client = login(Client(), "statistician")
    data = client.get(f"/api/v1/studies/{trial.studies['imrt'].pk}/report").json()
    assert data["flow"]["enrolled"] == 2 and data["flow"]["treated"] == 2
    assert "randomised" not in data["flow"]  # imrt-s1 is single-arm
    ccrt = client.get(f"/api/v1/studies/{trial.studies['ccrt'].pk}/report").json()
    assert ccrt["flow"]["randomised"] == 2  # the world randomises one ccrt subject per site
    rate = data["ae_rate"]
    assert (rate["x"], rate["n"]) == (1, 2)  # worst grade >= 3: subject A only (B: grade 2 + anaemia grade 2)
    assert rate["lower"] == pytest.approx(1 - math.sqrt(0.975), rel=1e-9)
    assert rate["upper"] == pytest.approx(math.sqrt(0.975), rel=1e-9)
    terms = {t["term"]: t for t in data["ae_terms"]}
    assert terms["dermatitis_radiation"]["g1"] == 1 and terms["dermatitis_radiation"]["g2"] == 1  # worst per patient
    assert terms["anemia"]["g2"] == 1  # Hb 95 g/L: CTCAE grade 2 (<10.0 - 8.0 g/dL)
    assert data["best_responses"] == {trial.subjects[("imrt", "A")].subject_id: "PR"}
    assert (data["orr"]["x"], data["orr"]["n"]) == (1, 1)
    pfs = next(s for s in data["survival"] if s["endpoint"] == "PFS")
    assert pfs["events"] == [2]
    t1, t2 = (PD_DAY - ENROL).days / 30.4375, (DEATH - ENROL).days / 30.4375
    assert pfs["medians"][0] == pytest.approx((t1 + t2) / 2, rel=1e-9)
    os_ = next(s for s in data["survival"] if s["endpoint"] == "OS")
    assert os_["events"] == [1]


def test_report_page_and_pdf(trial):
    client = login(Client(), "monitor")
    page = client.get(url("study-report", trial)).content.decode()
    assert 'data-x="1" data-n="2"' in page and "<svg" in page and "mucositis_oral" in page
    pdf = client.get(url("study-report-pdf", trial))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.content.count(b"/Subtype /Image") >= 2  # KM figures of PFS and OS


def _stream(resp) -> bytes:
    return b"".join(resp.streaming_content) if resp.streaming else resp.content


def test_csv_long_and_wide(trial):
    client = login(Client(), "statistician")
    long = pd.read_csv(io.BytesIO(_stream(client.get(url("export-file", trial, name="ae", fmt="long.csv")))))
    grades = long[long.field == "grade"].sort_values("record_id")
    assert grades["value"].astype(int).tolist() == list(AdverseEvent.objects.order_by("pk").values_list("grade", flat=True))
    wide = pd.read_csv(io.BytesIO(_stream(client.get(url("export-file", trial, name="ae", fmt="wide.csv")))))
    a = wide.set_index("subject_id").loc[trial.subjects[("imrt", "A")].subject_id]
    assert (a["grade_1"], a["grade_2"]) == (3, 1)
    xlsx = client.get(url("export-file", trial, name="lab", fmt="xlsx"))
    sheets = pd.read_excel(io.BytesIO(xlsx.content), sheet_name=None)
    assert sheets["records"]["suggested_grade"].tolist() == [2]
    assert set(sheets) == {"records", "long", "wide"}
    long_lab = sheets["long"].set_index("field")["value"]
    assert long_lab["term"] == "anemia" and float(long_lab["value"]) == 95


def test_spss_round_trip_with_value_labels(trial, tmp_path):
    client = login(Client(), "data_manager")
    path = tmp_path / "ae.sav"
    path.write_bytes(client.get(url("export-file", trial, name="ae", fmt="sav")).content)
    df, meta = pyreadstat.read_sav(str(path))
    rows = list(AdverseEvent.objects.order_by("subject__seq", "pk"))
    assert df["grade"].tolist() == [r.grade for r in rows]
    assert df["term"].tolist() == [r.term for r in rows]
    labels = meta.variable_value_labels["attribution"]
    assert [labels[v] for v in df["attribution"]] == [r.get_attribution_display() for r in rows]
    assert df["start_date"].tolist() == [r.start_date.isoformat() for r in rows]


def test_spss_numeric_codes_are_kept(trial, tmp_path):
    path = tmp_path / "baseline.sav"
    path.write_bytes(login(Client(), "statistician").get(url("export-file", trial, name="baseline", fmt="sav")).content)
    df, meta = pyreadstat.read_sav(str(path))
    assert df["tnm_edition"].tolist() == [8.0, 8.0]
    assert meta.variable_value_labels["tnm_edition"] == {7.0: "AJCC 7th", 8.0: "AJCC 8th"}
    assert meta.variable_value_labels["t_category"][4.0] == "T3" and set(df["t_category"]) == {4.0}
    assert df["bsa_m2"].tolist() == [1.25, 1.25]


def test_odm_round_trip(trial):
    client = login(Client(), "study_admin")
    resp = client.get(url("export-file", trial, name="odm", fmt="xml"))
    assert resp.streaming
    parsed = read_odm(_stream(resp))
    sid_b = trial.subjects[("imrt", "B")].subject_id
    labs = parsed[sid_b]["lab"]
    lab = LabResult.objects.get()
    assert labs == [{"week": "2", "sample_date": "2026-01-20", "term": "anemia", "value": "95.0", "unit": "g/L",
                     "lln": "120.0", "lln_unit": "g/L", "grade": str(lab.grade), "suggested_grade": "2"}]
    ae_a = parsed[trial.subjects[("imrt", "A")].subject_id]["ae"]
    assert [x["grade"] for x in ae_a] == ["3", "1"]
    assert parsed[sid_b]["event"][0]["cause"] == "stroke"


def test_adsl_adtte_adae_and_analyze(trial, tmp_path):
    client = login(Client(), "statistician")
    adsl = pd.read_csv(io.BytesIO(_stream(client.get(url("export-file", trial, name="adsl", fmt="csv")))))
    a = adsl.set_index("usubjid").loc[trial.subjects[("imrt", "A")].subject_id]
    assert a["pfs_event"] == 1 and a["pfs_months"] == pytest.approx((PD_DAY - ENROL).days / 30.4375, abs=1e-4)
    assert a["os_event"] == 0 and a["bsa"] == 1.25
    adtte = pd.read_csv(io.BytesIO(_stream(client.get(url("export-file", trial, name="adtte", fmt="csv")))))
    b_os = adtte[(adtte.usubjid == trial.subjects[("imrt", "B")].subject_id) & (adtte.paramcd == "OS")].iloc[0]
    assert b_os["cnsr"] == 0 and b_os["adt"] == DEATH.isoformat()
    adae = pd.read_csv(io.BytesIO(_stream(client.get(url("export-file", trial, name="adae", fmt="csv")))))
    # the three AEs and site B's anaemia (Hb 95 g/L, LLN 120: CTCAE grade 2), counted as the report counts it
    assert sorted(zip(adae["aesrc"], adae["aetoxgr"], strict=True)) == [("AE", 1), ("AE", 2), ("AE", 3), ("LAB", 2)]
    # npctrial analyze reads ADSL directly with the exported config
    (tmp_path / "adsl.csv").write_bytes(_stream(client.get(url("export-file", trial, name="adsl", fmt="csv"))))
    (tmp_path / "adsl.yaml").write_bytes(client.get(url("export-file", trial, name="adsl", fmt="yaml")).content)
    from npctrial.cohort.config import load_config
    from npctrial.cohort.pipeline import build_report, prepare_cohort

    config = load_config(tmp_path / "adsl.yaml")
    frame, excluded, n_rows = prepare_cohort(tmp_path / "adsl.csv", config)
    assert n_rows == 2 and frame["pfs_event"].tolist() == adsl["pfs_event"].tolist()
    report = build_report(frame, config, tmp_path, cohort_name="adsl.csv", n_rows=n_rows, excluded=excluded)
    assert report.n_analysed == 2 and len(report.figures) >= 2


def test_streaming_export_of_many_records(world):
    """CSV exports stream in chunks (generator), not one response body."""
    subject = world.subjects[("imrt", "A")]
    objs = [AdverseEvent(subject=subject, protocol_version=subject.protocol_version, term="fatigue", grade=1,
                         attribution="possible", start_date=date(2026, 1, 1) + timedelta(days=i % 50))
            for i in range(1200)]
    AdverseEvent.objects.bulk_create(objs)
    resp = login(Client(), "statistician").get(url("export-file", world, name="ae", fmt="csv"))
    chunks = list(resp.streaming_content)
    assert len(chunks) >= 3
    assert b"".join(chunks).count(b"\n") == 1201
