"""The screening form shows the fields the eligibility criteria (and enrolment/stratification) need, no more."""

from __future__ import annotations

import re

from django.urls import reverse

from npctrial.web.core.models import ScreeningRecord
from tests.web.conftest import CCRT_ELIGIBLE, IMRT_ELIGIBLE, login

# Written from the protocols' criteria (imrt-s1 I1-I7/E1-E8; ccrt-nimotuzumab I1-I3), the
# ccrt stratification factor and high-risk rule inputs, and sex (recorded at enrolment for ADSL).
CCRT_SCREENING = set(CCRT_ELIGIBLE)
IMRT_SCREENING = set(IMRT_ELIGIBLE) - {"height_cm", "weight_kg"}
NOT_AT_SCREENING = {"rt_end_date", "enrolment_date", "birth_date", "height_cm", "weight_kg"}


def _inputs(html: str) -> set[str]:
    return set(re.findall(r'data-field="([a-z0-9_]+)"', html))


def test_screening_form_shows_only_the_criteria_strata_and_enrolment_fields(client, world):
    login(client, "coordinator")
    for key, expected in (("imrt", IMRT_SCREENING), ("ccrt", CCRT_SCREENING)):
        html = client.get(reverse("screening-new", kwargs={"study_pk": world.studies[key].pk})).content.decode()
        shown = _inputs(html)
        assert shown == expected, key
        assert not shown & NOT_AT_SCREENING
        assert 'name="rt_end_date"' not in html


def test_fields_api_lists_the_same_fields(client, world):
    login(client, "coordinator")
    for key, expected in (("imrt", IMRT_SCREENING), ("ccrt", CCRT_SCREENING)):
        rows = client.get(f"/api/v1/studies/{world.studies[key].pk}/fields").json()
        assert {r["name"] for r in rows} == expected


def test_editing_keeps_stored_values_the_form_does_not_show(client, world):
    """height/weight came in through the service; an edit through the page must not drop them."""
    login(client, "coordinator")
    record = world.screenings[("imrt", "A")]
    data = {k: ("true" if v is True else "false" if v is False else v) for k, v in IMRT_ELIGIBLE.items()
            if k in IMRT_SCREENING}
    data.update({"ecog": 2, "version": record.version, "reason": "ECOG re-assessed"})
    url = reverse("screening-edit", kwargs={"study_pk": world.studies["imrt"].pk, "pk": record.pk})
    assert client.post(url, data).status_code == 302
    record = ScreeningRecord.objects.get(pk=record.pk)
    assert record.values["ecog"] == 2
    assert record.values["height_cm"] == 170 and record.values["weight_kg"] == 62
