"""The demo has clinical data at every stage, and its pages render."""

from __future__ import annotations

import pytest
from django.test import Client

from npctrial.web.clinical.models import (
    AdverseEvent,
    Baseline,
    CasebookSignature,
    ClinicalEvent,
    DataLock,
    DeclaredRecord,
    DrugAdministration,
    FollowUpVisit,
    LabResult,
    RadiotherapyCourse,
    RtogScore,
    TumourAssessment,
)
from npctrial.web.core.models import Membership, Study
from tests.web.conftest import login


@pytest.mark.django_db
def test_demo_has_crf_data_at_every_stage():
    from npctrial.web.demo import load_demo

    load_demo()
    for model in (Baseline, RadiotherapyCourse, DrugAdministration, LabResult, AdverseEvent, RtogScore,
                  TumourAssessment, FollowUpVisit, ClinicalEvent, CasebookSignature, DataLock):
        assert model.objects.exists(), model.__name__
    assert RadiotherapyCourse.objects.filter(end_date__isnull=True).exists()  # RT under way
    tidy_baselines = Baseline.objects.exclude(subject__site__code="MX").count()
    tidy_courses = RadiotherapyCourse.objects.exclude(subject__site__code="MX").count()
    assert tidy_baselines > tidy_courses  # baseline only (site MX holds RT without baseline on purpose)
    assert AdverseEvent.objects.filter(serious=True).exists()
    assert RtogScore.objects.filter(scale="late").exists()
    assert DrugAdministration.objects.filter(deviation=True).exists()
    nutrition = DeclaredRecord.objects.filter(form="nutrition")  # the protocol-declared form of imrt-s1
    assert nutrition.exists() and not nutrition.exclude(subject__study__code="imrt-s1").exists()
    assert nutrition.filter(values__feeding_tube=True, values__tube_type="nasogastric").exists()
    assert nutrition.exclude(event="").exists()  # placed in the CCRT weeks
    for model in (Baseline, LabResult, AdverseEvent, FollowUpVisit):  # CRFs come from the site's own coordinator
        for record in model.objects.select_related("subject__site", "created_by"):
            assert Membership.objects.filter(user=record.created_by, site=record.subject.site,
                                             role="coordinator").exists(), model.__name__
    client = login(Client(), "data_manager")
    for study in Study.objects.all():
        home = client.get(f"/studies/{study.pk}/clinical/")
        assert home.status_code == 200
        report = client.get(f"/studies/{study.pk}/clinical/report/")
        assert report.status_code == 200 and b"<svg" in report.content
    imrt = Study.objects.get(code="imrt-s1")
    assert b"No overdue visits" not in client.get(f"/studies/{imrt.pk}/clinical/").content
