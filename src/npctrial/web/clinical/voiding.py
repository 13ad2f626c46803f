"""Records entered in error: voided with a reason, never deleted.

Voiding a CRF record (:func:`void_record`):

1. Refuse if the subject or the study is locked, if the record is already voided, or without a
   reason; the record's version must be the one the user confirmed (optimistic lock).
2. Set ``voided_at``/``voided_by``/``void_reason`` through the audited save: the audit trail keeps
   who voided what, when and why, and every value the record had.
3. Close the record's open data queries ("record voided"), and recompute the RECIST series when a
   tumour assessment is voided (the next assessment may become the baseline).

A voided record stays in the database but leaves every analysis: the default manager of the CRF
models (``objects``) returns live records only, so reports, endpoints, analysis datasets, form
exports, the grid and the calendar never see it; :func:`voided_records` lists them (the voided-
records listing and its CSV), and each report and export says how many it left out.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from npctrial.errors import ValidationError
from npctrial.web.clinical import crfs
from npctrial.web.clinical.locks import assert_editable
from npctrial.web.clinical.models import DeclaredRecord
from npctrial.web.core.locking import save_with_version
from npctrial.web.core.models import Subject
from npctrial.web.core.queries import close_query


def void_record(slug: str, record: Any, user: Any, reason: str, *, expected_version: int) -> Any:
    """Void one CRF record (steps 1-3 of the module docstring); returns it as saved."""
    subject = record.subject
    assert_editable(subject)
    if record.voided_at is not None:
        raise ValidationError(_("this record is already voided"), field="record")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("a reason is required to void a record (e.g. entered for the wrong patient)"),
                              field="reason")
    with transaction.atomic():
        voided = save_with_version(record, expected_version=expected_version, user=user,
                                   changes={"voided_at": timezone.now(), "voided_by": user, "void_reason": reason[:300]},
                                   reason=_("voided (entered in error): %(reason)s") % {"reason": reason})
        ref = crfs.query_record(slug, record.pk)
        for query in subject.queries.filter(record=ref).exclude(status="closed"):
            close_query(query, user=user, note=_("record voided"))
        if slug == "assessment":
            crfs.recompute_recist(subject)
    return voided


@dataclass(frozen=True)
class VoidedRow:
    subject: Subject
    slug: str
    record: Any
    voided_at: datetime
    voided_by: Any
    reason: str


def voided_records(subjects: Any) -> Iterator[VoidedRow]:
    """Every voided CRF record of ``subjects`` (already scoped), newest first within each form;
    then the voided records of protocol-declared forms (their form id as slug)."""
    for slug, spec in crfs.CRFS.items():
        qs = (spec.model.all_objects.filter(subject__in=subjects, voided_at__isnull=False)
              .select_related("subject__site", "voided_by").order_by("-voided_at", "pk"))
        for r in qs:
            yield VoidedRow(r.subject, slug, r, r.voided_at, r.voided_by, r.void_reason)
    for r in (DeclaredRecord.all_objects.filter(subject__in=subjects, voided_at__isnull=False)
              .select_related("subject__site", "subject__protocol_version", "voided_by").order_by("form", "-voided_at", "pk")):
        yield VoidedRow(r.subject, r.form, r, r.voided_at, r.voided_by, r.void_reason)


def _voided_where(model: Any, subjects_sql: str) -> str:
    """``<table> WHERE <voided_at> IS NOT NULL AND <subject> IN (<subjects_sql>)``, names quoted."""
    quote, meta = connection.ops.quote_name, model._meta
    return (f"{quote(meta.db_table)} WHERE {quote(meta.get_field('voided_at').column)} IS NOT NULL "
            f"AND {quote(meta.get_field('subject').column)} IN ({subjects_sql})")


def voided_count(subjects: Any) -> dict[str, int]:
    """Voided records per form slug (forms with none left out), CRFs first, then declared forms.

    One statement: a UNION ALL of one ``COUNT`` per CRF table and the declared forms' counts by
    form id, the subjects selected by the scoped query as a subquery. Written as SQL from the
    models' own table and column names (quoted) because building a dozen ORM querysets and
    their union costs more than running the statement."""
    try:
        sub_sql, sub_params = subjects.order_by().values("pk").query.sql_with_params()
    except EmptyResultSet:  # a query that can select no subject (e.g. ``none()``): nothing voided
        return {}
    parts, params = [], []
    for slug, spec in crfs.CRFS.items():
        parts.append(f"SELECT %s, COUNT(*) FROM {_voided_where(spec.model, sub_sql)}")
        params += [slug, *sub_params]
    form = connection.ops.quote_name(DeclaredRecord._meta.get_field("form").column)
    parts.append(f"SELECT {form}, COUNT(*) FROM {_voided_where(DeclaredRecord, sub_sql)} GROUP BY {form}")
    params += sub_params
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        found = {form: int(n) for form, n in cursor.fetchall() if n}
    ordered = [*crfs.CRFS, *sorted(set(found) - set(crfs.CRFS))]
    return {form: found[form] for form in ordered if form in found}
