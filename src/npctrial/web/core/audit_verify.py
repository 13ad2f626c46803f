"""``npctrial verify-audit``: recompute the audit hash chain and compare the data with its history.

Algorithm of :func:`verify_audit`:

1. Seal what is pending (rows committed but not yet chained; normally none).
2. Walk the seals in position order: positions 1, 2, 3 ... without gaps, and each ``chain_hash``
   recomputed from the previous one (an edited or deleted seal breaks the chain here).
3. Per chained table, recompute the digest of every sealed row from the database: a different
   digest is an edited audit row, a missing row a deleted one; a row without a seal was written
   outside the application.
4. Per audited model, the current row must equal its latest historical row, field by field, and a
   row whose history ends with a deletion must not exist (trial data changed by SQL, bypassing the
   audit trail, shows here).
5. Every allocation sequence: :func:`npctrial.web.core.allocation.verify_sequence`.

The result lists every problem found (not only the first) with the table and row id.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import models

from npctrial.web.core.audit_chain import (
    GENESIS,
    _canonical,
    chain_hash,
    chained_models,
    digests_of,
    seal_pending,
    table_of,
)
from npctrial.web.core.models_audit import AuditSeal

__all__ = ["AuditVerification", "verify_audit"]

MAX_LISTED = 200  # problems listed in full; beyond that they are counted


@dataclass(frozen=True)
class AuditVerification:
    intact: bool
    rows_checked: int
    sealed_now: int
    head_position: int
    head_hash: str
    problems: tuple[str, ...]
    problem_count: int
    tables: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        state = "intact" if self.intact else f"NOT INTACT: {self.problem_count} problem(s)"
        lines = [f"audit trail {state}: {self.rows_checked} audit rows in {len(self.tables)} tables",
                 f"chain head: position {self.head_position}, hash {self.head_hash}"]
        if self.sealed_now:
            lines.append(f"{self.sealed_now} pending row(s) sealed before checking")
        lines += [f"  - {p}" for p in self.problems]
        if self.problem_count > len(self.problems):
            lines.append(f"  ... and {self.problem_count - len(self.problems)} more")
        return "\n".join(lines)


class _Problems:
    def __init__(self) -> None:
        self.items: list[str] = []
        self.count = 0

    def add(self, text: str) -> None:
        self.count += 1
        if len(self.items) < MAX_LISTED:
            self.items.append(text)


def _seals() -> Iterator[AuditSeal]:
    return AuditSeal.objects.filter(position__isnull=False).order_by("position").iterator(chunk_size=5000)


def _check_chain(problems: _Problems) -> tuple[int, str, dict[str, dict[int, str]]]:
    """Step 2; returns the head and the sealed digests per table."""
    previous, expected = GENESIS, 1
    sealed: dict[str, dict[int, str]] = defaultdict(dict)
    for seal in _seals():
        position = seal.position or 0
        if position != expected:
            problems.add(f"chain: link {expected} is missing (next link is {position}): a seal was deleted")
        if seal.chain_hash != chain_hash(previous, position, seal.table, seal.row_id, seal.digest):
            problems.add(f"chain: link {position} ({seal.table} #{seal.row_id}) does not follow from the previous "
                         "link: the seal was edited")
        previous, expected = seal.chain_hash, position + 1
        sealed[seal.table][seal.row_id] = seal.digest
    return expected - 1, previous, sealed


def _check_rows(model: type[models.Model], sealed: dict[int, str], problems: _Problems) -> int:
    """Step 3 for one table; returns the number of rows."""
    table = table_of(model)
    current = digests_of(model, sealed)
    for row_id, digest in sealed.items():
        if row_id not in current:
            problems.add(f"{table} #{row_id}: audit row deleted")
        elif current[row_id] != digest:
            problems.add(f"{table} #{row_id}: audit row edited after it was written")
    unsealed = model._default_manager.exclude(pk__in=list(sealed)).values_list("pk", flat=True)
    for row_id in unsealed.iterator(chunk_size=5000):
        problems.add(f"{table} #{row_id}: audit row not in the chain (written outside the application)")
    return len(current) + unsealed.count()


def _check_live(history_model: Any, problems: _Problems) -> None:
    """Step 4 for one audited model."""
    model = history_model.instance_type
    kept = {f.attname for f in history_model._meta.concrete_fields}  # fields the history tracks
    fields = [f for f in model._meta.concrete_fields if f.attname in kept]
    names = [f.attname for f in fields]
    pk = model._meta.pk.attname
    latest: dict[Any, tuple[str, dict[str, Any]]] = {}
    rows = history_model._default_manager.order_by(pk, "history_id").values(
        *names, "history_type").iterator(chunk_size=5000)
    for row in rows:
        latest[row[pk]] = (row["history_type"], row)
    label = model._meta.label
    for row in model._default_manager.values(*names).iterator(chunk_size=5000):
        entry = latest.pop(row[pk], None)
        if entry is None:
            problems.add(f"{label} #{row[pk]}: record has no audit trail (written outside the application)")
            continue
        kind, hist = entry
        if kind == "-":
            problems.add(f"{label} #{row[pk]}: record exists although its audit trail says it was deleted")
            continue
        changed = [f.name for f in fields if _canonical(f, row[f.attname]) != _canonical(f, hist[f.attname])]
        if changed:
            problems.add(f"{label} #{row[pk]}: {', '.join(changed)} differ from the audit trail "
                         "(changed outside the application)")
    for row_id, (kind, _) in latest.items():
        if kind != "-":
            problems.add(f"{label} #{row_id}: record deleted outside the application (no deletion in its audit trail)")


def _check_sequences(problems: _Problems) -> None:
    from npctrial.web.core.allocation import verify_sequence
    from npctrial.web.core.models import AllocationSequence

    for sequence in AllocationSequence.objects.select_related("study"):
        for problem in verify_sequence(sequence).problems:
            problems.add(f"allocation sequence of {sequence.study.code}: {problem}")


def verify_audit() -> AuditVerification:
    """Verify the whole audit trail (steps in the module docstring)."""
    sealed_now = seal_pending()
    problems = _Problems()
    head_position, head_hash, sealed = _check_chain(problems)
    tables: dict[str, int] = {}
    for model in chained_models():
        table = table_of(model)
        tables[table] = _check_rows(model, sealed.pop(table, {}), problems)
    for table, rows in sealed.items():  # seals naming a table that is no longer chained
        problems.add(f"{table}: {len(rows)} sealed row(s) of a table that is not audited any more")
    for model in chained_models():
        if hasattr(model, "instance_type"):
            _check_live(model, problems)
    _check_sequences(problems)
    return AuditVerification(
        intact=problems.count == 0, rows_checked=sum(tables.values()), sealed_now=sealed_now,
        head_position=head_position, head_hash=head_hash, problems=tuple(problems.items),
        problem_count=problems.count, tables=tables)
