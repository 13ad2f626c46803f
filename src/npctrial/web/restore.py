"""Restoring a backup without losing what happened since: confirmation, safety copy, audit, allocations.

A restore replaces the whole database with an older state. Algorithm of :func:`restore_with_safeguards`:

1. :func:`capture` reads the current database first: every allocation handed out (study, number,
   subject, arm, strata, hashes, who and when), the audit chain head and the row counts. If it
   cannot be read the restore is refused (nothing has been changed yet).
2. A safety copy of the current database is written next to it (``pre-restore-<UTC time>``) with
   the ordinary backup, so the restore destroys nothing that cannot be brought back.
3. The backup is restored and migrated.
4. :func:`reconcile`: every allocation number issued after the backup (present in the capture,
   absent from the restored sequence) becomes a :class:`LostAllocation` of its sequence, and the
   sequence's count and chain state move to the highest number ever issued: the next
   randomisation gets a new number, never one a patient already has, and the minimisation
   history and block positions include the lost allocations.
5. A ``restore`` audit event (who at the terminal, why, the file and its SHA-256, the method, the
   safety copy, the chain head before the restore, the allocations recovered) is written into the
   restored database, plus one per study that lost allocations (its arms in the concealed part).

The caller (``npctrial restore``) asks for the confirmation before step 1.
"""

from __future__ import annotations

import getpass
import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.db import DatabaseError, transaction
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from npctrial.errors import ConfigurationError, ValidationError

__all__ = ["RestoreReport", "Snapshot", "capture", "reconcile", "restore_with_safeguards"]


@dataclass(frozen=True)
class Snapshot:
    """The current database before a restore (step 1)."""

    allocations: tuple[dict[str, Any], ...]
    chain_position: int
    chain_hash: str
    counts: dict[str, int]

    def summary(self) -> str:
        c = self.counts
        return (f"{c.get('studies', 0)} studies, {c.get('subjects', 0)} subjects, {len(self.allocations)} allocations, "
                f"{c.get('audit_rows', 0)} audit rows")


@dataclass(frozen=True)
class RestoreReport:
    method: str
    safety_copy: str
    lost: dict[str, list[int]] = field(default_factory=dict)
    lost_without_study: dict[str, list[int]] = field(default_factory=dict)

    def summary(self) -> str:
        lines = [f"restored ({self.method}); the replaced database was kept as {self.safety_copy}"]
        for code, numbers in self.lost.items():
            lines.append(f"{code}: allocations issued after the backup kept as lost, never reissued: "
                         f"{', '.join(f'#{n}' for n in numbers)}")
        for code, numbers in self.lost_without_study.items():
            lines.append(f"warning: study {code} is not in the backup; its allocations "
                         f"{', '.join(f'#{n}' for n in numbers)} are recorded in the restore event only")
        return "\n".join(lines)


def _allocation_row(r: Any) -> dict[str, Any]:
    return {"study": r.sequence.study.code, "number": r.number, "subject": r.subject.subject_id,
            "site": r.subject.site.code, "arm": r.arm, "strata": r.strata, "details": r.details,
            "hash_before": r.hash_before, "hash_after": r.hash_after, "allocated_at": r.allocated_at.isoformat(),
            "randomisation_date": _day(getattr(r, "randomisation_date", None)),
            "allocated_by": r.allocated_by.get_username() if r.allocated_by_id else ""}


