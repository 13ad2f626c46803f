"""Study-wide audit log files: CSV and CDISC ODM 1.3.2 (AuditRecords), both streamed.

CSV: one row per entry (time in UTC ISO 8601, user, action, record, form, subject, site, reason,
summary, changes as ``field: old -> new; ...``, source row, client address), formula-safe
(:mod:`npctrial.web.core.spreadsheet`).

ODM: ``AdminData`` lists the users and the sites (``User``, ``Location``); ``ClinicalData``
holds one ``AuditRecords`` element with an ``AuditRecord`` per entry (``UserRef``, ``LocationRef``,
``DateTimeStamp``, ``ReasonForChange``, ``SourceID`` = the audit row). What the entry did (action,
record, subject, each changed value) is carried in the ``npc:`` extension namespace, as ODM
allows vendor extensions: core ODM readers keep who, where, when and why.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from npctrial.web.core.audit_log import LogEntry
from npctrial.web.core.spreadsheet import safe_cell

__all__ = ["CSV_COLUMNS", "NPC_NS", "log_csv", "log_odm"]

CSV_COLUMNS = ["at_utc", "user", "action", "record", "form", "subject", "site", "reason", "summary", "changes",
               "source", "ip_address"]
NPC_NS = "https://npctrial.org/ns/odm-audit/v1"
ODM_NS = "http://www.cdisc.org/ns/odm/v1.3"


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _row(e: LogEntry) -> list[Any]:
    return [_utc(e.at), e.user, e.action, e.record, e.form, e.subject, e.site, e.reason, e.summary,
            e.changes_text(), e.source, e.ip_address]


def log_csv(entries: Iterable[LogEntry]) -> Iterator[str]:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for n, e in enumerate(entries, start=1):
        writer.writerow([safe_cell(v) for v in _row(e)])
        if n % 500 == 0:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()


def _oid(prefix: str, text: str) -> str:
    return prefix + "".join(c if c.isalnum() or c in "._-" else "_" for c in (text or "system"))


def _record(e: LogEntry, n: int) -> str:
    location = f'<LocationRef LocationOID={quoteattr(_oid("LOC.", e.site or "STUDY"))}/>'
    parts = [f'<AuditRecord ID="AR.{n}" EditPoint="{"DBAudit" if e.source.startswith("core.AuditEvent") else "DataManagement"}"'
             ' UsedImputationMethod="No">',
             f'<UserRef UserOID={quoteattr(_oid("USR.", e.user))}/>', location,
             f"<DateTimeStamp>{_utc(e.at)}</DateTimeStamp>"]
    if e.reason:
        parts.append(f"<ReasonForChange>{escape(e.reason)}</ReasonForChange>")
    parts.append(f"<SourceID>{escape(e.source)}</SourceID>")
    parts.append(f"<npc:Entry Action={quoteattr(e.action)} Record={quoteattr(e.record)} Form={quoteattr(e.form)}"
                 f" Subject={quoteattr(e.subject)}" + (f" Summary={quoteattr(e.summary)}" if e.summary else "") + ">")
    for c in e.changes:
        old = "" if c.old is None else str(c.old)
        new = "" if c.new is None else str(c.new)
        parts.append(f"<npc:Change Field={quoteattr(c.field)} Old={quoteattr(old)} New={quoteattr(new)}/>")
    parts.append("</npc:Entry></AuditRecord>\n")
    return "".join(parts)


def log_odm(study: Any, entries: Iterable[LogEntry], users: Iterable[str], sites: Iterable[tuple[str, str]]) -> Iterator[str]:
    """ODM 1.3.2 of the log. ``users``: usernames; ``sites``: (code, name) of the study's sites."""
    oid = _oid("ST.", study.code)
    yield '<?xml version="1.0" encoding="UTF-8"?>\n'
    yield (f'<ODM xmlns="{ODM_NS}" xmlns:npc="{NPC_NS}" ODMVersion="1.3.2" FileType="Snapshot" '
           f'Granularity="AllClinicalData" Archival="Yes" FileOID={quoteattr(oid + ".audit")} '
           f'CreationDateTime="{_utc(datetime.now(UTC))}" Description="study-wide audit log">\n')
    yield (f'<Study OID={quoteattr(oid)}><GlobalVariables><StudyName>{escape(study.code)}</StudyName>'
           f'<StudyDescription>{escape(study.title)}</StudyDescription><ProtocolName>{escape(study.code)}'
           '</ProtocolName></GlobalVariables><MetaDataVersion OID="MDV.1" Name="audit log"/></Study>\n')
    yield "<AdminData>"
    for username in sorted(set(users) | {"system"}):
        yield (f'<User OID={quoteattr(_oid("USR.", username))}><LoginName>{escape(username)}</LoginName>'
               "</User>")
    for code, name in [("STUDY", "study-level"), *sites]:
        yield (f'<Location OID={quoteattr(_oid("LOC.", code))} Name={quoteattr(name)} LocationType="Site">'
               f'<MetaDataVersionRef StudyOID={quoteattr(oid)} MetaDataVersionOID="MDV.1" '
               f'EffectiveDate="{datetime.now(UTC).date().isoformat()}"/></Location>')
    yield "</AdminData>\n"
    yield f'<ClinicalData StudyOID={quoteattr(oid)} MetaDataVersionOID="MDV.1"><AuditRecords>\n'
    for n, e in enumerate(entries, start=1):
        yield _record(e, n)
    yield "</AuditRecords></ClinicalData>\n</ODM>\n"
