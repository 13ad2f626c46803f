"""Data import: screenings (with consent and enrolment) and CRF records from CSV, CRF records from ODM 1.3.

Every row goes through the data-entry code, so an import accepts exactly what the pages accept:

1. Screening rows (``kind="screening"``, the columns of the ``screening`` export): the protocol's
   field coercion (:func:`npctrial.web.core.protocols.field_errors`, every bad field listed),
   :func:`~npctrial.web.core.screening.create_screening`, and when ``consent_date`` is given
   :func:`~npctrial.web.core.enrolment.enrol`. A given ``outcome`` or ``subject_id`` must be what the
   EDC derives (an import never relabels a patient silently).
2. CRF rows (``kind=<form>`` CSV with the export's columns, or ``kind="odm"``): the page's form
   (:func:`npctrial.web.clinical.crfs.form_class`, every field error listed) then
   :func:`~npctrial.web.clinical.crfs.save_crf` (derivations, locks, per-form access, protocol rules).
   ``mode="create"`` adds a record per row (source record ids are not reused); ``mode="update"``
   changes the record named by ``record_id`` of that subject, with ``version`` as the optimistic lock,
   and only the columns present. Derived columns are recomputed, not read. Records of a
   protocol-declared form (ODM ``F.<form id>``) are new records checked by
   :func:`~npctrial.web.clinical.declared.save_declared` (the domain's check, every field listed);
   their calculated items are recomputed, not read. A declared form's CSV (``kind=<form id>``,
   the columns of its export) is read the same way.
3. All rows run in one transaction, each in its own savepoint: a refused row is rolled back and
   listed (row, field, message). Unless ``partial`` is set, any problem rolls back the whole import:
   nothing is written. With ``partial`` the good rows are kept and the report lists the others.
4. Each created or changed record carries the import's reason in its history; the import itself
   (file name, SHA-256, counts, problems) is an :class:`ImportRun` and an ``import`` audit event.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.forms.models import model_to_dict
from django.utils import translation
from django.utils.translation import gettext as _

from npctrial.errors import FieldErrors, ValidationError
from npctrial.web.clinical import crfs, declared
from npctrial.web.clinical.declared_export import declared_columns, declared_export_forms
from npctrial.web.clinical.exports import form_columns
from npctrial.web.clinical.import_files import Problem, ReadResult, SourceRow, read_csv, read_odm
from npctrial.web.clinical.screening_export import SCREENING_COLUMNS
from npctrial.web.core import permissions, protocols
from npctrial.web.core.enrolment import enrol
from npctrial.web.core.events import record_event
from npctrial.web.core.locking import EditConflict
from npctrial.web.core.models import Site, Study, Subject
from npctrial.web.core.screening import create_screening, protocol_of

__all__ = ["ImportReport", "import_kinds", "run_import"]

MODES = ("create", "update")
MAX_BYTES = 20_000_000  # pages and API; the CLI reads any size
_TRUE, _FALSE = {"true", "1", "yes", "y"}, {"false", "0", "no", "n", ""}


class RowProblems(Exception):
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__(problems[0].message if problems else "")


@dataclass(frozen=True)
class ImportReport:
    kind: str
    mode: str
    filename: str
    sha256: str
    rows: int
    created: int
    updated: int
    problems: tuple[Problem, ...]
    notes: tuple[str, ...]
    applied: bool
    partial: bool

    @property
    def refused_rows(self) -> int:
        return len({p.row for p in self.problems if p.row})

    def summary(self) -> str:
        """In the active language (the audit trail keeps the English, see ``_record``)."""
        state = _("applied") if self.applied else _("refused: nothing written")
        if self.applied and self.problems:
            state = _("partly applied (%(count)s row(s) refused)") % {"count": self.refused_rows}
        return _("%(kind)s import of %(file)s: %(rows)s row(s), %(created)s created, %(updated)s updated, "
                 "%(problems)s problem(s); %(state)s") % {
            "kind": self.kind, "file": self.filename or _("file"), "rows": self.rows, "created": self.created,
            "updated": self.updated, "problems": len(self.problems), "state": state}

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "mode": self.mode, "filename": self.filename, "sha256": self.sha256,
                "rows": self.rows, "created": self.created, "updated": self.updated, "applied": self.applied,
                "partial": self.partial, "problems": [p.as_dict() for p in self.problems], "notes": list(self.notes),
                "summary": self.summary()}


def import_kinds(study: Study | None = None) -> list[str]:
    """What a file may hold: screenings, a typed CRF, a declared form of ``study``'s protocol, or ODM."""
    return ["screening", *crfs.CRFS, *(declared_export_forms(study) if study is not None else ()), "odm"]


