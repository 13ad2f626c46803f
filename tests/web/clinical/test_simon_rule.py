"""Simon two-stage stopping rule on the report (Simon, Control Clin Trials 1989: stop after stage 1
when the responses among the first n1 evaluable patients are <= r1)."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client

from npctrial.web.clinical.crfs import save_crf
from npctrial.web.core.enrolment import enrol
from npctrial.web.core.models import Membership
from npctrial.web.core.protocols import load_bundled_protocol_text
from npctrial.web.core.screening import create_screening
from npctrial.web.core.studies import create_study
from tests.web.conftest import IMRT_ELIGIBLE, login

SIMON = "simon: {p0: 0.2, p1: 0.4, alpha: 0.05, power: 0.8, n1: 2, r1: 0, n: 4, r: 1, variant: other}"


def _lesions(a: float) -> list[dict]:
    return [{"lesion_id": "L1", "location": "nasopharynx", "target": True, "nodal": False, "diameter_mm": a}]


@pytest.mark.parametrize(("shrink", "evaluated", "status"), [
    ((None, None), 0, "stage 1 ongoing"),
    ((0.9, None), 1, "stage 1 ongoing"),      # 1 of n1 = 2 evaluated, no response yet
    ((0.9, 0.95), 2, "stop for futility"),     # 0 responses <= r1 = 0 among n1 = 2
    ((0.5, None), 1, "continue to stage 2"),  # 1 response > r1 already
])
def test_simon_stage1_status(world, shrink, evaluated, status):
    text = load_bundled_protocol_text("imrt-s1").replace("simon: null", SIMON).replace("\"IMRT-{site}", "\"SIMON-{site}")  # its own IDs
    study = create_study(code="simon-test", yaml_text=text, target_enrolment=4, sites=[world.sites["A"]])
    Membership.objects.create(user=world.users["coordinator"], study=study, site=world.sites["A"], role="coordinator")
    user = world.users["coordinator"]
    for factor in shrink:
        subject = enrol(create_screening(study, world.sites["A"], IMRT_ELIGIBLE, user),
                        consent_date=date(2026, 1, 5), consent_version="1.0", user=user)
        if factor is None:
            continue
        save_crf("assessment", subject, {"assessment_date": date(2026, 1, 6)}, user, lesions=_lesions(40))
        save_crf("assessment", subject, {"assessment_date": date(2026, 4, 6)}, user, lesions=_lesions(40 * factor))
    data = login(Client(), "coordinator").get(f"/api/v1/studies/{study.pk}/report").json()
    assert data["simon"]["evaluated"] == evaluated
    assert data["simon"]["status"] == status
