"""Migration core 0012: screening identity fields start empty ("not recorded"); subject IDs are kept as
stored, an ID two studies already share is flagged, every other ID is unique across studies."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from tests.web.conftest import make_world

BEFORE = [("core", "0011_query_lifecycle")]
AFTER = [("core", "0012_screening_identity_unique_subject_ids")]


@pytest.mark.django_db(transaction=True)
def test_ids_are_kept_shared_ones_flagged_and_identity_left_unrecorded():
    world = make_world()
    imrt, ccrt = world.subjects[("imrt", "A")], world.subjects[("ccrt", "A")]
    other = world.subjects[("imrt", "B")]
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    old_subject = old.get_model("core", "Subject")
    old_subject.objects.filter(pk__in=[imrt.pk, ccrt.pk]).update(subject_id="NPC-GZ-001")  # the old shared pattern
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps
    subject = new.get_model("core", "Subject")
    assert set(subject.objects.filter(pk__in=[imrt.pk, ccrt.pk]).values_list("subject_id", "id_shared_before_unique")
               ) == {("NPC-GZ-001", True)}
    assert subject.objects.get(pk=other.pk).subject_id == other.subject_id
    assert subject.objects.get(pk=other.pk).id_shared_before_unique is False
    screening = new.get_model("core", "ScreeningRecord")
    assert set(screening.objects.values_list("initials", "birth_date", "hospital_number", "rescreen_of")) == \
        {("", None, "", None)}
    copy = subject.objects.get(pk=other.pk)
    copy.pk, copy.study_id, copy.seq = None, ccrt.study_id, 99
    copy.screening_id = world.screenings[("ccrt", "B")].pk
    with pytest.raises(IntegrityError), transaction.atomic():  # an unflagged ID cannot be given twice
        copy.save()
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