@dataclass
class _Context:
    study: Study
    user: Any
    reason: str
    mode: str
    notes: list[str] = field(default_factory=list)

    def subject(self, row: SourceRow) -> Subject:
        sid = row.cells.get("subject_id", "").strip()
        subject = (permissions.scope(self.user, self.study, Subject.objects.select_related("site"))
                   .filter(subject_id=sid).first())
        if subject is None:
            raise ValidationError(_("no subject %(subject)r in %(study)s at your sites") % {"subject": sid, "study": self.study.code},
                                  field="subject_id")
        site = row.cells.get("site", "").strip()
        if site and site != subject.site.code:
            raise ValidationError(_("%(subject)s is a subject of site %(site)s, not %(given)s")
                                  % {"subject": sid, "site": subject.site.code, "given": site}, field="site")
        return subject


def _protocol(study: Study) -> Any:
    version = study.current_protocol
    if version is None:
        raise ValidationError(_("the study has no protocol version"), field="protocol")
    return protocol_of(version)


def _iso_date(row: SourceRow, name: str) -> date | None:
    text = row.cells.get(name, "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationError(_("%(field)s must be a date YYYY-MM-DD, got %(value)r") % {"field": name, "value": text},
                              field=name) from None


def _apply_screening(ctx: _Context, row: SourceRow) -> str:
    """Rule 1 of the module docstring."""
    if ctx.mode != "create":
        raise ValidationError(_("screening rows are always new screenings (mode create)"), field="mode")
    code = row.cells.get("site", "").strip()
    site = Site.objects.filter(code=code, study_sites__study=ctx.study).first()
    if site is None:
        raise ValidationError(_("site %(site)r is not a site of this study") % {"site": code}, field="site")
    permissions.require(ctx.user, ctx.study, "screen", site)
    protocol = _protocol(ctx.study)
    names = {f.name for f in protocol.fields}
    raw = {k: v for k, v in row.cells.items() if k in names and v.strip() != ""}
    errors = protocols.field_errors(protocol, raw)
    if errors:
        raise RowProblems([Problem(row.number, k, msg, row.location) for k, msg in errors.items()])
    record = create_screening(ctx.study, site, raw, ctx.user, screening_date=_iso_date(row, "screening_date"),
                              reason=ctx.reason)
    expected = row.cells.get("outcome", "").strip()
    if expected and expected != record.outcome:
        raise ValidationError(_("the file says %(expected)s, the values give %(outcome)s")
                              % {"expected": expected, "outcome": record.outcome}, field="outcome")
    consent = _iso_date(row, "consent_date")
    given_id = row.cells.get("subject_id", "").strip()
    if consent is None:
        if given_id:
            raise ValidationError(_("a subject_id needs the consent_date of the enrolment"), field="consent_date")
        return "created"
    permissions.require(ctx.user, ctx.study, "enrol", site)
    subject = enrol(record, consent_date=consent, consent_version=row.cells.get("consent_version", ""),
                    user=ctx.user, enrolment_date=_iso_date(row, "enrolment_date"), reason=ctx.reason)
    if given_id and given_id != subject.subject_id:
        raise ValidationError(_("the patient would be enrolled as %(subject)s, not %(given)s")
                              % {"subject": subject.subject_id, "given": given_id}, field="subject_id")
    return "created"


