"""Fuzz every CRF route, pages and API, with hypothesis: no input gives an HTTP 500.

Routes: API create (POST .../crf/{form}) and update (PATCH .../crf/{form}/{id}, right and wrong
versions), the page forms (new and edit), the live lab-grade (API and htmx), malformed JSON
bodies; then every read page of the study (casebook, report, PDF, data quality, exports) over
the data the fuzz left behind. Values are of every JSON type (numbers in date fields, NaN,
huge numbers, lists, objects, null, text, dd/mm dates) on every field of every form, and
"almost valid" records with one or two fields mutated (they reach the derivations and the edit
checks). Each example runs in a savepoint rolled back afterwards, so examples are independent.

Each test asserts the number of requests it made and prints it (``-s``).
"""

from __future__ import annotations

import json
import traceback
from datetime import date
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from npctrial.web.clinical.crfs import CRFS, LESION_FIELDS
from tests.web.clinical.conftest import RT, save
from tests.web.conftest import login

D = date(2026, 1, 13)
VALID: dict[str, dict[str, Any]] = {
    "baseline": {"assessment_date": D, "height_cm": 170, "weight_kg": 60, "tnm_edition": 8, "t_category": "T3",
                 "n_category": "N1", "m_category": "M0", "ecog": 1, "hb": 130},
    "radiotherapy": dict(RT),
    # baseline 170 cm, 60 kg: BSA 1.68 m2, the protocol band dose 50 mg
    "drug": {"drug": "S-1", "date": D, "planned_dose_mg": 50.0, "dose_mg": 50.0, "doses_planned": 14,
             "doses_taken": 13},
    "interruption": {"treatment": "radiotherapy", "start_date": D, "end_date": date(2026, 1, 15), "reason": "service"},
    "lab": {"week": 1, "sample_date": D, "term": "anemia", "value": 95.0, "unit": "g/L", "lln": 120.0,
            "lln_unit": "g/L"},
    "ae": {"week": 1, "term": "mucositis_oral", "grade": 2, "attribution": "probable", "start_date": D},
    "rtog": {"assessment_date": D, "scale": "acute", "organ": "mucous_membrane", "grade": 2},
    "assessment": {"assessment_date": D, "non_target": "CR", "new_lesions": "no"},
    "followup": {"visit_date": date(2026, 6, 1), "status": "alive_ned", "disease_assessed": True},
    "event": {"kind": "distant_metastasis", "event_date": date(2026, 7, 1), "sites": "lung"},
}
LESION = {"lesion_id": "T1", "location": "nasopharynx", "target": True, "nodal": False, "diameter_mm": 30.0}
COUNT = {"requests": 0}
EXAMPLES = 40
ALLOWED = {200, 201, 302, 400, 403, 404, 405, 409, 422}

TRICKY = st.sampled_from(["2026-01-15", "2026-13-45", "15/01/2026", "2026-02-30", "1e400", "NaN", "-1", "0", "",
                          " ", "IMRT", "anemia", "g/L", "mg/dL", "alive_ned", "death", "acute", "late", "other",
                          "mucous_membrane", "S-1", "nimotuzumab", "2026-01-15T08:30", "9999-12-31", "0001-01-01",
                          "T4", "N3", "M1", "on", "true", "null", "<script>", "杨", "10^9/L", "/mm3"])
VALUE = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**15), st.floats(allow_nan=True, allow_infinity=True),
                  TRICKY, st.text(max_size=12), st.lists(st.integers(0, 9), max_size=2),
                  st.dictionaries(st.text(max_size=3), st.integers(), max_size=1))


def _json(v: Any) -> Any:
    return v.isoformat() if isinstance(v, date) else v


def _values(form: str) -> st.SearchStrategy[dict[str, Any]]:
    fields = list(CRFS[form].fields)
    free = st.dictionaries(st.sampled_from([*fields, "bogus_field"]), VALUE, max_size=len(fields))
    valid = {k: _json(v) for k, v in VALID[form].items()}
    mutated = st.dictionaries(st.sampled_from(fields), VALUE, min_size=1, max_size=2).map(lambda m: {**valid, **m})
    dropped = st.sampled_from(fields).map(lambda k: {f: v for f, v in valid.items() if f != k})
    return st.one_of(free, mutated, dropped)


