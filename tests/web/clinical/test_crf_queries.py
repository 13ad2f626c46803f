"""Data queries on CRF record fields: raised by a data manager, answered by the site, closed, counted."""

from __future__ import annotations

from datetime import date

from django.test import Client
from django.urls import reverse

from npctrial.web.core.dashboard import compute_dashboard
from npctrial.web.core.models import DataQuery
from tests.web.clinical.conftest import save, url
from tests.web.conftest import login

BASELINE = {"assessment_date": date(2026, 1, 6), "height_cm": 170.0, "weight_kg": 62.0, "tnm_edition": 8,
            "t_category": "T3", "n_category": "N1", "m_category": "M0"}


def _raise(client: Client, world, record: str, field: str = "weight_kg", site: str = "A"):
    return client.post(url("query-raise", world, site=site),
                       {"record": record, "field_name": field, "text": "Weight differs from source",
                        "next": url("casebook", world, site=site)})


def test_raise_answer_close_a_crf_query_through_the_pages(world):
    baseline = save("baseline", world, BASELINE)
    record = f"baseline:{baseline.pk}"
    dm = login(Client(), "data_manager")
    casebook = dm.get(url("casebook", world)).content.decode()
    assert f'data-record="{record}"' in casebook  # the casebook offers a query form per record
    assert "<th>Height (cm)</th>" in casebook and "<th>height_cm</th>" not in casebook  # readable headings
    assert '<option value="weight_kg">Weight (kg)</option>' in casebook
    response = _raise(dm, world, record)
    assert response.status_code == 302 and response["Location"] == url("casebook", world)
    query = DataQuery.objects.get(record=record)
    assert (query.field_name, query.status, query.site_id) == ("weight_kg", "open", world.sites["A"].pk)

    study = world.studies["imrt"]
    before = compute_dashboard(world.users["study_admin"], study).open_queries
    assert before == 3  # the world's screening queries at GZ and HK, and this one

    site = login(Client(), "coordinator")
    page = site.get(url("casebook", world)).content.decode()
    assert "Weight differs from source" in page and "1 open" in page
    site.post(reverse("query-answer", kwargs={"study_pk": study.pk, "pk": query.pk}),
              {"answer": "Source corrected: 62 kg", "next": url("casebook", world)})
    query.refresh_from_db()
    assert (query.status, query.answered_by) == ("answered", world.users["coordinator"])
    assert site.post(reverse("query-close", kwargs={"study_pk": study.pk, "pk": query.pk})).status_code == 403

    dm.post(reverse("query-close", kwargs={"study_pk": study.pk, "pk": query.pk}))
    query.refresh_from_db()
    assert query.status == "closed"
    assert compute_dashboard(world.users["study_admin"], study).open_queries == before - 1


def test_crf_query_through_the_api(world):
    baseline = save("baseline", world, BASELINE)
    dm = login(Client(), "data_manager")
    base = f"/api/v1/studies/{world.studies['imrt'].pk}/subjects/{world.subjects[('imrt', 'A')].pk}/queries"
    ok = dm.post(base, {"record": f"baseline:{baseline.pk}", "field_name": "height_cm", "text": "cm?"},
                 content_type="application/json")
    assert ok.status_code == 201 and ok.json()["record"] == f"baseline:{baseline.pk}"
    bad_field = dm.post(base, {"record": f"baseline:{baseline.pk}", "field_name": "t_stage", "text": "?"},
                        content_type="application/json")
    assert bad_field.status_code == 422 and "field_name" in bad_field.content.decode()


def test_a_query_cannot_name_another_subjects_record(world):
    """A guessed record id of a site-B subject is refused (and nothing is created)."""
    other = save("baseline", world, BASELINE, site="B")
    dm = login(Client(), "data_manager")
    for record in (f"baseline:{other.pk}", "baseline:999999", "baseline:x", "nosuchform:1"):
        _raise(dm, world, record)
        assert not DataQuery.objects.filter(record=record).exists()
    base = f"/api/v1/studies/{world.studies['imrt'].pk}/subjects/{world.subjects[('imrt', 'A')].pk}/queries"
    response = dm.post(base, {"record": f"baseline:{other.pk}", "field_name": "weight_kg", "text": "?"},
                       content_type="application/json")
    assert response.status_code == 422 and "record" in response.content.decode()


def test_site_roles_cannot_raise_crf_queries(world):
    baseline = save("baseline", world, BASELINE)
    response = _raise(login(Client(), "coordinator"), world, f"baseline:{baseline.pk}")
    assert response.status_code == 403
    assert not DataQuery.objects.filter(record=f"baseline:{baseline.pk}").exists()
