"""Protocol-declared forms on the pages: the nutrition form of imrt-s1 entered, edited and refused
field by field, only through the domain's check (npctrial.domain.declared_forms.check_form_values)."""

from __future__ import annotations

import json
from datetime import date

import pytest
from django.test import Client

from npctrial.web.clinical.locks import lock
from npctrial.web.clinical.models import DeclaredRecord
from npctrial.web.clinical.views.grid import subject_grid
from tests.web.clinical.conftest import RT, save, url
from tests.web.conftest import login

BASELINE = {"assessment_date": date(2026, 1, 6), "height_cm": 170, "weight_kg": 62, "t_category": "T3",
            "n_category": "N1", "m_category": "M0"}
#: A week-1 nutrition record with a feeding tube (RT starts 2026-01-12: week 1 is 12-18 January).
NUTRITION = {"assessment_date": "2026-01-14", "weight_kg": "58.9", "oral_intake": "reduced", "supplements": "yes",
             "feeding_tube": "yes", "tube_type": "nasogastric", "tube_date": "2026-01-13", "notes": ""}


def _new(client: Client, world, data: dict, **kw) -> object:
    return client.post(url("crf-new", world, form="nutrition", **kw), data)


def _errors(response) -> str:
    return response.content.decode()


@pytest.fixture
def with_baseline(world):
    save("baseline", world, BASELINE)
    save("radiotherapy", world, RT)
    return world


def test_the_page_shows_inputs_by_type_labels_units_help_and_required_marks(with_baseline, coordinator):
    html = coordinator.get(url("crf-new", with_baseline, form="nutrition")).content.decode()
    assert 'type="date" name="assessment_date"' in html
    assert "Weight (kg)" in html and 'inputmode="decimal"' in html
    assert '<option value="half_or_less">Half of usual or less</option>' in html  # choices by label
    assert '<option value="yes">Yes</option>' in html  # booleans as Yes/No
    assert 'class="required"' in html and "From the baseline CRF" not in html  # help text as written
    assert "(weight - baseline weight) / baseline weight x 100, from the baseline CRF." in html
    assert 'data-calculated="bmi"' in html  # calculated: read-only output, no input
    assert 'name="bmi"' not in html
    # tube type is asked only with a feeding tube: hidden and disabled until then
    assert '<p data-field="tube_type" hidden>' in html
    assert 'static/clinical/declared.js' in html and "<script>" not in html


def test_a_record_is_created_with_calculated_values_by_hand_and_placed_in_the_week(with_baseline, coordinator):
    r = _new(coordinator, with_baseline, NUTRITION)
    assert r.status_code == 302, _errors(r)
    rec = DeclaredRecord.objects.get(form="nutrition")
    # by hand: (58.9 - 62) / 62 x 100 = -5.0 %; 58.9 / 1.70^2 = 20.38 -> 20.4; -5.0 <= -5 -> true
    assert rec.calculated == {"weight_change_pct": -5.0, "weight_loss_5pct": True, "bmi": 20.4}
    assert rec.values["weight_kg"] == 58.9 and rec.values["feeding_tube"] is True
    assert rec.values["tube_type"] == "nasogastric" and rec.values["notes"] is None
    assert rec.record_date == date(2026, 1, 14) and rec.event == "ccrt_w1"
    assert rec.created_by.username == "coordinator" and rec.protocol_version_id
    g = subject_grid(with_baseline.subjects[("imrt", "A")])
    cell = next(c for c in g.row("ccrt_w1").cells if c.form == "nutrition")
    assert cell.status == "complete" and len(cell.records) == 1
    assert next(c for c in g.row("ccrt_w2").cells if c.form == "nutrition").status == "not_started"


