"""Migration core 0006: existing screenings, subjects and allocations get the date of the moment they were recorded."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tests.web.conftest import make_world

BEFORE = [("core", "0005_amendment_control_sequence_segments")]
AFTER = [("core", "0006_entered_dates")]


@pytest.mark.django_db(transaction=True)
def test_entered_dates_are_filled_from_the_recorded_moment():
    world = make_world()
    subject = world.subjects[("ccrt", "A")]
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    old.get_model("core", "Subject").objects.filter(pk=subject.pk).update(
        enrolled_at=datetime(2026, 4, 3, 23, 30, tzinfo=UTC))
    old.get_model("core", "ScreeningRecord").objects.filter(pk=subject.screening_id).update(
        screened_at=datetime(2026, 4, 1, 8, 0, tzinfo=UTC))
    old.get_model("core", "Randomisation").objects.filter(subject_id=subject.pk).update(
        allocated_at=datetime(2026, 4, 4, 0, 15, tzinfo=UTC))
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps
    assert new.get_model("core", "Subject").objects.get(pk=subject.pk).enrolment_date == date(2026, 4, 3)
    assert new.get_model("core", "ScreeningRecord").objects.get(pk=subject.screening_id).screening_date == \
        date(2026, 4, 1)
    assert new.get_model("core", "Randomisation").objects.get(subject_id=subject.pk).randomisation_date == \
        date(2026, 4, 4)
    history = new.get_model("core", "HistoricalSubject").objects.filter(id=subject.pk)
    assert history.exists() and all(h.enrolment_date is not None for h in history)
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