LESIONS = st.one_of(st.none(), st.lists(st.one_of(
    st.dictionaries(st.sampled_from([*LESION_FIELDS, "size"]), VALUE, max_size=5),
    st.dictionaries(st.sampled_from(list(LESION_FIELDS)), VALUE, max_size=2).map(lambda m: {**LESION, **m}),
    VALUE), max_size=3))


def _request(client: Client, method: str, url: str, data: Any = None, *, json_body: bool = False,
             raw: str | None = None) -> int:
    COUNT["requests"] += 1
    try:
        if raw is not None:
            resp = getattr(client, method)(url, raw, content_type="application/json")
        elif json_body:
            resp = getattr(client, method)(url, json.dumps(data, allow_nan=True), content_type="application/json")
        else:
            resp = getattr(client, method)(url, data or {})
    except Exception:  # the point of the test: any unhandled exception is the 500 a user would get
        pytest.fail(f"{method.upper()} {url} {data!r} raised:\n{traceback.format_exc()}")
    assert resp.status_code in ALLOWED, (method, url, data, resp.status_code, resp.content[:2000])
    return resp.status_code


def _page_data(values: dict[str, Any]) -> dict[str, str]:
    out = {}
    for k, v in values.items():
        if v is None or isinstance(v, dict):
            continue
        out[k] = ("on" if v else "") if isinstance(v, bool) else (",".join(map(str, v)) if isinstance(v, list) else str(v))
    return out


@pytest.fixture
def fuzz_world(world):
    """One record of every form for subject imrt A (the update routes need them)."""
    records = {}
    for form, values in VALID.items():
        records[form] = save(form, world, dict(values), lesions=[dict(LESION)] if form == "assessment" else None)
    return world, records


def _rolled_back(fn: Any) -> None:
    with transaction.atomic():
        fn()
        transaction.set_rollback(True)


FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large])


def _assert_requests_made(test: Any, minimum: int) -> None:
    """Run a hypothesis test; it must have made at least ``minimum`` requests (printed for the record)."""
    before = COUNT["requests"]
    test()
    made = COUNT["requests"] - before
    print(f"\n{made} fuzz requests, no HTTP 500")
    assert made >= minimum


@pytest.mark.parametrize("form", sorted(CRFS))
def test_api_create_and_update_never_500(fuzz_world, form):
    _assert_requests_made(lambda: _api_examples(fuzz_world, form), 2 * EXAMPLES)


def _api_examples(fuzz_world, form):
    @FUZZ
    @given(data=st.data())
    def examples(data):
        _api_example(fuzz_world, form, data)

    examples()


def _api_example(fuzz_world, form, data):
    world, records = fuzz_world
    client = login(Client(), "coordinator")
    s = world.subjects[("imrt", "A")]
    base = f"/api/v1/studies/{s.study_id}/subjects/{s.pk}/crf/{form}"
    values = data.draw(_values(form))
    lesions = data.draw(LESIONS) if form == "assessment" else None
    record = records[form]

    def run() -> None:
        _request(client, "post", base, {"values": values, "lesions": lesions}, json_body=True)
        version = data.draw(st.sampled_from([record.version, record.version + 7, -1]))
        patch = {"values": values, "version": version, "reason": data.draw(st.sampled_from(["fix", "", " "]))}
        if lesions is not None:
            patch["lesions"] = lesions
        _request(client, "patch", f"{base}/{record.pk}", patch, json_body=True)

    _rolled_back(run)


@pytest.mark.parametrize("form", sorted(CRFS))
def test_pages_new_and_edit_never_500(fuzz_world, form):
    @FUZZ
    @given(data=st.data())
    def examples(data):
        _page_example(fuzz_world, form, data)

    _assert_requests_made(examples, 2 * EXAMPLES)


