"""A computation that reads many tables sees one state of the data (``read_snapshot``), and the
study report and its voided counts are computed inside one.

Transactional tests: a test wrapped in a transaction would already hold one snapshot. The write
comes from another thread, i.e. another database connection that commits while the block runs.
"""

from __future__ import annotations

import threading
from datetime import date

import pytest
from django.db import connection, connections

from npctrial.web.clinical import reports
from npctrial.web.core.models import ScreeningRecord, Site, Subject
from npctrial.web.core.snapshot import read_snapshot
from tests.web.conftest import make_world


def _commit_a_site_elsewhere(code: str) -> BaseException | None:
    """Create a site from another thread (its own connection); the error it met, if any."""
    errors: list[BaseException] = []

    def create() -> None:
        try:
            Site.objects.create(code=code, name=f"Hospital {code}")
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            errors.append(exc)
        finally:
            connections.close_all()

    t = threading.Thread(target=create)
    t.start()
    t.join(30)
    return errors[0] if errors else None


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_commit_from_another_connection_is_not_seen_inside_the_snapshot() -> None:
    before = Site.objects.count()
    with read_snapshot():
        first = Site.objects.count()
        error = _commit_a_site_elsewhere("ZZ1")
        second = Site.objects.count()
    assert error is None  # the other connection committed meanwhile (no write lock held by the block)
    assert first == second == before  # one state of the data for the whole block
    assert Site.objects.count() == before + 1  # the other commit is seen once the block is over


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_write_inside_the_snapshot_is_refused_and_the_block_rolled_back() -> None:
    before = Site.objects.count()
    with pytest.raises(Exception) as caught, read_snapshot():  # noqa: PT011 - each database says it its own way
        Site.objects.create(code="ZZ3", name="Hospital ZZ3")
    assert "read-only" in str(caught.value) or "readonly" in str(caught.value)
    assert Site.objects.count() == before


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_without_the_snapshot_the_same_reads_see_the_commit() -> None:
    """The control: the test above can fail (autocommit reads see the other connection's commit)."""
    before = Site.objects.count()
    assert _commit_a_site_elsewhere("ZZ2") is None
    assert Site.objects.count() == before + 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_study_report_reads_its_records_inside_one_snapshot(monkeypatch: pytest.MonkeyPatch) -> None:
    world = make_world()
    study = world.studies["ccrt"]
    seen: list[bool] = []
    real = reports.load_records

    def spy(*args, **kwargs):
        seen.append(connection.in_atomic_block  # PostgreSQL: atomic; SQLite: its own deferred transaction
                    or (connection.vendor == "sqlite" and connection.connection.in_transaction))
        return real(*args, **kwargs)

    monkeypatch.setattr(reports, "load_records", spy)
    report = reports.compute_report(study, Subject.objects.filter(study=study),
                                    ScreeningRecord.objects.filter(study=study), date(2026, 6, 1))
    assert seen == [True]
    assert report.flow["enrolled"] == Subject.objects.filter(study=study).count()