def _boolean_problems(spec: crfs.CrfSpec, row: SourceRow) -> list[Problem]:
    """CSV booleans must be true/false (Django's checkbox would read any other text as true)."""
    from django.db import models

    out = []
    for name in spec.fields:
        if isinstance(spec.model._meta.get_field(name), models.BooleanField) and name in row.cells:
            if row.cells[name].strip().lower() not in _TRUE | _FALSE:
                out.append(Problem(row.number, name, _("%(field)s must be true or false, got %(value)r")
                                   % {"field": name, "value": row.cells[name]}, row.location))
    return out


def _bool_cells(spec: crfs.CrfSpec, cells: dict[str, Any]) -> dict[str, Any]:
    from django.db import models

    return {k: (v.strip().lower() in _TRUE if isinstance(v, str) and isinstance(
        spec.model._meta.get_field(k), models.BooleanField) else v) for k, v in cells.items()}


def _apply_crf(ctx: _Context, row: SourceRow) -> str:
    """Rule 2 of the module docstring."""
    try:
        spec = crfs.spec_of(row.form)
    except ValidationError:
        return _apply_declared(ctx, row)
    subject = ctx.subject(row)
    permissions.require(ctx.user, ctx.study, "edit_crf", subject.site)
    problems = _boolean_problems(spec, row)
    if problems:
        raise RowProblems(problems)
    cells = _bool_cells(spec, {k: v for k, v in row.cells.items() if k in spec.fields})
    instance, version = None, None
    if ctx.mode == "update":
        instance = permissions.get_scoped_or_404(ctx.user, ctx.study, spec.model.objects.filter(subject=subject),
                                                 row.cells.get("record_id", ""), site_field="subject__site")
        try:
            version = int(row.cells.get("version", ""))
        except ValueError:
            raise ValidationError(_("version must be the record's version number"), field="version") from None
        cells = {**model_to_dict(instance, fields=list(spec.fields)), **cells}
    form = crfs.form_class(spec.slug)(data=cells)
    if not form.is_valid():
        raise RowProblems([Problem(row.number, name if name != "__all__" else "form", " ".join(errs), row.location)
                           for name, errs in form.errors.items()])
    values = {k: form.cleaned_data[k] for k in spec.fields if k in form.cleaned_data}
    crfs.save_crf(spec.slug, subject, values, ctx.user, instance=instance, expected_version=version,
                  reason=ctx.reason)
    return "updated" if instance is not None else "created"


def _apply_declared(ctx: _Context, row: SourceRow) -> str:
    """Rule 2 for a protocol-declared form (ODM): a new record checked as data entry; calculated items
    are recomputed, not read."""
    subject = ctx.subject(row)
    spec = declared.declared_spec(subject.protocol_version, row.form)
    if spec is None:
        raise ValidationError(_("unknown form %(form)r") % {"form": row.form}, field="form")
    if ctx.mode == "update":
        raise ValidationError(_("records of a protocol-declared form are imported as new records only"),
                              field="form")
    permissions.require(ctx.user, ctx.study, "edit_crf", subject.site)
    entered = {f.name for f in spec.form.entered}
    declared.save_declared(row.form, subject, {k: v for k, v in row.cells.items() if k in entered}, ctx.user,
                           reason=ctx.reason)
    return "created"


def _columns_problems(kind: str, study: Study, read: ReadResult) -> list[Problem]:
    """Unknown CSV columns are refused (a misspelt column would otherwise be dropped)."""
    if kind == "screening":
        known = set(SCREENING_COLUMNS) | {f.name for f in _protocol(study).fields}
    elif kind in (declared_forms := declared_export_forms(study)):
        known = set(declared_columns(declared_forms[kind]))
    else:
        known = set(form_columns(kind))
    return [Problem(0, c, _("unknown column %(column)r for %(kind)s") % {"column": c, "kind": kind})
            for c in read.columns if c and c not in known]