def _page_example(fuzz_world, form, data):
    world, records = fuzz_world
    client = login(Client(), "coordinator")
    s = world.subjects[("imrt", "A")]
    values = _page_data(data.draw(_values(form)))
    if form == "assessment":
        rows = data.draw(st.lists(st.dictionaries(st.sampled_from(list(LESION_FIELDS)), VALUE, max_size=5), max_size=2))
        values.update({"lesions-TOTAL_FORMS": str(len(rows)), "lesions-INITIAL_FORMS": "0"})
        for i, row in enumerate(rows):
            values.update({f"lesions-{i}-{k}": v for k, v in _page_data(row).items()})
    kw = {"study_pk": s.study_id, "pk": s.pk, "form": form}
    record = records[form]

    def run() -> None:
        _request(client, "post", reverse("crf-new", kwargs=kw), values)
        version = data.draw(st.sampled_from([str(record.version), "x", "", str(record.version + 3)]))
        _request(client, "post", reverse("crf-edit", kwargs={**kw, "record_pk": record.pk}),
                 {**values, "version": version, "reason": "fuzz"})

    _rolled_back(run)


def test_lab_grade_and_malformed_bodies_never_500(fuzz_world):
    @FUZZ
    @given(body=st.dictionaries(st.sampled_from(["term", "value", "unit", "lln", "uln", "baseline", "lln_unit",
                                                 "uln_unit", "baseline_unit", "x"]), VALUE, max_size=6),
           raw=st.sampled_from(['{"values": 5}', "[]", "null", "{", '{"values": {"a": [1]}}', '"x"', "",
                                '{"values": {}, "lesions": 3}', '{"values": {}, "version": "a", "reason": 1}']))
    def examples(body, raw):
        _raw_example(fuzz_world, body, raw)

    _assert_requests_made(examples, 6 * EXAMPLES)


def _raw_example(fuzz_world, body, raw):
    world, records = fuzz_world
    client = login(Client(), "coordinator")
    s = world.subjects[("imrt", "A")]
    api = f"/api/v1/studies/{s.study_id}/subjects/{s.pk}"

    def run() -> None:
        _request(client, "post", f"{api}/lab-grade", body, json_body=True)
        _request(client, "post", reverse("lab-grade", kwargs={"study_pk": s.study_id, "pk": s.pk}), _page_data(body))
        for form in ("ae", "assessment"):
            _request(client, "post", f"{api}/crf/{form}", raw=raw)
            _request(client, "patch", f"{api}/crf/{form}/{records[form].pk}", raw=raw)

    _rolled_back(run)


def test_read_pages_survive_fuzzed_and_messy_data(fuzz_world):
    """Every read route of the study over data no form would accept today (written as a legacy import)."""
    from npctrial.web.clinical.demo_messy import load_messy_site
    from tests.web.conftest import IMRT_ELIGIBLE

    world, records = fuzz_world
    load_messy_site(world.studies["imrt"], "pw-for-fuzz-9", IMRT_ELIGIBLE)
    client = login(Client(), "data_manager")
    study = world.studies["imrt"]
    s = world.subjects[("imrt", "A")]
    urls = [reverse(n, kwargs={"study_pk": study.pk}) for n in
            ("clinical-home", "study-report", "study-report-pdf", "data-quality", "study-documentation",
             "export-index", "status-dashboard")]
    urls += [reverse("casebook", kwargs={"study_pk": study.pk, "pk": x.pk}) for x in study.subjects.all()]
    urls += [reverse("export-file", kwargs={"study_pk": study.pk, "name": n, "fmt": f})
             for n in ("adsl", "adae", "adtte") for f in ("csv", "xlsx")]
    urls += [reverse("export-file", kwargs={"study_pk": study.pk, "name": form, "fmt": "csv"}) for form in CRFS]
    urls += [f"/api/v1/studies/{study.pk}/{p}" for p in ("report", "data-quality", "edit-checks")]
    urls += [f"/api/v1/studies/{study.pk}/subjects/{x.pk}/casebook" for x in study.subjects.all()]
    _assert_requests_made(lambda: [_request(client, "get", u) == 200 or pytest.fail(u) for u in urls], len(urls))
    assert records and s



