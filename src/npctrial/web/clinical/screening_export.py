"""The ``screening`` export: one row per screening with its values, consent and enrolment.

Its columns are those the import reads back (:mod:`npctrial.web.clinical.imports`): the fixed
columns of :data:`SCREENING_COLUMNS`, then every catalogued field of the study's protocol
versions that any screening holds, in protocol order. Booleans are written ``true``/``false``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from npctrial.web.core.models import ScreeningRecord, Study
from npctrial.web.core.screening import protocol_of

SCREENING_COLUMNS = ("screening", "site", "screening_date", "protocol_version", "outcome", "failed_criteria",
                     "subject_id", "consent_date", "consent_version", "enrolment_date")


def screening_field_columns(study: Study, records: Any) -> list[str]:
    """Catalogued field names held by the records, in the order of the current protocol."""
    held: set[str] = set()
    for values in records.values_list("values", flat=True):
        held.update(values)
    version = study.current_protocol
    order = [f.name for f in protocol_of(version).fields] if version else []
    return [n for n in order if n in held] + sorted(held - set(order))


def screening_date_and_text_columns(study: Study) -> tuple[list[str], list[str]]:
    """(date columns, free-text columns) of the export, for de-identification."""
    version = study.current_protocol
    fields = protocol_of(version).fields if version else ()
    dates = ["screening_date", "consent_date", "enrolment_date", *(f.name for f in fields if f.type == "date")]
    return dates, [f.name for f in fields if f.type == "text"]


def _cell(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def screening_rows(records: Any, fields: list[str]) -> Iterator[dict[str, Any]]:
    qs = records.select_related("site", "protocol_version", "subject", "consent").order_by("site__code", "number")
    for r in qs.iterator(chunk_size=1000):
        subject = getattr(r, "subject", None)
        consent = getattr(r, "consent", None)
        row = {"screening": str(r), "site": r.site.code, "screening_date": r.screening_date.isoformat(),
               "protocol_version": r.protocol_version.label, "outcome": r.outcome,
               "failed_criteria": ";".join(r.failed_criteria), "subject_id": subject.subject_id if subject else "",
               "consent_date": consent.consent_date.isoformat() if consent else "",
               "consent_version": consent.consent_version if consent else "",
               "enrolment_date": subject.enrolment_date.isoformat() if subject else ""}
        row.update({f: _cell(r.values.get(f, "")) for f in fields})
        yield row


def screening_export(study: Study, records: Any, deid: Any = None) -> tuple[Iterator[dict[str, Any]], list[str]]:
    """(rows, columns) of the screening export of ``records`` (already scoped to the user's sites)."""
    fields = screening_field_columns(study, records)
    columns = [*SCREENING_COLUMNS, *fields]
    rows = screening_rows(records, fields)
    if deid is None:
        return rows, columns
    dates, text = screening_date_and_text_columns(study)
    # a screening shifts with its subject; one never enrolled with its own label
    keyed = ({**row, "_key": row["subject_id"] or row["screening"]} for row in rows)
    return ({k: v for k, v in r.items() if k != "_key"} for r in deid.rows(keyed, "_key", dates, text)), \
        deid.columns(columns, dates, text)


def scoped_screenings(user: Any, study: Study) -> Any:
    from npctrial.web.core import permissions

    return permissions.scope(user, study, ScreeningRecord.objects.all())
