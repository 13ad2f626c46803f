"""Forms people can read: labels with units and help, choice labels and one date format in tables,
date inputs in ISO whatever the language, values carried from screening to baseline (changing one
needs a reason, kept in the audit trail), and the record page with queries next to their field."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.test import Client
from django.utils import translation

from npctrial.web.clinical.models import Baseline
from npctrial.web.core.models import DataQuery
from tests.web.clinical.conftest import save, url
from tests.web.conftest import login

BASE = {"assessment_date": "2026-01-06", "tnm_edition": "8", "t_category": "T3", "n_category": "N1",
        "m_category": "M0", "height_cm": "170", "weight_kg": "62", "ecog": "1", "hb": "132", "platelets": "220",
        "wbc": "6.2", "alt": "28", "ast": "24", "creatinine": "72"}
# the world's seed-000 screening: bilirubin 0.7 mg/dL; 1 mg/dL = 17.104 umol/L (10 mg/L / 584.66 g/mol)
BILIRUBIN_UMOL = 0.7 * 17.104


def _label_for(html: str, name: str) -> str:
    m = re.search(rf'<label for="id_{name}">(.*?)</label>', html)
    assert m, name
    return m.group(1)


def test_form_fields_have_labels_with_units_and_help(world, coordinator):
    html = coordinator.get(url("crf-new", world, form="baseline")).content.decode()
    assert _label_for(html, "hb") == "Haemoglobin (g/L):"
    assert _label_for(html, "t_category") == "T category (AJCC 8th):"  # the protocol's label
    assert _label_for(html, "bilirubin") == "Total bilirubin (umol/L):"
    assert _label_for(html, "ecog") == "ECOG performance status:"
    assert "Ecog:" not in html and "Kps:" not in html
    assert 'type="date"' in html and 'name="assessment_date"' in html
    lab = coordinator.get(url("crf-new", world, form="lab")).content.decode()
    assert _label_for(lab, "lln") == "Lower limit of normal (LLN):" and "Lln:" not in lab
    assert "the site laboratory" in lab


def test_dates_are_iso_on_edit_whatever_the_language(world, coordinator):
    record = save("baseline", world, {"assessment_date": date(2026, 1, 6), "height_cm": 170, "weight_kg": 62,
                                      "t_category": "T3", "n_category": "N1", "m_category": "M0"})
    for lang in ("en-gb", "en-us", "zh-hans"):
        with translation.override(lang):
            html = coordinator.get(url("crf-edit", world, form="baseline", record_pk=record.pk)).content.decode()
        assert 'value="2026-01-06"' in html, lang
        assert "06/01/2026" not in html and "01/06/2026" not in html
    ae = save("ae", world, {"term": "mucositis_oral", "grade": 3, "attribution": "probable", "serious": True,
                            "start_date": date(2026, 1, 20)})
    html = coordinator.get(url("crf-edit", world, form="ae", record_pk=ae.pk)).content.decode()
    assert re.search(r'name="aware_at" value="\d{4}-\d{2}-\d{2}T\d{2}:\d{2}"', html)


def test_tables_show_choice_labels_yes_no_terms_and_iso_dates(world, coordinator):
    save("ae", world, {"term": "mucositis_oral", "grade": 2, "attribution": "probable", "serious": False,
                       "start_date": date(2026, 1, 20)})
    save("followup", world, {"visit_date": date(2026, 5, 1), "status": "alive_ned", "disease_assessed": True})
    save("rtog", world, {"assessment_date": date(2026, 1, 20), "scale": "acute", "organ": "mucous_membrane",
                         "grade": 2})
    html = coordinator.get(url("casebook", world)).content.decode()
    section = html[html.index('id="crf-ae"'):html.index('id="crf-rtog"')]
    assert "Mucositis oral" in section and "mucositis_oral</td>" not in section
    assert "<td>Probable</td>" in section and "<td>No</td>" in section and "False" not in section
    assert "<td>2026-01-20</td>" in section
    follow = html[html.index('id="crf-followup"'):html.index('id="crf-event"')]
    assert "Alive, no evidence of disease" in follow and "alive_ned" not in follow and "<td>Yes</td>" in follow
    rtog = html[html.index('id="crf-rtog"'):html.index('id="crf-assessment"')]
    assert "Acute (RTOG)" in rtog and "mucous_membrane</td>" not in rtog


def test_new_baseline_is_prefilled_from_screening_in_the_baseline_units(world, coordinator):
    page = coordinator.get(url("crf-new", world, form="baseline"))
    form = page.context["form"]
    assert form.initial["ecog"] == 1 and form.initial["t_category"] == "T3" and form.initial["hb"] == 132
    assert form.initial["tnm_edition"] == 8
    assert form.initial["bilirubin"] == pytest.approx(BILIRUBIN_UMOL, rel=1e-12)  # mg/dL at screening -> umol/L
    html = page.content.decode()
    assert "from screening: 0.7 mg/dL at screening S-GZ-0001" in html
    assert 'name="carry_reason"' in html


def test_unchanged_carried_values_are_saved_with_their_origin(world, coordinator):
    r = coordinator.post(url("crf-new", world, form="baseline"), {**BASE, "bilirubin": f"{BILIRUBIN_UMOL:.4f}"})
    assert r.status_code == 302, r.content.decode()[:3000]
    created = Baseline.objects.get().history.get(history_type="+")
    assert created.history_change_reason.startswith("carried forward from screening S-GZ-0001: ")
    assert "ecog" in created.history_change_reason and "changed" not in created.history_change_reason


def test_changing_a_carried_value_needs_a_reason_kept_in_the_audit_trail(world, coordinator):
    new = url("crf-new", world, form="baseline")
    r = coordinator.post(new, {**BASE, "ecog": "0"})
    assert r.status_code == 200 and not Baseline.objects.exists()
    errors = r.context["form"].errors
    assert "ecog" in errors and "was 1 at screening and is now 0" in errors["ecog"][0]
    r = coordinator.post(new, {**BASE, "ecog": "0", "carry_reason": "re-examined on the day of baseline"})
    assert r.status_code == 302
    reason = Baseline.objects.get().history.get(history_type="+").history_change_reason
    assert "changed: ecog 1 -> 0" in reason and "re-examined on the day of baseline" in reason


def test_record_page_lists_every_field_and_flags_queries_next_to_their_field(world):
    record = save("baseline", world, {"assessment_date": date(2026, 1, 6), "height_cm": 170, "weight_kg": 62,
                                      "t_category": "T3", "n_category": "N1", "m_category": "M0", "hb": 132})
    ref = f"baseline:{record.pk}"
    dm = login(Client(), "data_manager")
    view = url("crf-view", world, form="baseline", record_pk=record.pk)
    html = dm.get(view).content.decode()
    assert 'data-field="hb"' in html and "Haemoglobin (g/L)" in html and "Body surface area (BSA) (m²)" in html
    r = dm.post(url("query-raise", world), {"record": ref, "field_name": "hb", "text": "Hb 132 or 123?",
                                             "next": view})
    assert r.status_code == 302 and r["Location"] == view
    assert DataQuery.objects.get(record=ref).field_name == "hb"
    html = dm.get(view).content.decode()
    row = html[html.index('<tr data-field="hb"'):]
    row = row[:row.index("</tr>")]
    assert "Hb 132 or 123?" in row  # the query sits on the Hb row
    assert "Hb 132 or 123?" not in html[html.index('<tr data-field="weight_kg"'):html.index('<tr data-field="hb"')]
    coordinator = login(Client(), "coordinator")
    edit = coordinator.get(url("crf-edit", world, form="baseline", record_pk=record.pk)).content.decode()
    assert 'id="q-hb"' in edit and "Hb 132 or 123?" in edit and "has-query" in edit


def test_screening_values_read_yes_and_no(world, coordinator):
    from django.urls import reverse

    record = world.screenings[("imrt", "A")]
    html = coordinator.get(reverse("screening-detail", kwargs={"study_pk": world.studies["imrt"].pk,
                                                               "pk": record.pk})).content.decode()
    values = html[html.index("<h2>Values</h2>"):html.index("<h2>Criteria</h2>")]
    assert "<td>Yes </td>" in values and "<td>No </td>" in values  # histology confirmed; previous RT
    assert "True" not in values and "False" not in values
