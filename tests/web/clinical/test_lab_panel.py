"""The lab panel page: one submission for a weekly panel, LLN/ULN from the site's range in force on the sample date.

Expected grades are read from CTCAE v4.03 (NCI, 14 June 2010) by hand, not from the code:
Anemia G2 "<10.0 - 8.0 g/dL"; Platelet count decreased G1 "<LLN - 75,000/mm3";
White blood cell decreased G1 "<LLN - 3,000/mm3"; Neutrophil count decreased G2 "<1,500 - 1,000/mm3";
ALT increased G1 ">ULN - 3.0 x ULN"; Blood bilirubin increased G2 ">1.5 - 3.0 x ULN".
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from npctrial.web.clinical.lab_ranges import add_range
from npctrial.web.clinical.models import LabReferenceRange, LabResult
from tests.web.conftest import World, login

D = date(2026, 1, 20)

#: site GZ's laboratory, in its own units (analyte, unit, lln, uln)
GZ_RANGES = [("wbc", "10^9/L", 4.0, 10.0), ("neutrophils", "10^9/L", 2.0, 7.0), ("lymphocytes", "10^9/L", 0.8, 4.0),
             ("hemoglobin", "g/L", 130, 175), ("platelets", "10^9/L", 125, 350), ("alt", "U/L", None, 40),
             ("ast", "U/L", None, 35), ("bilirubin", "umol/L", None, 21), ("albumin", "g/L", 40, 55),
             ("creatinine", "umol/L", 57, 111)]


def ranges(world: World, site: str = "A", study: str = "imrt", on: date = date(2025, 1, 1),
           rows: list[tuple[str, str, Any, Any]] | None = None) -> None:
    for analyte, unit, lln, uln in rows or GZ_RANGES:
        add_range(world.studies[study], world.sites[site].code, analyte=analyte, unit=unit, lln=lln, uln=uln,
                  effective_from=on, user=world.users["data_manager"])


def panel_url(world: World, study: str = "imrt", site: str = "A", **kw: Any) -> str:
    return reverse("lab-panel", kwargs={"study_pk": world.studies[study].pk, "pk": world.subjects[(study, site)].pk})


#: the ten values of one week (the unit is the field's own unit of the range unless given)
TEN = {"wbc": ("3.5", "10^9/L"), "neutrophils": ("1.2", "10^9/L"), "lymphocytes": ("0.9", "10^9/L"),
       "hemoglobin": ("9.5", "g/dL"), "platelets": ("100", "10^9/L"), "alt": ("60", "U/L"), "ast": ("30", "U/L"),
       "bilirubin": ("2.5", "mg/dL"), "albumin": ("42", "g/L"), "creatinine": ("80", "umol/L")}


def panel_data(values: dict[str, tuple[str, str]], sample_date: str = D.isoformat(), week: str = "2",
               **extra: str) -> dict[str, str]:
    out = {"panel": "weekly", "sample_date": sample_date, "week": week, **extra}
    for key, (value, unit) in values.items():
        out[f"{key}-value"] = value
        out[f"{key}-unit"] = unit
    return out


@pytest.fixture
def coordinator(world: World) -> Client:
    return login(Client(), "coordinator")


def test_ten_analytes_saved_in_one_submission_as_lab_records(world, coordinator):
    ranges(world)
    response = coordinator.post(panel_url(world), panel_data(TEN))
    assert response.status_code == 302, response.content.decode()[:3000]
    saved = {r.term: r for r in LabResult.objects.filter(subject=world.subjects[("imrt", "A")])}
    assert len(saved) == 10
    hb = saved["anemia"]
    assert (hb.value, hb.unit, hb.lln, hb.lln_unit, hb.sample_date, hb.week) == (9.5, "g/dL", 130, "g/L", D, 2)
    assert hb.suggested_grade == hb.grade == 2  # 9.5 g/dL: <10.0 - 8.0 g/dL
    assert saved["platelet_count_decreased"].grade == 1  # 100 < LLN 125, >= 75
    assert saved["white_blood_cell_decreased"].grade == 1  # 3.5 < LLN 4.0, >= 3.0
    assert saved["neutrophil_count_decreased"].grade == 2  # 1.2: <1.5 - 1.0
    assert saved["alanine_aminotransferase_increased"].grade == 1  # 60 = 1.5 x ULN 40
    assert saved["aspartate_aminotransferase_increased"].grade == 0
    assert saved["alanine_aminotransferase_increased"].uln == 40 and saved["alanine_aminotransferase_increased"].lln is None
    # the record names the range version it copied in its audit trail
    alt = saved["alanine_aminotransferase_increased"]
    reason = alt.history.earliest().history_change_reason
    r = LabReferenceRange.objects.get(analyte="alt")
    assert f"#{r.pk}" in reason and "2025-01-01" in reason


def test_blank_rows_are_skipped_not_errors(world, coordinator):
    ranges(world)
    response = coordinator.post(panel_url(world), panel_data({"hemoglobin": ("120", "g/L")},
                                                             **{"alt-unit": "U/L", "ast-value": " "}))
    assert response.status_code == 302
    assert list(LabResult.objects.values_list("term", flat=True)) == ["anemia"]


def test_one_bad_row_saves_nothing_and_names_its_row_and_field(world, coordinator):
    ranges(world)
    bad = {**TEN, "platelets": ("lots", "10^9/L"), "hemoglobin": ("9.5", "g/L")}  # 9.5 g/L: a g/dL value
    response = coordinator.post(panel_url(world), panel_data(bad))
    assert response.status_code == 400
    assert LabResult.objects.count() == 0
    page = response.content.decode()
    for key in ("platelets", "hemoglobin"):
        row = page.split(f'data-row="{key}"')[1].split("</tr>")[0]
        assert 'data-error="value"' in row, key
    assert "9.5 g/dL = 95 g/L" in page  # the domain's hint: the number is plausible in g/dL
    ok_row = page.split('data-row="wbc"')[1].split("</tr>")[0]
    assert "data-error" not in ok_row and 'value="3.5"' in ok_row  # what was typed is kept


def test_missing_range_is_a_row_error(world, coordinator):
    ranges(world, rows=[("hemoglobin", "g/L", 130, 175)])
    response = coordinator.post(panel_url(world), panel_data({"hemoglobin": ("120", "g/L"), "alt": ("50", "U/L")}))
    assert response.status_code == 400 and LabResult.objects.count() == 0
    row = response.content.decode().split('data-row="alt"')[1].split("</tr>")[0]
    assert "no reference range" in row


def test_range_copied_is_the_version_in_force_on_the_sample_date_including_its_first_day(world, coordinator):
    ranges(world, rows=[("alt", "U/L", None, 40)], on=date(2025, 1, 1))
    ranges(world, rows=[("alt", "U/L", None, 50)], on=date(2026, 1, 20))
    for day, week in (("2026-01-19", "1"), ("2026-01-20", "2")):
        assert coordinator.post(panel_url(world), panel_data({"alt": ("100", "U/L")}, sample_date=day,
                                                             week=week)).status_code == 302
    by_day = {r.sample_date.isoformat(): r for r in LabResult.objects.all()}
    assert by_day["2026-01-19"].uln == 40 and by_day["2026-01-19"].grade == 1  # 100 = 2.5 x 40
    assert by_day["2026-01-20"].uln == 50 and by_day["2026-01-20"].grade == 1  # the new version from that day
    # and the page shows the range of the date asked for
    page = coordinator.get(panel_url(world), {"sample_date": "2026-01-19"}).content.decode()
    row = page.split('data-row="alt"')[1].split("</tr>")[0]
    assert "40 U/L" in row and "2025-01-01" in row
    page = coordinator.get(panel_url(world), {"sample_date": "2026-01-20"}).content.decode()
    assert "50 U/L" in page.split('data-row="alt"')[1].split("</tr>")[0]


def test_bilirubin_in_mg_dl_against_a_uln_in_umol_l_grades_as_the_domain(world, coordinator):
    ranges(world, rows=[("bilirubin", "umol/L", None, 20)])
    # the domain's own example: 3 mg/dL with ULN 20 umol/L (1.169 mg/dL) = 2.57 x ULN, grade 2
    assert coordinator.post(panel_url(world), panel_data({"bilirubin": ("3", "mg/dL")})).status_code == 302
    r = LabResult.objects.get()
    assert (r.unit, r.uln, r.uln_unit, r.suggested_grade, r.grade) == ("mg/dL", 20, "umol/L", 2, 2)
    # 1.5 mg/dL = 25.7 umol/L = 1.28 x ULN: grade 1 (live grade endpoint, the same domain grader)
    url = reverse("lab-panel-grade", kwargs={"study_pk": world.studies["imrt"].pk,
                                             "pk": world.subjects[("imrt", "A")].pk})
    grade = coordinator.post(url, {"analyte": "bilirubin", "bilirubin-value": "1.5", "bilirubin-unit": "mg/dL",
                                   "sample_date": D.isoformat()})
    assert 'data-grade="1"' in grade.content.decode()


def test_the_same_analyte_twice_on_one_date_opens_a_query_as_the_single_form_does(world, coordinator):
    from npctrial.web.core.models import DataQuery

    ranges(world)
    assert coordinator.post(panel_url(world), panel_data({"alt": ("50", "U/L")})).status_code == 302
    assert coordinator.post(panel_url(world), panel_data({"alt": ("52", "U/L")})).status_code == 302
    assert LabResult.objects.count() == 2
    second = LabResult.objects.order_by("pk").last()
    assert DataQuery.objects.filter(record=f"lab:{second.pk}", status="open").exists()


def test_grade_override_needs_a_reason_on_its_row(world, coordinator):
    ranges(world)
    response = coordinator.post(panel_url(world), panel_data({"alt": ("60", "U/L")}, **{"alt-grade": "2"}))
    assert response.status_code == 400
    row = response.content.decode().split('data-row="alt"')[1].split("</tr>")[0]
    assert 'data-error="override_reason"' in row
    response = coordinator.post(panel_url(world), panel_data({"alt": ("60", "U/L")}, **{
        "alt-grade": "2", "alt-override_reason": "rising fast, clinical judgement"}))
    assert response.status_code == 302 and LabResult.objects.get().grade == 2


def test_the_page_preselects_the_range_unit_and_the_week_of_the_event(world, coordinator):
    from npctrial.web.clinical.schedule import events_of

    ranges(world, rows=[("bilirubin", "mg/dL", None, 1.2)])
    s = world.subjects[("imrt", "A")]
    week = next(e for e in events_of(s.protocol_version) if e.anchor == "rt_start" and e.occurrence == 3)
    page = coordinator.get(panel_url(world), {"sample_date": D.isoformat(), "event": week.id}).content.decode()
    row = page.split('data-row="bilirubin"')[1].split("</tr>")[0]
    assert '<option value="mg/dL" selected>' in row
    assert 'name="week" id="id_week" min="0" value="3"' in page


def test_header_problems_are_named(world, coordinator):
    ranges(world)
    response = coordinator.post(panel_url(world), panel_data({"alt": ("60", "U/L")}, sample_date="20/01/2026",
                                                             week="x"))
    assert response.status_code == 400
    errors = response.content.decode().split('id="panel-errors"')[1].split("</ul>")[0]
    assert 'data-field="sample_date"' in errors and 'data-field="week"' in errors
    empty = coordinator.post(panel_url(world), panel_data({}))
    assert empty.status_code == 400 and 'data-field="rows"' in empty.content.decode()


def test_the_panel_and_the_range_page_read_in_chinese(world, coordinator):
    zh = {"HTTP_ACCEPT_LANGUAGE": "zh-CN,zh;q=0.9"}
    ranges(world, rows=[("hemoglobin", "g/L", 130, 175)])
    page = coordinator.post(panel_url(world), panel_data({"hemoglobin": ("120", "g/L"), "alt": ("50", "U/L")}), **zh)
    html = page.content.decode()
    assert page.status_code == 400 and "血常规" in html and "保存检验组合" in html
    assert "没有现行的" in html.split('data-row="alt"')[1].split("</tr>")[0]  # the row's problem, in Chinese
    dm = login(Client(), "data_manager")
    refused = dm.post(reverse("lab-ranges", kwargs={"study_pk": world.studies["imrt"].pk}),
                      {"site": "GZ", "analyte": "alt", "unit": "U/L", "effective_from": "2026-01-01"}, **zh)
    assert refused.status_code == 400 and "请填写" in refused.content.decode()  # coded domain message, translated


def test_a_new_sample_date_answers_only_the_ranges_in_force_that_day_out_of_band(world, coordinator):
    """The date's htmx re-read fills the range cells only (never the rows and their typed values) and
    asks the rows to grade again; a date before any range says so in the range cell."""
    ranges(world, on=date(2026, 1, 1), rows=[("alt", "U/L", None, 40)])
    url = panel_url(world)
    answer = coordinator.get(url, {"panel": "weekly", "sample_date": "2026-01-20", "ranges": "1", "alt-value": "130"},
                             HTTP_HX_REQUEST="true")
    body = answer.content.decode()
    assert answer["HX-Trigger-After-Settle"] == "lab-ranges-changed"
    assert 'id="uln-alt" data-ref="uln" hx-swap-oob="true">40 U/L</td>' in body
    assert "<input" not in body and "<select" not in body  # nothing the coordinator types is sent back
    before = coordinator.get(url, {"panel": "weekly", "sample_date": "2025-12-31", "ranges": "1"},
                             HTTP_HX_REQUEST="true").content.decode()
    assert 'id="uln-alt" data-ref="uln" hx-swap-oob="true">–</td>' in before
    assert "no range in force on this date" in before.split('id="range-alt"')[1].split("</td>")[0]
    full = coordinator.get(url, {"panel": "weekly", "sample_date": "2026-01-20", "ranges": "1"})  # not htmx
    assert 'id="id_alt-value"' in full.content.decode()


def test_a_panel_re_checks_the_subjects_records_with_open_automatic_queries_once_not_per_row(world, coordinator):
    """Each record with an open automatic query is re-checked after a save (a later record may resolve
    it); a ten-row panel does that once after its rows, not ten times."""
    from unittest import mock

    from npctrial.web.clinical import checks
    from npctrial.web.core.models import DataQuery
    from tests.web.clinical.conftest import save

    ranges(world)
    save("ae", world, {"week": 3, "term": "mucositis_oral", "grade": 5, "attribution": "probable", "serious": True,
                       "start_date": date(2026, 1, 26)})  # grade 5 without a death event: an automatic query
    subject = world.subjects[("imrt", "A")]
    assert DataQuery.objects.filter(subject=subject).exclude(edit_check="").exclude(status="closed").exists()
    with mock.patch.object(checks, "evaluate_record", wraps=checks.evaluate_record) as evaluated:
        response = coordinator.post(panel_url(world), panel_data(TEN))
    assert response.status_code == 302
    assert [c.args[0] for c in evaluated.call_args_list].count("ae") == 1
