"""Tamper evidence: the hash chain over every audit row, and ``npctrial verify-audit``.

Each test tampers with the database the way someone with SQL access would (raw SQL, bypassing
the application) and checks that verification names the table and row.
"""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection

from npctrial.cli import main
from npctrial.web.clinical.crfs import save_crf
from npctrial.web.clinical.models import Baseline
from npctrial.web.core.audit_chain import chained_models, instance_values, row_digest, seal_pending
from npctrial.web.core.audit_verify import verify_audit
from npctrial.web.core.events import record_event
from npctrial.web.core.models import AuditSeal, Subject

BASELINE = {"assessment_date": date(2026, 1, 6), "height_cm": 170, "weight_kg": 60,
            "t_category": "T3", "n_category": "N1", "m_category": "M0", "hb": 131}


def _sql(statement: str, params: list | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])


def _baseline(world) -> Baseline:
    subject = world.subjects[("imrt", "A")]
    record, _ = save_crf("baseline", subject, dict(BASELINE), world.users["coordinator"])
    return record


def _problems(result) -> str:
    return "\n".join(result.problems)


def test_untouched_trail_is_intact_and_every_audit_table_is_chained(world):
    _baseline(world)
    record_event("export", user=world.users["data_manager"], study=world.studies["imrt"], record="adsl.csv")
    result = verify_audit()
    assert result.intact, _problems(result)
    tables = set(result.tables)
    assert {"clinical.HistoricalBaseline", "core.HistoricalSubject", "core.HistoricalRandomisation",
            "core.AuditEvent", "core.HistoricalScreeningRecord"} <= tables
    assert result.head_position == AuditSeal.objects.count() == result.rows_checked
    assert not AuditSeal.objects.filter(position__isnull=True).exists()
    # a second run has nothing left to seal and the same head
    again = verify_audit()
    assert again.sealed_now == 0 and again.head_hash == result.head_hash


def test_edited_history_row_is_detected(world):
    record = _baseline(world)
    hist = record.history.first()
    _sql("UPDATE clinical_historicalbaseline SET weight_kg = 95 WHERE history_id = %s", [hist.history_id])
    result = verify_audit()
    assert not result.intact
    assert f"clinical.HistoricalBaseline #{hist.history_id}: audit row edited" in _problems(result)


def test_deleted_history_row_is_detected(world):
    record = _baseline(world)
    hist = record.history.first()
    verify_audit()  # sealed
    _sql("DELETE FROM clinical_historicalbaseline WHERE history_id = %s", [hist.history_id])
    result = verify_audit()
    assert f"clinical.HistoricalBaseline #{hist.history_id}: audit row deleted" in _problems(result)


def test_history_row_inserted_outside_the_application_is_detected(world):
    record = _baseline(world)
    hist = record.history.first()
    verify_audit()
    columns = [f.column for f in type(hist)._meta.concrete_fields if f.column != "history_id"]
    _sql(f"INSERT INTO clinical_historicalbaseline ({', '.join(columns)}) "  # noqa: S608 - test SQL
         f"SELECT {', '.join(columns)} FROM clinical_historicalbaseline WHERE history_id = %s", [hist.history_id])
    result = verify_audit()
    assert "clinical.HistoricalBaseline" in _problems(result)
    assert "not in the chain" in _problems(result)


def test_edited_or_deleted_audit_event_and_seal_are_detected(world):
    event = record_event("login_failed", username="mallory", record="mallory")
    verify_audit()
    _sql("UPDATE core_auditevent SET username = 'alice' WHERE id = %s", [event.pk])
    assert f"core.AuditEvent #{event.pk}: audit row edited" in _problems(verify_audit())
    seal = AuditSeal.objects.get(table="core.AuditEvent", row_id=event.pk)
    _sql("DELETE FROM core_auditseal WHERE id = %s", [seal.pk])  # the last link
    assert f"core.AuditEvent #{event.pk}: audit row not in the chain" in _problems(verify_audit())
    middle = AuditSeal.objects.get(position=5)
    _sql("DELETE FROM core_auditseal WHERE id = %s", [middle.pk])
    text = _problems(verify_audit())
    assert "link 5 is missing" in text
    assert f"{middle.table} #{middle.row_id}: audit row not in the chain" in text


def test_rewritten_seal_breaks_the_chain(world):
    record = _baseline(world)
    hist = record.history.first()
    verify_audit()
    _sql("UPDATE clinical_historicalbaseline SET weight_kg = 95 WHERE history_id = %s", [hist.history_id])
    fresh = row_digest(type(hist), instance_values(type(hist).objects.get(pk=hist.pk)))
    _sql("UPDATE core_auditseal SET digest = %s WHERE \"table\" = %s AND row_id = %s",
         [fresh, "clinical.HistoricalBaseline", hist.history_id])
    text = _problems(verify_audit())
    assert "does not follow from the previous link: the seal was edited" in text


def test_trial_data_changed_by_sql_bypassing_the_trail_is_detected(world):
    record = _baseline(world)
    _sql("UPDATE clinical_baseline SET hb = 60 WHERE id = %s", [record.pk])
    text = _problems(verify_audit())
    assert f"clinical.Baseline #{record.pk}: hb differ from the audit trail" in text
    subject = world.subjects[("imrt", "B")]
    _sql("DELETE FROM core_dataquery WHERE subject_id = %s", [subject.pk])
    text = _problems(verify_audit())
    assert "core.DataQuery" in text and "deleted outside the application" in text


def test_audit_events_are_append_only(world):
    from npctrial.errors import ValidationError

    event = record_event("login", user=world.users["monitor"])
    event.username = "someone else"
    with pytest.raises(ValidationError):
        event.save()
    with pytest.raises(ValidationError):
        event.delete()
    with pytest.raises(ValueError, match="unknown audit event action"):
        record_event("made_up")


def test_digest_at_write_time_equals_digest_from_the_database(world):
    """The canonical form is database-independent: every chained row re-reads to the same digest."""
    _baseline(world)
    seal_pending()
    checked = 0
    for model in chained_models():
        seals = dict(AuditSeal.objects.filter(table=model._meta.label).values_list("row_id", "digest"))
        for row in model._default_manager.all():
            assert row_digest(model, instance_values(row)) == seals[row.pk], (model, row.pk)
            checked += 1
    assert checked > 50


def test_cli_verify_audit_exit_codes(world, capsys):
    _baseline(world)
    assert main(["verify-audit"]) == 0
    out = capsys.readouterr().out
    assert "audit trail intact" in out and "chain head: position" in out
    subject = Subject.objects.get(pk=world.subjects[("imrt", "A")].pk)
    _sql("UPDATE core_subject SET high_risk = %s WHERE id = %s", [not subject.high_risk, subject.pk])
    assert main(["verify-audit"]) == 1
    out = capsys.readouterr().out
    assert "NOT INTACT" in out and f"core.Subject #{subject.pk}: high_risk differ" in out


@pytest.mark.django_db
def test_the_demo_has_an_intact_audit_trail():
    """The demo back-dates its history through the clock, never by editing rows behind the trail."""
    from npctrial.web.demo import load_demo

    load_demo()
    result = verify_audit()
    assert result.intact, _problems(result)
    assert result.rows_checked > 400 and result.tables["clinical.HistoricalBaseline"] > 10
