"""20 simultaneous randomisation requests (HTTP, through the API) give 20 distinct, correct allocations and an intact sequence.

On PostgreSQL (``DATABASE_URL``, e.g. via scripts/with-postgres.sh) the 20 threads really run
at once, each in its own connection, released together by a barrier. SQLite serialises writers
anyway; there the same threads run one at a time (the serialised variant) so the test is
meaningful on both databases and is never skipped.
"""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.db import connection, connections
from django.test import Client

from npctrial.web.core.allocation import randomise, verify_sequence
from npctrial.web.core.enrolment import enrol
from npctrial.web.core.models import Randomisation
from npctrial.web.core.screening import create_screening
from tests.web.conftest import CCRT_ELIGIBLE, make_world

N = 20


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_simultaneous_randomisations():
    world = make_world()
    study = world.studies["ccrt"]
    coordinator = world.users["coordinator"]
    responses = ["CR", "PR", "SD", "PD"]
    subjects = []
    for i in range(N):
        record = create_screening(study, world.sites["A"], {**CCRT_ELIGIBLE, "induction_response": responses[i % 4]},
                                  coordinator)
        subjects.append(enrol(record, consent_date=record.screened_at.date(), consent_version="1.0",
                              user=coordinator))
    before = Randomisation.objects.filter(sequence__study=study).count()
    concurrent = connection.vendor == "postgresql"
    barrier = threading.Barrier(N)
    serial = threading.Lock()
    results: dict[int, str] = {}
    errors: list[BaseException] = []

    def post(client, subject):
        return client.post(f"/api/v1/studies/{study.pk}/subjects/{subject.pk}/randomise", data={},
                           content_type="application/json")

    def worker(client, subject):
        try:
            barrier.wait(timeout=30)
            if concurrent:
                response = post(client, subject)
            else:
                with serial:
                    response = post(client, subject)
            assert response.status_code == 201, response.content
            results[subject.pk] = response.json()["arm"]
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    clients = []
    for _ in subjects:  # one logged-in browser session per request
        clients.append(Client())
        clients[-1].force_login(coordinator, backend="django.contrib.auth.backends.ModelBackend")
    threads = [threading.Thread(target=worker, args=(c, s)) for c, s in zip(clients, subjects, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert len(results) == N
    allocations = list(Randomisation.objects.filter(sequence__study=study).order_by("number"))
    assert len(allocations) == before + N
    numbers = [a.number for a in allocations]
    assert numbers == list(range(1, before + N + 1))  # distinct, consecutive, no gaps
    assert Counter(a.subject_id for a in allocations).most_common(1)[0][1] == 1  # one per subject
    for subject in subjects:
        assert Randomisation.objects.get(subject=subject).arm == results[subject.pk]
    sequence = study.allocation_sequence
    sequence.refresh_from_db()
    check = verify_sequence(sequence)
    assert check.intact, check.problems
    assert check.count == before + N
    # no re-randomisation, even when asked again
    from npctrial.errors import ValidationError

    with pytest.raises(ValidationError):
        randomise(subjects[0], coordinator)