PANEL_KEYS = ["wbc", "neutrophils", "hemoglobin", "platelets", "alt", "bilirubin", "creatinine", "sodium", "bogus"]
UNITS = st.sampled_from(["10^9/L", "g/L", "g/dL", "U/L", "umol/L", "mg/dL", "mmol/L", "", "x\x00", "kg"])
PANEL_ROW = st.one_of(
    st.fixed_dictionaries({"analyte": st.sampled_from(PANEL_KEYS), "value": VALUE, "unit": st.one_of(UNITS, VALUE)},
                          optional={"grade": VALUE, "override_reason": VALUE, "bogus": VALUE}),
    VALUE)
PANEL_HEADER = st.fixed_dictionaries({}, optional={
    "panel": st.one_of(st.just("weekly"), VALUE), "sample_date": st.one_of(st.just("2026-01-20"), VALUE),
    "week": st.one_of(st.just(2), VALUE), "event": st.one_of(st.just("ccrt_w2"), VALUE)})


@pytest.fixture
def panel_world(fuzz_world):
    from tests.web.clinical.test_lab_panel import ranges

    ranges(fuzz_world[0])
    return fuzz_world


def test_lab_panel_page_api_and_live_grade_never_500(panel_world):
    @FUZZ
    @given(head=PANEL_HEADER, rows=st.one_of(st.lists(PANEL_ROW, max_size=6), VALUE))
    def examples(head, rows):
        _panel_example(panel_world, head, rows)

    _assert_requests_made(examples, 3 * EXAMPLES)


def _panel_example(panel_world, head, rows):
    world, _records = panel_world
    client = login(Client(), "coordinator")
    s = world.subjects[("imrt", "A")]
    kw = {"study_pk": s.study_id, "pk": s.pk}
    page = _page_data(head)
    for row in rows if isinstance(rows, list) else []:
        if isinstance(row, dict) and isinstance(row.get("analyte"), str):
            page.update({f"{row['analyte']}-{k}": v for k, v in _page_data(row).items() if k != "analyte"})

    def run() -> None:
        _request(client, "post", f"/api/v1/studies/{s.study_id}/subjects/{s.pk}/lab-panel", {**head, "rows": rows},
                 json_body=True)
        _request(client, "post", reverse("lab-panel", kwargs=kw), page)
        _request(client, "get", reverse("lab-panel", kwargs=kw), page)
        _request(client, "post", reverse("lab-panel-grade", kwargs=kw),
                 {**page, "analyte": rows[0].get("analyte") if rows and isinstance(rows, list)
                  and isinstance(rows[0], dict) else "alt"})

    _rolled_back(run)


RANGE_FIELDS = {"site": st.sampled_from(["GZ", "HK", "XX", "", "G\x00Z"]),
                "analyte": st.sampled_from(["alt", "hb", "bilirubin", "body_weight", "bogus", ""]),
                "unit": UNITS, "lln": VALUE, "uln": VALUE, "effective_from": st.one_of(TRICKY, VALUE), "note": VALUE}


def test_reference_range_page_and_api_never_500(panel_world):
    @FUZZ
    @given(body=st.fixed_dictionaries({}, optional=RANGE_FIELDS), user=st.sampled_from(["data_manager", "coordinator"]),
           query=st.dictionaries(st.sampled_from(["site", "analyte"]), st.sampled_from(["GZ", "x\x00", "alt", ""])))
    def examples(body, user, query):
        world, _records = panel_world
        client = login(Client(), user)
        study = world.studies["imrt"]

        def run() -> None:
            _request(client, "post", f"/api/v1/studies/{study.pk}/lab-ranges", body, json_body=True)
            _request(client, "post", reverse("lab-ranges", kwargs={"study_pk": study.pk}), _page_data(body))
            _request(client, "get", f"/api/v1/studies/{study.pk}/lab-ranges", query)

        _rolled_back(run)

    _assert_requests_made(examples, 3 * EXAMPLES)