@pytest.mark.parametrize(("change", "field", "text"), [
    ({"weight_kg": ""}, "weight_kg", "is required"),
    ({"weight_kg": "abc"}, "weight_kg", "must be a number"),
    ({"weight_kg": "400"}, "weight_kg", "250"),
    ({"assessment_date": "14/01/2026"}, "assessment_date", "must be a date"),
    ({"oral_intake": "lots"}, "oral_intake", "must be one of"),
    ({"supplements": "maybe"}, "supplements", "must be true or false"),
    ({"tube_type": ""}, "tube_type", "is required"),
    ({"notes": "x" * 301}, "notes", "at most 300 characters"),
    ({"feeding_tube": "no"}, "tube_type", "must be empty"),  # a hidden field sent with a value
    ({"bmi": "22"}, "bmi", "is calculated, not entered"),
])
def test_every_kind_of_error_is_shown_on_its_field_and_nothing_is_saved(with_baseline, coordinator, change, field,
                                                                       text):
    r = _new(coordinator, with_baseline, {**NUTRITION, **change})
    html = _errors(r)
    assert r.status_code == 200 and text in html
    row = html.split(f'data-field="{field}"', 1)[1].split("</p>", 1)[0]
    assert "errorlist" in row and text in row  # on the field it concerns
    assert not DeclaredRecord.all_objects.exists()


def test_without_a_tube_the_tube_fields_are_stored_empty(with_baseline, coordinator):
    data = {k: v for k, v in NUTRITION.items() if k not in ("tube_type", "tube_date")}
    r = _new(coordinator, with_baseline, {**data, "feeding_tube": "no"})
    assert r.status_code == 302, _errors(r)
    rec = DeclaredRecord.objects.get()
    assert rec.values["tube_type"] is None and rec.values["tube_date"] is None


def test_calculations_stay_empty_without_a_baseline(world, coordinator):
    r = _new(coordinator, world, NUTRITION)
    assert r.status_code == 302, _errors(r)
    assert DeclaredRecord.objects.get().calculated == {"weight_change_pct": None, "weight_loss_5pct": None,
                                                       "bmi": None}


def test_an_edit_needs_a_reason_and_the_version_and_is_audited(with_baseline, coordinator):
    _new(coordinator, with_baseline, NUTRITION)
    rec = DeclaredRecord.objects.get()
    page = coordinator.get(url("crf-edit", with_baseline, form="nutrition", record_pk=rec.pk)).content.decode()
    assert 'value="58.9"' in page and '<option value="nasogastric" selected>' in page
    edit = url("crf-edit", with_baseline, form="nutrition", record_pk=rec.pk)
    r = coordinator.post(edit, {**NUTRITION, "weight_kg": "60", "version": rec.version})
    assert r.status_code == 200 and "reason" in _errors(r).lower()
    r = coordinator.post(edit, {**NUTRITION, "weight_kg": "abc", "version": rec.version, "reason": "typo"})
    assert "must be a number" in _errors(r)
    r = coordinator.post(edit, {**NUTRITION, "weight_kg": "60", "version": rec.version, "reason": "scale re-read"})
    assert r.status_code == 302
    rec.refresh_from_db()
    # by hand: (60 - 62) / 62 x 100 = -3.2258 -> -3.2; 60 / 2.89 = 20.76 -> 20.8
    assert rec.values["weight_kg"] == 60.0 and rec.calculated["weight_change_pct"] == -3.2
    assert rec.calculated["bmi"] == 20.8 and rec.calculated["weight_loss_5pct"] is False
    last = rec.history.order_by("-history_id").first()
    assert last.history_change_reason == "scale re-read" and last.history_user.username == "coordinator"
    r = coordinator.post(edit, {**NUTRITION, "version": 1, "reason": "stale"})  # the version read is old
    assert 'id="conflict"' in _errors(r)


