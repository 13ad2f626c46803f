"""Import fuzzing: hypothesis rewrites cells of real CSV files (AE form, screening) with wrong values.

Every answer is 201 or 422, never 500; every problem names its row (1-based, ``None`` only for a
problem of the whole file) and a column of the file; a refused file writes nothing, an accepted
one writes exactly its rows.
"""

from __future__ import annotations

from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from npctrial.web.clinical.exports import form_columns
from npctrial.web.clinical.models import AdverseEvent
from npctrial.web.core.models import ScreeningRecord
from tests.web.conftest import IMRT_ELIGIBLE, login
from tests.web.test_imports import AE, _csv

_EXAMPLES = 40
_SETTINGS = settings(max_examples=_EXAMPLES, deadline=None, database=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
_CELL = st.one_of(st.text(max_size=12), st.integers(-10**6, 10**6).map(str), st.sampled_from(
    ["", " ", "0", "-1", "5", "6", "2.5", "1e3", "NaN", "true", "True", "yes", "是", "31/02/2026", "2026-02-30",
     "02/01/2026", "2026-1-5", "2026-01-05T10:00", "2026-01-05", "9999-12-31", "0001-01-01", "x" * 3000, "a\x00b",
     "=cmd|' /C calc'!A0", "mucositis_oral", "口腔黏膜炎", "GZ", "HK", "IMRT-GZ-999"]))


class _Rollback(Exception):
    pass


def _rows_with_edits(base: list[dict[str, str]], columns: list[str]) -> st.SearchStrategy[list[dict[str, str]]]:
    """The base rows, each with 0-3 of its cells replaced by a drawn value."""
    edits = st.lists(st.dictionaries(st.sampled_from(columns), _CELL, max_size=3), min_size=len(base),
                     max_size=len(base))
    return edits.map(lambda per_row: [{**row, **edit} for row, edit in zip(base, per_row, strict=True)])


def _post(client: Client, study: Any, kind: str, data: bytes, count: Any) -> tuple[int, dict, int]:
    """(status, body, records written) of one import, rolled back afterwards."""
    seen: dict[str, Any] = {}
    try:
        with transaction.atomic():
            before = count()
            response = client.post(f"/api/v1/studies/{study.pk}/imports", {
                "kind": kind, "reason": "fuzz", "file": SimpleUploadedFile(f"{kind}.csv", data)})
            seen.update(status=response.status_code, body=response.json(), written=count() - before)
            raise _Rollback
    except _Rollback:
        pass
    return seen["status"], seen["body"], seen["written"]


def _check_answer(status: int, body: dict, written: int, rows: int, columns: list[str]) -> bool:
    assert status in (201, 422), (status, body)
    for problem in body["errors"]:
        assert problem["row"] is None or 1 <= problem["row"] <= rows, problem
        assert problem["field"] in columns or (problem["row"] is None and problem["field"]), (problem, columns)
    if status == 422:
        assert written == 0 and body["errors"], body
        return False
    assert written == rows and not body["errors"], body
    return True


def test_ae_files_with_drawn_cells_are_imported_whole_or_refused_with_each_problem(world):
    client = login(Client(), "coordinator")
    study = world.studies["imrt"]
    sid = world.subjects[("imrt", "A")].subject_id
    columns = form_columns("ae")
    base = [{"subject_id": sid, "site": "GZ", **AE, "week": str(week)} for week in (1, 2, 3)]
    outcomes: list[bool] = []

    @_SETTINGS
    @given(rows=_rows_with_edits(base, [c for c in columns if c in base[0]]))
    @example(rows=base)
    @example(rows=[{**base[0], "grade": "7"}, {**base[1], "term": "sore mouth"}, base[2]])
    def check(rows):
        status, body, written = _post(client, study, "ae", _csv(rows, columns), AdverseEvent.objects.count)
        outcomes.append(_check_answer(status, body, written, len(rows), columns))

    check()
    assert any(outcomes) and not all(outcomes)


def test_screening_files_with_drawn_cells_are_imported_whole_or_refused_with_each_problem(world):
    client = login(Client(), "coordinator")
    study = world.studies["imrt"]
    fields = list(IMRT_ELIGIBLE)
    columns = ["site", "screening_date", *fields]
    base = [{"site": "GZ", "screening_date": "2026-01-04", **{k: str(v) if not isinstance(v, bool) else
                                                               str(v).lower() for k, v in IMRT_ELIGIBLE.items()}}
            for _ in range(2)]
    outcomes: list[bool] = []

    @_SETTINGS
    @given(rows=_rows_with_edits(base, columns))
    @example(rows=base)
    def check(rows):
        status, body, written = _post(client, study, "screening", _csv(rows, columns),
                                      ScreeningRecord.objects.count)
        outcomes.append(_check_answer(status, body, written, len(rows), columns))

    check()
    assert any(outcomes) and not all(outcomes)
