"""Every page renders for a coordinator of site A, with the content it promises."""

from __future__ import annotations

from django.urls import reverse

from tests.web.conftest import login


def test_pages_render(client, world):
    login(client, "coordinator")
    study = world.studies["ccrt"]
    subject = world.subjects[("ccrt", "A")]
    screening = world.screenings[("ccrt", "A")]
    pages = [
        reverse("home"),
        reverse("study-dashboard", kwargs={"study_pk": study.pk}),
        reverse("screening-log", kwargs={"study_pk": study.pk}),
        reverse("screening-new", kwargs={"study_pk": study.pk}),
        reverse("screening-detail", kwargs={"study_pk": study.pk, "pk": screening.pk}),
        reverse("screening-edit", kwargs={"study_pk": study.pk, "pk": screening.pk}),
        reverse("subject-list", kwargs={"study_pk": study.pk}),
        reverse("subject-detail", kwargs={"study_pk": study.pk, "pk": subject.pk}),
        reverse("subject-history", kwargs={"study_pk": study.pk, "pk": subject.pk}),
        reverse("query-list", kwargs={"study_pk": study.pk}),
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
    detail = client.get(reverse("subject-detail", kwargs={"study_pk": study.pk, "pk": subject.pk})).content.decode()
    assert subject.subject_id in detail
    assert subject.randomisation.arm in detail
