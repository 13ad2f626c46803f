"""The data query lifecycle (open, answered, closed, re-opened) with an assignee and a due date,
through the service, the pages and the API; the thread is read from the audit trail."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from npctrial.errors import ValidationError
from npctrial.web.core.models import DataQuery
from npctrial.web.core.queries import (
    answer_query,
    assign_query,
    assignable_users,
    close_query,
    is_overdue,
    query_thread,
    raise_query,
    reopen_query,
)
from tests.web.conftest import login


@pytest.fixture(autouse=True)
def _english():
    """Service messages in English whatever language an earlier test of the worker activated."""
    with translation.override("en"):
        yield

def _q(world, key=("imrt", "A")) -> DataQuery:
    return world.queries[key]


def _url(route: str, query: DataQuery) -> str:
    return reverse(route, kwargs={"study_pk": query.study_id, "pk": query.pk})


def _api(query: DataQuery, step: str = "") -> str:
    return f"/api/v1/studies/{query.study_id}/queries/{query.pk}" + (f"/{step}" if step else "")


def test_full_lifecycle_and_thread_from_the_audit_trail(world):
    q, dm, coo = _q(world), world.users["data_manager"], world.users["coordinator"]
    answer_query(q, answer="T3 on MRI", user=coo)
    reopen_query(q, user=dm, reason="MRI report says T4 (skull base)")
    assert q.status == "reopened"
    answer_query(q, answer="Corrected to T4", user=coo)
    close_query(q, user=dm, note="resolved")
    q.refresh_from_db()
    assert (q.status, q.answer, q.version) == ("closed", "Corrected to T4", 5)
    steps = [(s.action, s.user, s.text) for s in query_thread(q)]
    assert steps == [
        ("raised", "data_manager", "Please check T"),
        ("answered", "coordinator", "T3 on MRI"),
        ("re-opened", "data_manager", "MRI report says T4 (skull base)"),
        ("answered", "coordinator", "Corrected to T4"),
        ("closed", "data_manager", "resolved"),
    ]
    reopen_query(q, user=dm, reason="source changed again")  # a closed query can be re-opened too
    assert q.status == "reopened" and q.closed_by is None


@pytest.mark.parametrize("status, step", [
    ("answered", "answer"), ("closed", "answer"), ("open", "reopen"), ("reopened", "reopen"), ("closed", "close"),
])
def test_steps_out_of_order_are_refused(world, status, step):
    q, dm, coo = _q(world), world.users["data_manager"], world.users["coordinator"]
    q.status = status
    q.save(reason="test set-up")
    version = q.version
    run = {"answer": lambda: answer_query(q, answer="x", user=coo),
           "reopen": lambda: reopen_query(q, user=dm, reason="x"),
           "close": lambda: close_query(q, user=dm)}[step]
    with pytest.raises(ValidationError) as err:
        run()
    assert err.value.field == "status"
    q.refresh_from_db()
    assert (q.status, q.version) == (status, version)


def test_reopen_needs_a_reason(world):
    q = _q(world)
    answer_query(q, answer="ok", user=world.users["coordinator"])
    with pytest.raises(ValidationError) as err:
        reopen_query(q, user=world.users["data_manager"], reason="  ")
    assert err.value.field == "reason"


def test_assignee_must_answer_queries_at_the_subjects_site(world):
    subject = world.subjects[("imrt", "A")]
    names = [u.username for u in assignable_users(subject)]
    assert names == ["coordinator", "investigator"]  # not coordinator_b (site B), not the monitor
    for who in ("coordinator_b", "monitor", "outsider", "nobody"):
        with pytest.raises(ValidationError) as err:
            raise_query(subject, field_name="t_category", text="?", user=world.users["data_manager"], assignee=who)
        assert err.value.field == "assignee"
    q = raise_query(subject, field_name="t_category", text="?", user=world.users["data_manager"],
                    assignee="investigator", due_date=timezone.localdate() + timedelta(days=7))
    assert q.assignee == world.users["investigator"]


def test_due_date_in_the_past_is_refused_and_overdue_is_computed(world):
    subject, dm = world.subjects[("imrt", "A")], world.users["data_manager"]
    today = timezone.localdate()
    with pytest.raises(ValidationError) as err:
        raise_query(subject, field_name="t_category", text="?", user=dm, due_date=today - timedelta(days=1))
    assert err.value.field == "due_date"
    q = raise_query(subject, field_name="t_category", text="?", user=dm, due_date=today)
    assert not is_overdue(q, today) and is_overdue(q, today + timedelta(days=1))
    answer_query(q, answer="done", user=world.users["coordinator"])
    assert not is_overdue(q, today + timedelta(days=1))  # answered: waits for the monitor, not the site


def test_assign_changes_assignee_and_due_date_with_an_audited_reason(world):
    q, dm = _q(world), world.users["data_manager"]
    due = timezone.localdate() + timedelta(days=3)
    assign_query(q, user=dm, assignee="coordinator", due_date=due)
    q.refresh_from_db()
    assert (q.assignee.username, q.due_date) == ("coordinator", due)
    assert q.history.first().history_change_reason == f"query assigned to coordinator, due {due.isoformat()}"
    with pytest.raises(ValidationError):
        assign_query(q, user=dm, assignee="coordinator", due_date=due)  # nothing changes
    assign_query(q, user=dm, assignee="", due_date=None)
    q.refresh_from_db()
    assert q.assignee is None and q.due_date is None
    assert query_thread(q)[-1].action == "assigned"


def test_pages_raise_with_assignee_answer_reopen_and_filter(world):
    dm, site = login(Client(), "data_manager"), login(Client(), "coordinator")
    subject = world.subjects[("imrt", "A")]
    study_pk = subject.study_id
    due = (timezone.localdate() + timedelta(days=5)).isoformat()
    detail = dm.get(reverse("subject-detail", kwargs={"study_pk": study_pk, "pk": subject.pk})).content.decode()
    assert '<option value="coordinator">' in detail and 'name="due_date"' in detail
    r = dm.post(reverse("query-raise", kwargs={"study_pk": study_pk, "pk": subject.pk}),
                {"field_name": "n_category", "text": "N2 or N3?", "assignee": "coordinator", "due_date": due})
    assert r.status_code == 302
    q = DataQuery.objects.get(field_name="n_category")
    assert (q.assignee.username, q.due_date.isoformat(), q.status) == ("coordinator", due, "open")

    page = site.get(_url("query-detail", q)).content.decode()
    assert 'id="answer-query"' in page and 'id="reopen-query"' not in page and "N2 or N3?" in page
    assert site.post(_url("query-answer", q), {"answer": "N2 per MRI"}).status_code == 302
    assert site.post(_url("query-reopen", q), {"reason": "not mine"}).status_code == 403
    page = dm.get(_url("query-detail", q)).content.decode()
    assert 'id="reopen-query"' in page and 'id="answer-query"' not in page and "N2 per MRI" in page
    dm.post(_url("query-reopen", q), {"reason": "Report says N3"})
    q.refresh_from_db()
    assert q.status == "reopened"
    empty = dm.post(_url("query-reopen", q), {"reason": ""}, follow=True)
    assert empty.status_code == 200 and "reason" in empty.content.decode()

    mine = site.get(reverse("query-list", kwargs={"study_pk": study_pk}) + "?assignee=me").content.decode()
    assert f'data-query="{q.pk}"' in mine and f'data-query="{_q(world).pk}"' not in mine
    waiting = dm.get(reverse("query-list", kwargs={"study_pk": study_pk}) + "?status=waiting").content.decode()
    assert f'data-query="{q.pk}"' in waiting and f'data-query="{_q(world).pk}"' in waiting
    bad = dm.get(reverse("query-list", kwargs={"study_pk": study_pk}) + "?status=bogus")
    assert bad.status_code == 200 and "bogus" in bad.content.decode()


def test_overdue_filter_on_the_page(world):
    q = _q(world)
    DataQuery.objects.filter(pk=q.pk).update(due_date=date(2020, 1, 1))  # a query raised long ago
    page = login(Client(), "monitor").get(reverse("query-list", kwargs={"study_pk": q.study_id}) + "?overdue=1")
    text = page.content.decode()
    assert f'data-query="{q.pk}"' in text and "overdue" in text
    assert f'data-query="{world.queries[("imrt", "B")].pk}"' not in text


def test_api_lifecycle_with_thread_and_filters(world):
    q = _q(world)
    dm, site = login(Client(), "data_manager"), login(Client(), "coordinator")
    assert site.post(_api(q, "answer"), {"answer": "T3"}, content_type="application/json").json()["status"] \
        == "answered"
    reopened = dm.post(_api(q, "reopen"), {"reason": "T4?"}, content_type="application/json")
    assert reopened.status_code == 200 and reopened.json()["status"] == "reopened"
    assert [s["action"] for s in reopened.json()["thread"]] == ["raised", "answered", "re-opened"]
    again = dm.post(_api(q, "reopen"), {"reason": "T4?"}, content_type="application/json")
    assert again.status_code == 422 and "status" in again.content.decode()
    due = (timezone.localdate() + timedelta(days=2)).isoformat()
    assigned = dm.post(_api(q, "assign"), {"assignee": "investigator", "due_date": due},
                       content_type="application/json")
    assert assigned.status_code == 200 and (assigned.json()["assignee"], assigned.json()["due_date"]) == (
        "investigator", due)
    wrong = dm.post(_api(q, "assign"), {"assignee": "coordinator_b"}, content_type="application/json")
    assert wrong.status_code == 422 and "assignee" in wrong.content.decode()
    listing = dm.get(f"/api/v1/studies/{q.study_id}/queries?status=reopened&assignee=investigator").json()
    assert [x["id"] for x in listing] == [q.pk]
    assert dm.get(f"/api/v1/studies/{q.study_id}/queries?status=nope").status_code == 422
    assert site.get(_api(q)).json()["thread"][0]["text"] == "Please check T"
    other = world.queries[("imrt", "B")]
    assert site.get(_api(other)).status_code == 404  # site B's query does not exist for site A


@pytest.mark.parametrize("payload", [
    {"field_name": "t_category", "text": "x", "due_date": "01/02/2027"},
    {"field_name": "t_category", "text": "x", "due_date": "2020-01-01"},
    {"field_name": "t_category", "text": "x", "assignee": 12},
    {"field_name": "t_category", "text": "x", "assignee": "x" * 500},
    {"field_name": "t_category", "text": ""},
])
def test_api_raise_refuses_bad_input_without_500(world, payload):
    subject = world.subjects[("imrt", "A")]
    before = DataQuery.objects.count()
    r = login(Client(), "monitor").post(f"/api/v1/studies/{subject.study_id}/subjects/{subject.pk}/queries",
                                        payload, content_type="application/json")
    assert r.status_code == 422
    assert DataQuery.objects.count() == before
