"""Subject IDs are unique across studies: the bundled protocols prefix the study; a pattern that would
give an ID another study already has is refused at enrolment (field subject_id_pattern), not stored."""

from __future__ import annotations

import json
from datetime import date

import pytest

from npctrial.errors import ValidationError
from npctrial.web.core.enrolment import enrol
from npctrial.web.core.models import Membership, Subject
from npctrial.web.core.protocols import load_bundled_protocol_text
from npctrial.web.core.screening import create_screening
from npctrial.web.core.studies import create_study
from tests.web.conftest import IMRT_ELIGIBLE, login

pytestmark = pytest.mark.django_db


def _study(code, pattern, world):
    text = load_bundled_protocol_text("imrt-s1").replace('subject_id_pattern: "IMRT-{site}-{seq:03d}"',
                                                         f'subject_id_pattern: "{pattern}"')
    assert pattern in text
    study = create_study(code=code, yaml_text=text, sites=[world.sites["A"]])
    Membership.objects.create(user=world.users["coordinator"], study=study, role="coordinator", site=world.sites["A"])
    return study


def _enrol(study, world):
    record = create_screening(study, world.sites["A"], IMRT_ELIGIBLE, world.users["coordinator"])
    return record, lambda: enrol(record, consent_date=date.today(), consent_version="1.0",
                                 user=world.users["coordinator"])


def test_bundled_protocols_give_ids_prefixed_by_the_study(world):
    assert world.subjects[("imrt", "A")].subject_id == "IMRT-GZ-001"
    assert world.subjects[("ccrt", "B")].subject_id == "NIMO-HK-001"


def test_a_pattern_without_the_study_is_refused_when_its_id_is_taken(client, world):
    first, second = _study("trial-a", "NPC-{site}-{seq:03d}", world), _study("trial-b", "NPC-{site}-{seq:03d}", world)
    _record, enrol_first = _enrol(first, world)
    assert enrol_first().subject_id == "NPC-GZ-001"
    record, enrol_second = _enrol(second, world)
    with pytest.raises(ValidationError) as err:
        enrol_second()
    assert err.value.field == "subject_id_pattern" and "trial-a" in str(err.value)
    login(client, "coordinator")
    response = client.post(f"/api/v1/studies/{second.pk}/screenings/{record.pk}/enrol",
                           json.dumps({"consent_date": date.today().isoformat(), "consent_version": "1.0"}),
                           content_type="application/json")
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "subject_id_pattern"
    assert not Subject.objects.filter(study=second).exists()  # nothing half-enrolled (no consent kept either)
    assert not hasattr(type(record).objects.get(pk=record.pk), "consent")


def test_the_study_placeholder_keeps_ids_apart(world):
    first, second = _study("trial-a", "{study}-{site}-{seq:03d}", world), _study("trial-b", "{study}-{site}-{seq:03d}",
                                                                                  world)
    assert _enrol(first, world)[1]().subject_id == "trial-a-GZ-001"
    assert _enrol(second, world)[1]().subject_id == "trial-b-GZ-001"
