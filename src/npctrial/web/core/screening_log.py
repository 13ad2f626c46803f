"""The screening log (ICH E6(R2) 8.3.20): every screening of a study in date order, with who was
screened (initials, birth date, age) and what came of it, as a page and as CSV/XLSX downloads.

Identity not recorded (screenings made before these fields existed) stays empty: the page says
"not recorded", the files leave the cell empty; nothing is invented. A de-identified download drops
the identifiers (:data:`npctrial.web.core.deidentify.IDENTIFIER_COLUMNS`) and the free-text reason
and shifts the screening date by the subject's (or the screening's) days.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from npctrial.domain.screening_identity import compute_age
from npctrial.web.core import permissions
from npctrial.web.core.models import ScreeningRecord, Study

__all__ = ["LOG_COLUMNS", "LogEntry", "log_entries", "log_records", "log_rows", "log_status"]

LOG_COLUMNS = ("screening", "site", "screening_date", "initials", "birth_date", "age", "hospital_number",
               "status", "failed_criteria", "subject_id", "rescreen_of", "rescreen_reason", "protocol_version")
LOG_DATES = ("screening_date",)
LOG_FREE_TEXT = ("rescreen_reason",)


@dataclass(frozen=True)
class LogEntry:
    record: ScreeningRecord
    age: int | None
    status: str  # enrolled / eligible / ineligible / incomplete
    subject_id: str
    rescreen_of: ScreeningRecord | None


def log_status(record: ScreeningRecord) -> str:
    """``enrolled`` for a screening with a subject, else its eligibility outcome."""
    return "enrolled" if getattr(record, "subject", None) is not None else record.outcome


def log_records(user: Any, study: Study, site: str | None = None) -> Any:
    """The screenings ``user`` may see (site roles: their sites), optionally of one site, in date order."""
    records = permissions.scope(user, study, ScreeningRecord.objects.select_related(
        "site", "subject", "protocol_version", "rescreen_of", "rescreen_of__site"))
    if site:
        records = records.filter(site__code=site)
    return records.order_by("screening_date", "screened_at", "pk")


def _entry(record: ScreeningRecord) -> LogEntry:
    subject = getattr(record, "subject", None)
    return LogEntry(record=record, age=age_at_screening(record.birth_date, record.screening_date),
                    status=log_status(record), subject_id=subject.subject_id if subject else "",
                    rescreen_of=record.rescreen_of)


def age_at_screening(birth: date | None, screened: date) -> int | None:
    return None if birth is None else compute_age(birth, screened)


def log_entries(records: Any) -> list[LogEntry]:
    return [_entry(r) for r in records]


def log_rows(records: Any) -> Iterator[dict[str, Any]]:
    """One row per screening with :data:`LOG_COLUMNS` (empty cells for what was not recorded)."""
    for r in records.iterator(chunk_size=1000):
        e = _entry(r)
        yield {"screening": str(r), "site": r.site.code, "screening_date": r.screening_date.isoformat(),
               "initials": r.initials, "birth_date": r.birth_date.isoformat() if r.birth_date else "",
               "age": "" if e.age is None else e.age, "hospital_number": r.hospital_number, "status": e.status,
               "failed_criteria": ";".join(r.failed_criteria), "subject_id": e.subject_id,
               "rescreen_of": str(e.rescreen_of) if e.rescreen_of else "", "rescreen_reason": r.rescreen_reason,
               "protocol_version": r.protocol_version.label}


def deidentified_log(rows: Iterator[dict[str, Any]], deid: Any) -> tuple[Iterator[dict[str, Any]], list[str]]:
    """Rows and columns without identifiers or free text, the date shifted per subject (or screening)."""
    keyed = ({**row, "_key": row["subject_id"] or row["screening"]} for row in rows)
    out = ({k: v for k, v in r.items() if k != "_key"} for r in deid.rows(keyed, "_key", LOG_DATES, LOG_FREE_TEXT))
    return out, deid.columns(LOG_COLUMNS, LOG_DATES, LOG_FREE_TEXT)
