"""Every endpoint uses the entered enrolment / randomisation date as origin, never the moment of the click.

The patient of issue 12: consented in April, entered in the EDC in December. Before the fix ADSL
gave OS = -0.99 months and the report dropped the relapse and the death.
"""

from __future__ import annotations

import io
from datetime import date

import pandas as pd
import pytest
from django.test import Client

from npctrial.web.core.allocation import randomise
from npctrial.web.core.enrolment import enrol
from npctrial.web.core.screening import create_screening
from tests.web.clinical.conftest import url
from tests.web.conftest import CCRT_ELIGIBLE, IMRT_ELIGIBLE, login

ENROL = date(2026, 4, 3)
RANDOM = date(2026, 4, 6)
RELAPSE = date(2026, 8, 1)
DEATH = date(2026, 10, 1)


def _patient(world, study, values, randomised=False):
    from npctrial.web.clinical.crfs import save_crf

    coordinator = world.users["coordinator"]
    record = create_screening(world.studies[study], world.sites["A"], values, coordinator,
                              screening_date=date(2026, 4, 1))
    subject = enrol(record, consent_date=date(2026, 4, 2), consent_version="1.0", user=coordinator,
                    enrolment_date=ENROL)
    if randomised:
        randomise(subject, coordinator, RANDOM)
        subject.refresh_from_db()
    for form, values_ in (
        ("radiotherapy", {"technique": "IMRT", "total_dose_gy": 70.0, "fractions": 33, "start_date": date(2026, 4, 10),
                          "end_date": date(2026, 5, 26), "delivered_fractions": 33}),
        ("followup", {"visit_date": date(2026, 7, 1), "status": "alive_ned"}),
        ("event", {"kind": "locoregional_relapse", "event_date": RELAPSE}),
        ("event", {"kind": "death", "event_date": DEATH, "cause": "progressive disease"}),
    ):
        save_crf(form, subject, values_, coordinator)
    return subject


def _csv(client, world, study, name):
    resp = client.get(url("export-file", world, study, name=name, fmt="csv"))
    body = b"".join(resp.streaming_content) if resp.streaming else resp.content
    return pd.read_csv(io.BytesIO(body))


def test_back_dated_single_arm_patient_pfs_and_os_from_the_enrolment_date(world):
    subject = _patient(world, "imrt", IMRT_ELIGIBLE)
    assert subject.enrolled_at.date() > ENROL  # recorded months after the enrolment
    client = login(Client(), "statistician")
    adsl = _csv(client, world, "imrt", "adsl").set_index("usubjid").loc[subject.subject_id]
    assert adsl["enrldt"] == ENROL.isoformat()
    assert adsl["os_event"] == 1 and adsl["os_months"] == pytest.approx((DEATH - ENROL).days / 30.4375, abs=1e-4)
    assert adsl["pfs_event"] == 1 and adsl["pfs_months"] == pytest.approx((RELAPSE - ENROL).days / 30.4375, abs=1e-4)
    adtte = _csv(client, world, "imrt", "adtte")
    rows = adtte[adtte.usubjid == subject.subject_id].set_index("paramcd")
    assert rows.loc["PFS", "startdt"] == ENROL.isoformat() and rows.loc["PFS", "adt"] == RELAPSE.isoformat()
    report = client.get(f"/api/v1/studies/{world.studies['imrt'].pk}/report").json()
    pfs = next(s for s in report["survival"] if s["endpoint"] == "PFS")
    assert sum(pfs["events"]) == 1  # the relapse is counted (it used to be dropped as before the origin)


def test_randomised_patient_endpoints_from_the_randomisation_date(world):
    subject = _patient(world, "ccrt", CCRT_ELIGIBLE, randomised=True)
    client = login(Client(), "statistician")
    adsl = _csv(client, world, "ccrt", "adsl").set_index("usubjid").loc[subject.subject_id]
    assert adsl["randdt"] == RANDOM.isoformat()
    assert adsl["os_months"] == pytest.approx((DEATH - RANDOM).days / 30.4375, abs=1e-4)  # ccrt: origin randomisation
    report = client.get(f"/api/v1/studies/{world.studies['ccrt'].pk}/report").json()
    os_ = next(s for s in report["survival"] if s["endpoint"] == "OS")
    assert sum(os_["events"]) == 1