def _day(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _lost_row(r: Any) -> dict[str, Any]:
    return {"study": r.sequence.study.code, "number": r.number, "subject": r.subject_label, "site": r.site_code,
            "arm": r.arm, "strata": r.strata, "details": r.details, "hash_before": r.hash_before,
            "hash_after": r.hash_after, "allocated_at": r.allocated_at.isoformat(),
            "randomisation_date": _day(r.randomisation_date), "allocated_by": r.allocated_by}


def capture() -> Snapshot:
    """Step 1 (read only)."""
    from npctrial.web.core.models import AuditSeal, LostAllocation, Randomisation, Study, Subject

    try:
        rows = [_allocation_row(r) for r in Randomisation.objects.select_related(
            "sequence__study", "subject__site", "allocated_by")]
        rows += [_lost_row(r) for r in LostAllocation.objects.select_related("sequence__study")]
        head = AuditSeal.objects.filter(position__isnull=False).order_by("-position").first()
        counts = {"studies": Study.objects.count(), "subjects": Subject.objects.count(),
                  "audit_rows": AuditSeal.objects.count()}
    except DatabaseError as exc:
        raise ConfigurationError(_("the current database cannot be read before the restore (%(error)s); nothing was "
                                   "changed") % {"error": exc}, field="DATABASE_URL") from exc
    return Snapshot(tuple(sorted(rows, key=lambda r: (r["study"], r["number"]))),
                    (head.position or 0) if head else 0, head.chain_hash if head else "", counts)


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _safety_copy() -> str:
    """Step 2: the current database, backed up beside the others before it is replaced."""
    from django.conf import settings
    from django.db import connection

    from npctrial.web.backup import backup_database

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    suffix = "sqlite3" if connection.vendor == "sqlite" else "pgdump"
    target = Path(settings.VAR_DIR) / f"pre-restore-{stamp}.{suffix}"
    target.parent.mkdir(parents=True, exist_ok=True)
    backup_database(target)
    return str(target)


def _lost_allocation(sequence: Any, row: dict[str, Any], file: str, reason: str) -> Any:
    from npctrial.web.core.audit import create_audited
    from npctrial.web.core.models import LostAllocation

    return create_audited(
        LostAllocation, None, reason=reason, sequence=sequence, number=row["number"], subject_label=row["subject"],
        site_code=row["site"], arm=row["arm"], strata=row["strata"], details=row["details"],
        hash_before=row["hash_before"], hash_after=row["hash_after"],
        allocated_at=parse_datetime(row["allocated_at"]), allocated_by=row["allocated_by"], restore_file=file,
        randomisation_date=parse_date(row["randomisation_date"]) if row.get("randomisation_date") else None)


def reconcile(snapshot: Snapshot, *, file: str, reason: str) -> tuple[dict[str, list[int]], dict[str, list[int]]]:
    """Step 4: (lost numbers per study kept in its sequence, lost numbers of studies not in the backup)."""
    from npctrial.web.core.models import AllocationSequence

    by_study: dict[str, list[dict[str, Any]]] = {}
    for row in snapshot.allocations:
        by_study.setdefault(row["study"], []).append(row)
    kept: dict[str, list[int]] = {}
    orphaned: dict[str, list[int]] = {}
    for code, rows in by_study.items():
        sequence = AllocationSequence.objects.filter(study__code=code).select_for_update().first()
        if sequence is None:
            orphaned[code] = [r["number"] for r in rows]
            continue
        known = set(sequence.allocations.values_list("number", flat=True))
        known |= set(sequence.lost_allocations.values_list("number", flat=True))
        missing = [r for r in rows if r["number"] not in known]
        if not missing:
            continue
        for row in missing:
            _lost_allocation(sequence, row, file, f"issued after the backup {file}; kept by the restore")
        top = max(missing, key=lambda r: r["number"])
        if top["number"] > sequence.count:
            sequence.count = top["number"]
            sequence.state_hash = top["hash_after"]
            sequence.save(reason=f"restore of {file}: allocation numbers up to #{top['number']} were issued")
        kept[code] = [r["number"] for r in missing]
    return kept, orphaned


def _audit(snapshot: Snapshot, report: RestoreReport, file: Path, sha256: str, reason: str, operator: str) -> None:
    """Step 5."""
    from npctrial.web.core.events import record_event
    from npctrial.web.core.models import Study

    details = {"file": str(file), "sha256": sha256, "method": report.method, "safety_copy": report.safety_copy,
               "operator": operator, "before": {**snapshot.counts, "chain_position": snapshot.chain_position,
                                                "chain_hash": snapshot.chain_hash},
               "lost_allocations": report.lost, "lost_without_study": report.lost_without_study}
    record_event("restore", username=f"system:{operator}", record=file.name, summary=report.summary(),
                 reason=reason, details=details)
    for code, numbers in report.lost.items():
        study = Study.objects.get(code=code)
        arms = {str(r["number"]): r["arm"] for r in snapshot.allocations if r["study"] == code and r["number"] in numbers}
        record_event("restore", username=f"system:{operator}", study=study, record=file.name, reason=reason,
                     summary=f"restored from {file.name}: allocations {', '.join(f'#{n}' for n in numbers)} "
                             "issued after the backup are kept as lost and never reissued",
                     details={"file": str(file), "sha256": sha256, "lost_allocations": numbers},
                     concealed={"arms": arms})


def restore_with_safeguards(path: str | Path, *, reason: str, operator: str | None = None) -> RestoreReport:
    """Steps 1-5 of the module docstring (the confirmation was asked by the caller)."""
    from django.core.management import call_command

    from npctrial.web.backup import restore_database

    file = Path(path)
    if not (reason or "").strip():
        raise ValidationError(_("a reason for the restore is required"), field="reason")
    if not file.is_file():
        raise ValidationError(_("FILE: backup file not found: %(file)s") % {"file": file}, field="FILE")
    operator = operator or getpass.getuser()
    sha256 = _file_sha256(file)
    snapshot = capture()
    safety = _safety_copy()
    method = restore_database(file)
    call_command("migrate", interactive=False, verbosity=0)
    with transaction.atomic():
        kept, orphaned = reconcile(snapshot, file=file.name, reason=reason)
        report = RestoreReport(method=method, safety_copy=safety, lost=kept, lost_without_study=orphaned)
        _audit(snapshot, report, file, sha256, reason.strip(), operator)
    return report
