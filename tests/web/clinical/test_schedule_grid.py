"""Schedule of assessments in the EDC: the subject's event x form grid, event pages, marks, and the
study status dashboard (subjects x events, filters, overdue and upcoming visits).

Dates are relative to today: the world's subjects are enrolled today, radiotherapy is recorded as
having started 30 days ago, so CCRT weeks 1-4 (days 0-27 from the first RT day) have closed
windows, week 5 (days 28-34) is due and the end of CCRT is not dated yet.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from npctrial.web.clinical import casebook_state, locks
from npctrial.web.clinical.models import AdverseEvent, LabResult, NothingToReport
from npctrial.web.clinical.views.grid import subject_grid
from npctrial.web.core.models import DataQuery
from npctrial.web.core.queries import close_query, raise_query
from tests.web.clinical.conftest import save, url
from tests.web.conftest import login

TODAY = timezone.localdate()
RT_START = TODAY - timedelta(days=30)
BASELINE = {"assessment_date": TODAY, "height_cm": 170, "weight_kg": 62, "t_category": "T3",
            "n_category": "N1", "m_category": "M0"}
LABS = {"ecog": 1, "wbc": 6.0, "hb": 130, "platelets": 220, "alt": 20, "ast": 22, "creatinine": 70,
        "bilirubin": 9}


def _rt(world, site="A"):
    return save("radiotherapy", world, {"technique": "IMRT", "total_dose_gy": 70.0, "fractions": 33,
                                        "start_date": RT_START}, site=site)


def _grid(world, site="A", study="imrt"):
    return subject_grid(world.subjects[(study, site)])


def _cell(g, event, form):
    row = g.row(event)
    return next(c for c in row.cells if c.form == form)


def test_grid_rows_are_the_protocol_events_and_columns_its_forms(world):
    g = _grid(world)
    assert [r.key for r in g.rows][:10] == ["screening", "baseline", *[f"ccrt_w{k}" for k in range(1, 8)], "ccrt_end"]
    assert {"screening", "baseline", "lab", "ae", "rtog", "drug", "followup", "interruption", "event"} <= set(g.forms)
    assert _cell(g, "screening", "screening").status == "query"  # the world raised a query on T at screening
    assert _cell(g, "baseline", "baseline").status == "not_started"
    assert _cell(g, "ccrt_w1", "baseline").status == ""  # baseline is not collected in CCRT weeks
    assert g.row("ccrt_w1").timing == "unscheduled"  # radiotherapy not started: no dates yet
    assert g.row("baseline").timing == "due"


def test_baseline_without_its_labs_is_incomplete_and_complete_with_them(world):
    record = save("baseline", world, BASELINE)
    assert record.event == "baseline"  # assigned by date: enrolled today, window -28/+14 days
    assert _cell(_grid(world), "baseline", "baseline").status == "incomplete"
    record.delete(reason="test: re-entered")
    save("baseline", world, {**BASELINE, **LABS})
    g = _grid(world)
    assert _cell(g, "baseline", "baseline").status == "complete"
    assert g.row("baseline").status == "incomplete"  # RECIST baseline and the RT course not entered yet
    assert g.row("baseline").timing == "done"


def test_weeks_are_dated_from_the_first_radiotherapy_day_and_overdue_when_empty(world):
    _rt(world)
    g = _grid(world)
    assert g.row("ccrt_w1").planned.target == RT_START
    assert [g.row(f"ccrt_w{k}").timing for k in range(1, 7)] == ["overdue"] * 4 + ["due", "upcoming"]
    assert g.row("ccrt_end").timing == "unscheduled"  # RT end not recorded


def test_a_record_without_an_event_is_placed_by_its_date(world):
    _rt(world)
    lab = save("lab", world, {"week": 2, "sample_date": RT_START + timedelta(days=9), "term": "platelet_count_decreased",
                              "value": 120, "unit": "10^9/L", "lln": 150, "lln_unit": "10^9/L"})
    assert lab.event == "ccrt_w2"
    g = _grid(world)
    assert _cell(g, "ccrt_w2", "lab").status == "complete"
    assert g.row("ccrt_w2").timing == "done" and g.row("ccrt_w2").status == "incomplete"  # AE, RTOG, drug missing


def test_entering_a_form_from_the_grid_stores_the_event_and_prefills_the_week(world, coordinator):
    _rt(world)
    new = url("crf-new", world, form="ae") + "?event=ccrt_w3"
    page = coordinator.get(new)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="event" value="ccrt_w3"' in html and "CCRT week 3" in html
    assert 'name="week" value="3"' in html
    r = coordinator.post(new, {"event": "ccrt_w3", "week": "3", "term": "mucositis_oral", "grade": "2",
                               "attribution": "probable", "start_date": str(RT_START + timedelta(days=15))})
    assert r.status_code == 302
    assert r["Location"] == reverse("event-detail", kwargs={"study_pk": world.studies["imrt"].pk,
                                                            "pk": world.subjects[("imrt", "A")].pk, "event": "ccrt_w3"})
    assert AdverseEvent.objects.get().event == "ccrt_w3"
    assert _cell(_grid(world), "ccrt_w3", "ae").status == "complete"


def test_an_event_that_does_not_collect_the_form_is_refused(world, coordinator):
    r = coordinator.post(url("crf-new", world, form="followup") + "?event=ccrt_w1",
                         {"event": "ccrt_w1", "visit_date": str(TODAY), "status": "alive_ned", "disease_assessed": "on"})
    assert r.status_code == 200
    assert "is not collected at CCRT week 1" in r.content.decode()
    assert coordinator.get(url("crf-new", world, form="ae") + "?event=nope").status_code == 404


def test_query_lock_and_signature_change_the_cell_status(world):
    save("ae", world, {"term": "mucositis_oral", "grade": 1, "attribution": "possible", "start_date": TODAY})
    assert AdverseEvent.objects.get().event == ""  # saved before radiotherapy was recorded: no window yet
    assert any(c.records for r in _grid(world).extra if r.key == "log" for c in r.cells if c.form == "ae")
    _rt(world)
    assert _cell(_grid(world), "ccrt_w5", "ae").records  # today is day 30 of RT: week 5, placed by its date
    lab = save("lab", world, {"week": 1, "sample_date": RT_START + timedelta(days=2), "term": "anemia", "value": 125,
                              "unit": "g/L", "lln": 120, "lln_unit": "g/L"})
    subject = world.subjects[("imrt", "A")]
    q = raise_query(subject, record=f"lab:{lab.pk}", field_name="value", text="Check the value",
                    user=world.users["data_manager"])
    assert _cell(_grid(world), "ccrt_w1", "lab").status == "query"
    assert _cell(_grid(world), "ccrt_w1", "lab").queries == 1
    close_query(q, user=world.users["data_manager"])
    assert _cell(_grid(world), "ccrt_w1", "lab").status == "complete"
    world.users["investigator"].set_password("pw-for-signing-1")
    world.users["investigator"].save()
    locks.sign_casebook(subject, world.users["investigator"], "pw-for-signing-1")
    assert _cell(_grid(world), "ccrt_w1", "lab").status == "signed"
    locks.lock(world.studies["imrt"], world.users["data_manager"], subject)
    assert _cell(_grid(world), "ccrt_w1", "lab").status == "locked"


def test_bulk_state_signature_matches_the_casebook_hash(world):
    subject = world.subjects[("imrt", "A")]
    save("baseline", world, BASELINE)
    world.users["investigator"].set_password("pw-for-signing-1")
    world.users["investigator"].save()
    locks.sign_casebook(subject, world.users["investigator"], "pw-for-signing-1")
    assert casebook_state.load_state(subject).signed is True
    assert locks.signature_current(subject) is not None
    save("lab", world, {"week": 1, "sample_date": TODAY, "term": "anemia", "value": 125, "unit": "g/L", "lln": 120, "lln_unit": "g/L"})
    assert casebook_state.load_state(subject).signed is False
    assert locks.signature_current(subject) is None


def test_nothing_to_report_completes_a_form_with_a_reason(world, coordinator):
    _rt(world)
    mark_url = url("form-mark", world)
    r = coordinator.post(mark_url, {"event": "ccrt_w1", "form": "ae", "kind": "none", "reason": ""})
    assert r.status_code == 302 and not NothingToReport.objects.exists()  # a reason is required
    coordinator.post(mark_url, {"event": "ccrt_w1", "form": "ae", "kind": "none", "reason": "no adverse event"})
    mark = NothingToReport.objects.get()
    assert (mark.event, mark.form, mark.recorded_by.username) == ("ccrt_w1", "ae", "coordinator")
    cell = _cell(_grid(world), "ccrt_w1", "ae")
    assert cell.status == "complete" and cell.mark.reason == "no adverse event"
    coordinator.post(mark_url, {"event": "ccrt_w1", "form": "followup", "kind": "none", "reason": "x"})
    assert NothingToReport.objects.count() == 1  # follow-up is not collected in week 1
    coordinator.post(mark_url, {"event": "ccrt_w2", "form": "drug", "kind": "not_done", "reason": "missed visit"})
    assert _cell(_grid(world), "ccrt_w2", "drug").status == "not_done"
    coordinator.post(mark_url, {"action": "remove", "mark": mark.pk, "reason": ""})
    assert NothingToReport.objects.filter(pk=mark.pk).exists()
    coordinator.post(mark_url, {"action": "remove", "mark": mark.pk, "reason": "an AE was found in the notes"})
    assert not NothingToReport.objects.filter(pk=mark.pk).exists()
    assert mark.history.filter(history_type="-").get().history_change_reason == "an AE was found in the notes"


def test_a_form_with_records_cannot_be_marked(world, coordinator):
    _rt(world)
    save("lab", world, {"week": 1, "sample_date": RT_START, "term": "anemia", "value": 125, "unit": "g/L", "lln": 120, "lln_unit": "g/L"})
    r = coordinator.post(url("form-mark", world), {"event": "ccrt_w1", "form": "lab", "kind": "none", "reason": "x"},
                         follow=True)
    assert "already has 1 record" in r.content.decode()
    assert not NothingToReport.objects.exists()


def test_event_page_lists_the_forms_and_records_with_add_links(world, coordinator):
    _rt(world)
    save("lab", world, {"week": 1, "sample_date": RT_START, "term": "anemia", "value": 125, "unit": "g/L", "lln": 120, "lln_unit": "g/L"})
    page = coordinator.get(url("event-detail", world, event="ccrt_w1"))
    html = page.content.decode()
    assert page.status_code == 200
    assert 'id="form-lab"' in html and 'id="form-ae"' in html and 'id="form-followup"' not in html
    assert "?event=ccrt_w1" in html and 'id="add-ae"' in html
    assert coordinator.get(url("event-detail", world, event="ccrt_w99")).status_code == 404
    monitor = login(type(coordinator)(), "monitor")
    assert 'id="add-ae"' not in monitor.get(url("event-detail", world, event="ccrt_w1")).content.decode()


def test_casebook_shows_the_grid(world, coordinator):
    html = coordinator.get(url("casebook", world)).content.decode()
    assert 'id="event-grid"' in html and 'data-event="ccrt_w1"' in html and "CCRT week 7" in html


@pytest.fixture
def dash(world):
    _rt(world, "A")
    _rt(world, "B")
    save("lab", world, {"week": 1, "sample_date": RT_START, "term": "anemia", "value": 125, "unit": "g/L",
                        "lln": 120, "lln_unit": "g/L"}, site="B")
    return reverse("status-dashboard", kwargs={"study_pk": world.studies["imrt"].pk})


def test_dashboard_lists_subjects_by_events_with_overdue_and_upcoming(world, dash):
    dm = login(Client(), "data_manager")
    page = dm.get(dash)
    html = page.content.decode()
    a, b = world.subjects[("imrt", "A")].subject_id, world.subjects[("imrt", "B")].subject_id
    assert f'data-subject="{a}"' in html and f'data-subject="{b}"' in html
    board = page.context["board"]
    assert [c.key for c in board.columns][:3] == ["screening", "baseline", "ccrt_w1"]
    overdue = {(v.subject.subject_id, v.event.key) for v in board.overdue}
    assert (a, "ccrt_w1") in overdue and (b, "ccrt_w1") not in overdue  # B has its week-1 lab
    assert (a, "ccrt_w4") in overdue
    w4 = next(v for v in board.overdue if v.subject.subject_id == a and v.event.key == "ccrt_w4")
    assert w4.days == 30 - 27  # window closed on day 27
    upcoming = {(v.subject.subject_id, v.event.key, v.days) for v in board.upcoming}
    assert (a, "ccrt_w5", 0) in upcoming and (a, "ccrt_w6", 5) in upcoming
    assert board.counts["overdue"] == 2


def test_dashboard_filters_by_site_and_status(world, dash):
    dm = login(Client(), "data_manager")
    a, b = world.subjects[("imrt", "A")].subject_id, world.subjects[("imrt", "B")].subject_id
    html = dm.get(dash + "?site=HK").content.decode()
    assert f'data-subject="{b}"' in html and f'data-subject="{a}"' not in html
    save("baseline", world, {**BASELINE, **LABS})
    rows = dm.get(dash + "?status=not_started").context["board"].rows
    assert {r.subject.subject_id for r in rows} == {a, b}  # both have never-started events
    for key in (("imrt", "A"), ("imrt", "B")):  # the world's screening queries
        close_query(world.queries[key], user=world.users["data_manager"])
    # the fixture's RT course starts 30 days before today's enrolment: edit check RT-BEFORE-ENROLMENT asked
    for q in DataQuery.objects.filter(edit_check="RT-BEFORE-ENROLMENT").exclude(status="closed"):
        close_query(q, user=world.users["data_manager"], note="confirmed")
    assert dm.get(dash + "?status=query").context["board"].rows == ()
    lab = LabResult.objects.get()
    raise_query(world.subjects[("imrt", "B")], record=f"lab:{lab.pk}", field_name="value", text="?",
                user=world.users["data_manager"])
    rows = dm.get(dash + "?status=query").context["board"].rows
    assert [r.subject.subject_id for r in rows] == [b]
    assert dm.get(dash + "?status=bogus&site=XX").status_code == 200  # unknown filters are ignored


def test_a_site_coordinator_sees_only_their_site_on_the_dashboard(world, dash, coordinator):
    page = coordinator.get(dash)
    ids = {r.subject.subject_id for r in page.context["board"].rows}
    assert ids == {world.subjects[("imrt", "A")].subject_id}
    assert all(v.subject.site.code == "GZ" for v in page.context["board"].overdue)
