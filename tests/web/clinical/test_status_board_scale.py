"""The status dashboard at scale: filtered and paginated before any page cell is built, a number of
SQL queries that does not grow with the number of subjects, and statuses identical to the grid's.

The world's IMRT study gets N extra subjects at sites GZ and HK (alternating); every third has a
radiotherapy course started 30 days ago (weeks 1-4 overdue when empty, week 5 due), every
fourth of those a week-1 lab with an open query, every fifth a "nothing to report" mark.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import resolve, reverse
from django.utils import timezone

from npctrial.web.clinical import casebook_state, grid, schedule
from npctrial.web.clinical.crfs import save_crf
from npctrial.web.clinical.marks import add_mark
from npctrial.web.clinical.sdv import critical_fields, verify_source
from npctrial.web.clinical.views import grid as grid_views
from npctrial.web.core.enrolment import enrol
from npctrial.web.core.models import Subject
from npctrial.web.core.queries import raise_query
from npctrial.web.core.screening import create_screening
from tests.web.conftest import IMRT_ELIGIBLE, login

TODAY = timezone.localdate()
RT_START = TODAY - timedelta(days=30)


def _add_subjects(world, n: int) -> list[Subject]:
    study = world.studies["imrt"]
    out = []
    for i in range(n):
        site, who = (("A", "coordinator"), ("B", "coordinator_b"))[i % 2]
        user = world.users[who]
        record = create_screening(study, world.sites[site], IMRT_ELIGIBLE, user)
        subject = enrol(record, consent_date=TODAY, consent_version="1.0", user=user)
        if i % 3 == 0:
            save_crf("radiotherapy", subject, {"technique": "IMRT", "total_dose_gy": 70.0, "fractions": 33,
                                               "start_date": RT_START}, user)
            if i % 4 == 0:
                lab, _ = save_crf("lab", subject, {"week": 1, "sample_date": RT_START + timedelta(days=2),
                                                   "term": "anemia", "value": 125, "unit": "g/L", "lln": 120,
                                                   "lln_unit": "g/L"}, user)
                raise_query(subject, record=f"lab:{lab.pk}", field_name="value", text="check",
                            user=world.users["data_manager"])
            if i % 5 == 0:
                add_mark(subject, "ccrt_w2", "ae", "none", "no AE this week", user)
        out.append(subject)
    return out


def _dashboard(world) -> str:
    return reverse("status-dashboard", kwargs={"study_pk": world.studies["imrt"].pk})


def _queries(client: Client, url: str) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as queries:
        page = client.get(url)
    assert page.status_code == 200
    return len(queries), page


def test_the_number_of_queries_does_not_grow_with_the_subjects(world):
    dm = login(Client(), "data_manager")
    url = _dashboard(world)
    _add_subjects(world, 20)
    dm.get(url)  # warm caches (session, protocol parsing)
    small = [_queries(dm, url + q)[0] for q in ("", "?status=overdue", "?site=HK&status=query")]
    _add_subjects(world, 40)
    large = [_queries(dm, url + q)[0] for q in ("", "?status=overdue", "?site=HK&status=query")]
    assert small == large, (small, large)
    assert max(large) <= 40


def test_filter_then_paginate_builds_cells_for_the_page_only(world, monkeypatch):
    monkeypatch.setattr(grid_views, "PAGE_SIZE", 10)
    extra = _add_subjects(world, 30)
    built: list[int] = []
    real = grid_views.status_board.page_cells
    monkeypatch.setattr(grid_views.status_board, "page_cells",
                        lambda study, rows: built.append(len(rows)) or real(study, rows))
    dm = login(Client(), "data_manager")
    url = _dashboard(world)
    page = dm.get(url + "?site=GZ&status=overdue&page=2")
    board = page.context["board"]
    # by hand: GZ subjects with radiotherapy are extra[0], [6], [12], [18], [24] (i % 6 == 0); every one has
    # weeks 3-4 overdue (nothing entered); the world's GZ subject has no radiotherapy (no dated week)
    expected = {s.subject_id for i, s in enumerate(extra) if i % 6 == 0}
    assert {r.subject.subject_id for r in board.rows} == expected
    assert page.context["page"].number == 1 and built == [5]  # 5 rows: page 2 does not exist, page 1 shown
    all_gz = dm.get(url + "?site=GZ&page=2")
    assert all_gz.context["page"].number == 2 and built[-1] == 6  # 16 GZ subjects: 10 on page 1, 6 on page 2
    assert all_gz.context["page"].paginator.count == 16
    html = all_gz.content.decode()
    assert html.count("<tr data-subject=") == 6
    # the counts and the overdue list concern every subject of the site, not only the page
    assert all_gz.context["board"].counts["overdue"] == 5
    assert {v.subject.subject_id for v in all_gz.context["board"].overdue} == expected


def test_every_cell_links_to_its_event_page(world):
    extra = _add_subjects(world, 3)
    dm = login(Client(), "data_manager")
    html = dm.get(_dashboard(world) + "?site=GZ").content.decode()
    subject = extra[0]
    href = reverse("event-detail", kwargs={"study_pk": world.studies["imrt"].pk, "pk": subject.pk, "event": "ccrt_w3"})
    assert f'href="{href}"' in html
    assert resolve(href).url_name == "event-detail"
    assert 'data-event="ccrt_w3" data-status="not_started" data-timing="overdue"' in html
    assert 'title="CCRT week 3: not started · overdue"' in html


@pytest.mark.parametrize("summary", [True, False])
def test_the_summary_has_the_statuses_and_timings_of_the_grid(world, summary):
    """Compared with the full grid (build_grid over model instances) for every subject."""
    extra = _add_subjects(world, 12)
    subject = extra[3]  # radiotherapy, no lab: a week-1 lab, source-data verified
    lab, _ = save_crf("lab", subject, {"week": 1, "sample_date": RT_START + timedelta(days=2), "term": "anemia",
                                       "value": 125, "unit": "g/L", "lln": 120, "lln_unit": "g/L"},
                      world.users["coordinator_b"])
    verify_source(subject, "lab", lab, user=world.users["monitor"], version=lab.version,
                  fields=critical_fields(subject.protocol_version, "lab"), whole_record=True)
    save_crf("baseline", extra[3], {"assessment_date": TODAY, "height_cm": 170, "weight_kg": 62, "t_category": "T3",
                                    "n_category": "N1", "m_category": "M0"}, world.users["coordinator_b"])
    subjects = list(Subject.objects.filter(study=world.studies["imrt"]).select_related("site", "screening"))
    full = casebook_state.load_states(subjects)
    light = casebook_state.load_states(subjects, summary=summary)
    statuses = set()
    for s in subjects:
        events = schedule.events_of(s.protocol_version)
        log_forms = schedule.log_forms_of_text(s.protocol_version.yaml_text)
        rows = grid.build_grid(full[s.pk], events, log_forms, TODAY).rows
        summary = grid.event_summary(light[s.pk], events, log_forms, TODAY)
        assert [(r.key, r.status, r.timing) for r in summary] == [(r.key, r.status, r.timing) for r in rows]
        assert light[s.pk].signed == full[s.pk].signed
        for row, mine in zip(rows, summary, strict=True):  # the cells a summary row holds are the grid's
            cells = {c.form: (c.status, c.queries, c.sdv, len(c.records)) for c in row.cells}
            assert {c.form: (c.status, c.queries, c.sdv, len(c.records)) for c in mine.cells}.items() <= cells.items()
            statuses |= {row.status, *(c.status for c in mine.cells)}
    assert {"query", "incomplete", "not_started", "complete", "verified"} <= statuses  # the comparison covers them
