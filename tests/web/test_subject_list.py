"""The subject list: paged in site and enrolment order, searchable by subject ID, nobody lost
between pages."""

from __future__ import annotations

import re
from datetime import date

from django.test import Client
from django.urls import reverse

from npctrial.web.core.enrolment import enrol
from npctrial.web.core.screening import create_screening
from npctrial.web.core.views import subjects as subject_views
from tests.web.conftest import CCRT_ELIGIBLE, login


def _listed(page: str) -> list[str]:
    return re.findall(r'<td><a href="[^"]+">([^<]+)</a></td>', page)


def _enrol_more(world, n: int) -> None:
    study, site, user = world.studies["ccrt"], world.sites["A"], world.users["coordinator"]
    for _ in range(n):
        record = create_screening(study, site, CCRT_ELIGIBLE, user)
        enrol(record, consent_date=date(2026, 1, 6), consent_version="1.0", user=user)


def test_pages_cover_every_subject_once_in_order(world, monkeypatch):
    monkeypatch.setattr(subject_views, "SUBJECTS_PER_PAGE", 2)
    _enrol_more(world, 3)  # 4 at site A, 1 at site B
    study = world.studies["ccrt"]
    client = login(Client(), "data_manager")
    url = reverse("subject-list", kwargs={"study_pk": study.pk})
    pages = [client.get(url, {"page": n}).content.decode() for n in (1, 2, 3)]
    seen = [sid for page in pages for sid in _listed(page)]
    expected = list(study.subjects.order_by("site__code", "seq").values_list("subject_id", flat=True))
    assert len(expected) == 5 and seen == expected  # every subject, once, in site and enrolment order
    assert [len(_listed(p)) for p in pages] == [2, 2, 1]
    assert "(5)" in pages[0] and "page 1 of 3" in pages[0] and "page=2" in pages[0]
    assert _listed(client.get(url, {"page": "99"}).content.decode()) == _listed(pages[2])  # past the end: the last
    assert _listed(client.get(url, {"page": "x"}).content.decode()) == _listed(pages[0])


def test_search_narrows_to_subject_ids_containing_the_text(world):
    study = world.studies["ccrt"]
    client = login(Client(), "data_manager")
    url = reverse("subject-list", kwargs={"study_pk": study.pk})
    wanted = world.subjects[("ccrt", "B")].subject_id
    found = client.get(url, {"q": wanted[-5:].lower()}).content.decode()  # any case, any part
    assert _listed(found) == [wanted]
    none = client.get(url, {"q": "no-such-id"}).content.decode()
    assert _listed(none) == [] and "No subject ID contains this text." in none
    assert _listed(client.get(url, {"q": "<script>"}).content.decode()) == []


def test_search_stays_within_the_users_sites(world):
    study = world.studies["ccrt"]
    client = login(Client(), "coordinator")  # site A only
    url = reverse("subject-list", kwargs={"study_pk": study.pk})
    other = world.subjects[("ccrt", "B")].subject_id
    assert _listed(client.get(url, {"q": other}).content.decode()) == []
    assert _listed(client.get(url).content.decode()) == [world.subjects[("ccrt", "A")].subject_id]