def _read(kind: str, study: Study, data: bytes) -> ReadResult:
    if kind == "odm":
        read = read_odm(data)
        order = {slug: i for i, slug in enumerate(crfs.CRFS)}
        read.rows.sort(key=lambda r: (order.get(r.form, len(order)), r.number))  # e.g. RT before late RTOG
        return read
    declared_form = declared_export_forms(study).get(kind)
    if kind != "screening" and kind not in crfs.CRFS and declared_form is None:
        raise ValidationError(_("kind must be one of %(kinds)s, got %(kind)r") % {"kinds": ", ".join(import_kinds(study)), "kind": kind},
                              field="kind")
    read = read_csv(data, kind)
    read.problems.extend(_columns_problems(kind, study, read))
    if kind != "screening":
        recomputed = crfs.DERIVED.get(kind, ()) if declared_form is None else [f.name for f in declared_form.calculated]
        derived = [c for c in recomputed if c in read.columns]
        if derived:
            read.notes.append(_("derived columns recomputed, not read: %(columns)s") % {"columns": ", ".join(derived)})
    return read


def _run_rows(ctx: _Context, rows: list[SourceRow], partial: bool) -> tuple[int, int, list[Problem]]:
    """Rule 3: every row in a savepoint; everything rolled back on a problem unless partial."""
    created = updated = 0
    problems: list[Problem] = []
    with transaction.atomic():
        for row in rows:
            try:
                with transaction.atomic():
                    outcome = (_apply_screening if row.form == "screening" else _apply_crf)(ctx, row)
            except RowProblems as exc:
                problems.extend(exc.problems)
            except FieldErrors as exc:  # several fields of the row refused: each listed
                problems.extend(Problem(row.number, e.field or "row", str(e), row.location) for e in exc.problems)
            except (ValidationError, EditConflict, PermissionDenied) as exc:
                name = getattr(exc, "field", None) or ("version" if isinstance(exc, EditConflict) else "row")
                problems.append(Problem(row.number, name, str(exc), row.location))
            else:
                created += outcome == "created"
                updated += outcome == "updated"
        if problems and not partial:
            transaction.set_rollback(True)
    return created, updated, problems


def run_import(study: Study, user: Any, *, kind: str, data: bytes, reason: str, filename: str = "",
               mode: str = "create", partial: bool = False, request: Any = None) -> ImportReport:
    """Import ``data`` (steps in the module docstring); the report lists every problem."""
    permissions.require(user, study, "import_data")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("give the reason for the import (kept in every record's history)"), field="reason")
    if mode not in MODES:
        raise ValidationError(_("mode must be create or update, got %(mode)r") % {"mode": mode}, field="mode")
    read = _read(kind, study, data)
    ctx = _Context(study, user, reason, mode)
    created = updated = 0
    problems = list(read.problems)
    if not any(p.row == 0 for p in problems):  # the file itself is readable
        created, updated, row_problems = _run_rows(ctx, read.rows, partial)
        problems.extend(row_problems)
    applied = (created + updated) > 0 and (partial or not problems)
    report = ImportReport(kind=kind, mode=mode, filename=filename, sha256=hashlib.sha256(data).hexdigest(),
                          rows=len(read.rows), created=created if applied else 0, updated=updated if applied else 0,
                          problems=tuple(problems), notes=tuple(read.notes + ctx.notes), applied=applied,
                          partial=partial)
    _record(study, user, report, reason, request)
    return report


def _record(study: Study, user: Any, report: ImportReport, reason: str, request: Any) -> None:
    from npctrial.web.clinical.models import ImportRun
    from npctrial.web.core.audit import create_audited

    with transaction.atomic():
        create_audited(ImportRun, user, study=study, kind=report.kind, mode=report.mode, filename=report.filename[:200],
                       sha256=report.sha256, rows=report.rows, created=report.created, updated=report.updated,
                       applied=report.applied, partial=report.partial, import_reason=reason,
                       problems=[p.as_dict() for p in report.problems], notes=list(report.notes),
                       imported_by=user if getattr(user, "is_authenticated", False) else None)
        with translation.override("en-gb"):
            summary = report.summary()
        record_event("import", request=request, user=user, study=study, record=report.filename or report.kind,
                     reason=reason, summary=summary,
                     details={"kind": report.kind, "sha256": report.sha256, "rows": report.rows,
                              "created": report.created, "updated": report.updated, "applied": report.applied,
                              "problems": len(report.problems)})