def test_a_locked_subject_refuses_new_records_and_edits(with_baseline, coordinator):
    _new(coordinator, with_baseline, NUTRITION)
    rec = DeclaredRecord.objects.get()
    subject = with_baseline.subjects[("imrt", "A")]
    lock(subject.study, with_baseline.users["data_manager"], subject)
    r = _new(coordinator, with_baseline, {**NUTRITION, "assessment_date": "2026-01-20"})
    assert "is locked" in _errors(r)
    r = coordinator.post(url("crf-edit", with_baseline, form="nutrition", record_pk=rec.pk),
                         {**NUTRITION, "weight_kg": "61", "version": rec.version, "reason": "x"})
    assert "is locked" in _errors(r)
    assert DeclaredRecord.objects.count() == 1 and DeclaredRecord.objects.get().version == 1


def test_the_preview_says_what_is_hidden_and_calculated(with_baseline, coordinator):
    preview = url("declared-preview", with_baseline, form="nutrition")
    data = json.loads(coordinator.post(preview, {"weight_kg": "58.9", "feeding_tube": "no"}).content)
    assert "tube_type" in data["hidden"] and "tube_date" in data["hidden"]
    assert data["calculated"]["weight_change_pct"] == "-5.0" and data["calculated"]["bmi"] == "20.4"
    data = json.loads(coordinator.post(preview, {"weight_kg": "junk", "feeding_tube": "yes"}).content)
    assert data["hidden"] == [] and data["calculated"]["bmi"] == ""


def test_unknown_forms_and_other_protocols_forms_are_404(world, coordinator):
    assert coordinator.get(url("crf-new", world, form="nosuch")).status_code == 404
    assert coordinator.get(url("crf-new", world, study="ccrt", form="nutrition")).status_code == 404
    assert coordinator.get(url("declared-list", world, form="ebv_dna")).status_code == 404
    assert coordinator.get(url("crf-new", world, study="ccrt", form="ebv_dna")).status_code == 200


def test_the_list_and_record_pages_show_readable_values(with_baseline, coordinator):
    _new(coordinator, with_baseline, NUTRITION)
    rec = DeclaredRecord.objects.get()
    html = coordinator.get(url("declared-list", with_baseline, form="nutrition")).content.decode()
    assert "Reduced, more than half of usual" in html and "58.9" in html
    view = coordinator.get(url("crf-view", with_baseline, form="nutrition", record_pk=rec.pk)).content.decode()
    assert "Nasogastric tube" in view and "Yes" in view and "20.4" in view and "Body-mass index (kg/m2)" in view
    monitor = login(Client(), "monitor")
    assert monitor.get(url("crf-view", with_baseline, form="nutrition", record_pk=rec.pk)).status_code == 200
    assert monitor.post(url("crf-new", with_baseline, form="nutrition"), NUTRITION).status_code == 403


def test_the_form_and_its_errors_in_chinese(with_baseline, coordinator):
    coordinator.defaults.update({"HTTP_ACCEPT_LANGUAGE": "zh-CN,zh;q=0.9"})
    page = coordinator.get(url("crf-new", with_baseline, form="nutrition")).content.decode()
    assert "同期放化疗期间体重与营养" in page and "体重 (kg)" in page and "鼻胃管" in page
    assert "计算得出" in page and "必填" in page
    r = _new(coordinator, with_baseline, {**NUTRITION, "weight_kg": ""})
    assert "为必填项" in r.content.decode()


def test_the_casebook_lists_the_declared_form_with_its_records(with_baseline, coordinator):
    _new(coordinator, with_baseline, NUTRITION)
    rec = DeclaredRecord.objects.get()
    html = coordinator.get(url("casebook", with_baseline)).content.decode()
    section = html.split('id="crf-nutrition"', 1)[1].split("</section>", 1)[0]
    assert "Weight and nutrition during CCRT" in section and f'data-record="{rec.pk}"' in section
    assert 'id="add-nutrition"' in section
    monitor = login(Client(), "monitor").get(url("casebook", with_baseline)).content.decode()
    assert f'value="nutrition:{rec.pk}"' in monitor.split('id="crf-nutrition"', 1)[1]  # a query on any field
    assert 'data-form="nutrition"' in html.split('id="event-grid"', 1)[1]  # a column of the grid
