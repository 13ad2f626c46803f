"""Exports for the statistician: per form CSV/XLSX (long and wide), SPSS .sav with value labels,
CDISC ODM 1.3 XML, and ADaM-like ADSL / ADAE / ADTTE (PFS, OS).

Large exports stream: rows are produced by generators over ``QuerySet.iterator()`` (CSV long and
ODM never hold the whole study in memory). ADSL carries ``pfs_months``/``pfs_event`` and
``os_months``/``os_event`` columns and :func:`adsl_config_yaml` the matching study config, so
``npctrial analyze adsl.csv --config adsl.yaml`` reads it directly.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import pandas as pd
from django.utils import translation
from django.utils.translation import gettext as _

from npctrial.domain.endpoints import DAYS_PER_MONTH
from npctrial.errors import ValidationError
from npctrial.web.clinical.crfs import CRFS, DERIVED, spec_of
from npctrial.web.clinical.export_fields import date_columns, free_text
from npctrial.web.clinical.odm_declared import (
    declared_odm_defs,
    declared_odm_forms,
    declared_odm_items,
    odm_text,
)
from npctrial.web.core.models import Subject
from npctrial.web.core.spreadsheet import neutralise_workbook, safe_rows

ODM_NS = "http://www.cdisc.org/ns/odm/v1.3"
ANALYSIS = ("adsl", "adae", "adtte")


def _value(v: Any) -> Any:
    if isinstance(v, datetime):
        return v.isoformat()
    if isinstance(v, date):
        return v.isoformat()
    return v


def form_columns(slug: str, deid: Any = None) -> list[str]:
    spec = spec_of(slug)
    cols = ["subject_id", "site", "record_id", "version", "protocol_version", *spec.fields, *DERIVED.get(slug, ())]
    return cols if deid is None else deid.columns(cols, date_columns(slug), free_text(slug))


def form_rows(slug: str, subjects: Any, deid: Any = None) -> Iterator[dict[str, Any]]:
    """One dict per record of the form, for the (already scoped) subjects queryset.

    ``deid`` (a :class:`npctrial.web.core.deidentify.Deidentifier`): dates shifted per subject or
    removed, free text dropped.
    """
    rows = _form_rows(slug, subjects)
    if deid is None:
        return rows
    return deid.rows(rows, "subject_id", date_columns(slug), free_text(slug))


def _form_rows(slug: str, subjects: Any) -> Iterator[dict[str, Any]]:
    spec = spec_of(slug)
    cols = [*spec.fields, *DERIVED.get(slug, ())]
    qs = (spec.model.objects.filter(subject__in=subjects)
          .order_by("subject__site__code", "subject__seq", "pk")
          .values_list("subject__subject_id", "subject__site__code", "pk", "version", "protocol_version__label", *cols))
    head = ("subject_id", "site", "record_id", "version", "protocol_version")
    for values in qs.iterator(chunk_size=2000):  # plain tuples: no model instances
        row = dict(zip(head, values[:5], strict=True))
        row.update({c: _value(v) for c, v in zip(cols, values[5:], strict=True)})
        yield row


def long_rows(slug: str, subjects: Any, deid: Any = None) -> Iterator[dict[str, Any]]:
    """Long format: one row per (record, field) with the value as text."""
    names = form_columns(slug, deid)[5:]
    for row in form_rows(slug, subjects, deid):
        for f in names:
            v = row[f]
            yield {"subject_id": row["subject_id"], "site": row["site"], "form": slug, "record_id": row["record_id"],
                   "field": f, "value": "" if v is None else v}


def wide_frame(slug: str, subjects: Any, deid: Any = None) -> pd.DataFrame:
    """Wide format: one row per subject; repeated records numbered ``field_1``, ``field_2`` ..."""
    spec = spec_of(slug)
    cols = form_columns(slug, deid)[5:]
    out: dict[str, dict[str, Any]] = {}
    counts: dict[str, int] = {}
    for row in form_rows(slug, subjects, deid):
        sid = row["subject_id"]
        k = counts[sid] = counts.get(sid, 0) + 1
        target = out.setdefault(sid, {"subject_id": sid, "site": row["site"]})
        for c in cols:
            target[c if spec.single else f"{c}_{k}"] = row[c]
    return pd.DataFrame(list(out.values()))


def csv_stream(rows: Iterable[dict[str, Any]], columns: list[str]) -> Iterator[str]:
    """CSV text in chunks (for a StreamingHttpResponse); text cells that a spreadsheet would run as a
    formula are neutralised (:mod:`npctrial.web.core.spreadsheet`)."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    n = 0
    for row in safe_rows(rows):
        writer.writerow(row)
        n += 1
        if n % 500 == 0:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()


def xlsx_bytes(frames: dict[str, pd.DataFrame]) -> bytes:
    """XLSX with one sheet per frame; no cell is stored as a formula (text typed as ``=...`` stays text)."""
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xw:
        for name, df in frames.items():
            df.to_excel(xw, sheet_name=name[:31], index=False)
        neutralise_workbook(xw.book)
    return buf.getvalue()


def _english(text: Any) -> str:
    """A (lazily translated) label in English: what exports carry whatever the reader's language."""
    with translation.override("en"):
        return str(text)


def _choices(slug: str) -> dict[str, list[tuple[Any, str]]]:
    """The value labels of the form's coded fields, in English whatever the reader's language
    (exports carry the coded values and their English names)."""
    spec = spec_of(slug)
    out = {}
    with translation.override("en"):
        for f in spec.fields:
            field = spec.model._meta.get_field(f)
            if field.choices:
                out[f] = [(k, str(v)) for k, v in field.choices if k != ""]
    return out


def sav_bytes(slug: str, subjects: Any, deid: Any = None) -> bytes:
    """SPSS .sav of one form (one row per record); choice fields coded 1..k with value labels."""
    import pyreadstat

    df = pd.DataFrame(list(form_rows(slug, subjects, deid)), columns=form_columns(slug, deid))
    labels: dict[str, dict[float, str]] = {}
    for f, choices in _choices(slug).items():
        if all(isinstance(k, int) for k, _ in choices):  # numeric codes (e.g. TNM edition 7/8) are kept
            df[f] = df[f].astype("float64")
            labels[f] = {float(k): label for k, label in choices}
            continue
        codes = {k: i + 1 for i, (k, _) in enumerate(choices)}
        df[f] = df[f].map(lambda v, c=codes: c.get(v)).astype("float64")
        labels[f] = {float(i + 1): label for i, (_, label) in enumerate(choices)}
    for c in df.columns:
        if df[c].dtype == bool:
            df[c] = df[c].astype("float64")
        elif df[c].dtype == object:
            df[c] = df[c].map(lambda v: "" if v is None else str(v))
    spec = spec_of(slug)
    column_labels = {f: str(spec.model._meta.get_field(f).verbose_name) for f in (*spec.fields, *DERIVED.get(slug, ()))}
    fd, path = tempfile.mkstemp(suffix=".sav")
    os.close(fd)
    try:
        pyreadstat.write_sav(df, path, column_labels=[column_labels.get(c, c) for c in df.columns],
                             variable_value_labels=labels)
        with open(path, "rb") as fh:
            return fh.read()
    finally:
        os.unlink(path)


def odm_stream(study: Any, subjects: Any, forms: Iterable[str] | None = None, deid: Any = None) -> Iterator[str]:
    """CDISC ODM 1.3 (Snapshot) of the clinical data: metadata then ClinicalData, streamed.

    The typed CRFs and the protocol-declared forms (:mod:`~npctrial.web.clinical.odm_declared`).
    With ``deid`` the dropped items are left out of the metadata too and dates are shifted per subject.
    """
    slugs = list(forms or CRFS)
    declared = declared_odm_forms(study) if forms is None else []
    form_defs, group_defs, item_defs = declared_odm_defs(declared, deid)
    item_names = {s: form_columns(s, deid)[5:] for s in slugs}
    oid = f"ST.{study.code}"
    yield '<?xml version="1.0" encoding="UTF-8"?>\n'
    yield (f'<ODM xmlns="{ODM_NS}" ODMVersion="1.3.2" FileType="Snapshot" FileOID={quoteattr(oid + ".export")} '
           f'CreationDateTime="{datetime.now().astimezone().isoformat(timespec="seconds")}">\n')
    yield f'<Study OID={quoteattr(oid)}><GlobalVariables><StudyName>{escape(study.code)}</StudyName>' \
          f'<StudyDescription>{escape(study.title)}</StudyDescription><ProtocolName>{escape(study.code)}' \
          '</ProtocolName></GlobalVariables>\n<MetaDataVersion OID="MDV.1" Name="npctrial CRFs">\n'
    yield '<Protocol><StudyEventRef StudyEventOID="SE.CRF" Mandatory="No"/></Protocol>\n'
    yield '<StudyEventDef OID="SE.CRF" Name="Case report forms" Repeating="Yes" Type="Common">' + "".join(
        f'<FormRef FormOID="F.{s}" Mandatory="No"/>' for s in [*slugs, *(f.id for f in declared)]) + "</StudyEventDef>\n"
    for s in slugs:
        yield f'<FormDef OID="F.{s}" Name={quoteattr(_english(spec_of(s).label))} Repeating="Yes">' \
              f'<ItemGroupRef ItemGroupOID="IG.{s}" Mandatory="Yes"/></FormDef>\n'
    yield from form_defs
    for s in slugs:
        spec = spec_of(s)
        yield f'<ItemGroupDef OID="IG.{s}" Name={quoteattr(_english(spec.label))} Repeating="Yes">' + "".join(
            f'<ItemRef ItemOID="IT.{s}.{f}" Mandatory="No"/>' for f in item_names[s]) + "</ItemGroupDef>\n"
    yield from group_defs
    for s in slugs:
        yield from _item_defs(s, item_names[s])
    yield from item_defs
    yield "</MetaDataVersion></Study>\n"
    yield f'<ClinicalData StudyOID={quoteattr(oid)} MetaDataVersionOID="MDV.1">\n'
    ids = subjects.order_by("site__code", "seq").values_list("pk", "subject_id")
    chunk: list[tuple[int, str]] = []
    for item in ids.iterator(chunk_size=500):
        chunk.append(item)
        if len(chunk) == 500:
            yield from _odm_subjects(chunk, slugs, item_names, deid, declared)
            chunk = []
    if chunk:
        yield from _odm_subjects(chunk, slugs, item_names, deid, declared)
    yield "</ClinicalData>\n</ODM>\n"


def _item_defs(slug: str, names: list[str]) -> Iterator[str]:
    model = spec_of(slug).model
    for f in names:
        kind = {"FloatField": "float", "DateField": "date", "DateTimeField": "datetime", "BooleanField": "boolean",
                "PositiveSmallIntegerField": "integer", "IntegerField": "integer"}.get(
            model._meta.get_field(f).get_internal_type(), "text")
        yield f'<ItemDef OID="IT.{slug}.{f}" Name="{f}" DataType="{kind}"/>\n'


def _odm_subjects(chunk: list[tuple[int, str]], slugs: list[str], names: dict[str, list[str]],
                  deid: Any = None, declared: Iterable[Any] = ()) -> Iterator[str]:
    """SubjectData of a chunk of subjects: one query per form for the whole chunk."""
    records: dict[int, dict[str, list[Any]]] = {pk: {} for pk, _ in chunk}
    for s in slugs:
        for r in spec_of(s).model.objects.filter(subject_id__in=records).order_by("pk"):
            records[r.subject_id].setdefault(s, []).append(r)
    extra = declared_odm_items(declared, records, dict(chunk), deid) if declared else {}
    for pk, key in chunk:
        parts = [f"<SubjectData SubjectKey={quoteattr(key)}><StudyEventData StudyEventOID=\"SE.CRF\">"]
        for s in slugs:
            for k, r in enumerate(records[pk].get(s, []), start=1):
                values = {f: getattr(r, f) for f in names[s]}
                if deid is not None:
                    values = deid.row(values, key, date_columns(s), ())
                items = "".join(
                    f'<ItemData ItemOID="IT.{s}.{f}" Value={quoteattr(odm_text(v))}/>'
                    for f, v in values.items() if v not in (None, ""))
                parts.append(f'<FormData FormOID="F.{s}" FormRepeatKey="{k}"><ItemGroupData ItemGroupOID="IG.{s}" '
                             f'ItemGroupRepeatKey="{r.pk}">{items}</ItemGroupData></FormData>')
        parts.extend(extra.get(pk, ()))
        parts.append("</StudyEventData></SubjectData>\n")
        yield "".join(parts)


def read_odm(text: str | bytes) -> dict[str, dict[str, list[dict[str, str]]]]:
    """Parse an ODM export back: subject -> form -> list of {item: value} (for round-trip checks)."""
    import xml.etree.ElementTree as ET

    root = ET.fromstring(text)
    ns = {"o": ODM_NS}
    out: dict[str, dict[str, list[dict[str, str]]]] = {}
    for sd in root.iterfind(".//o:SubjectData", ns):
        forms: dict[str, list[dict[str, str]]] = {}
        for fd in sd.iterfind(".//o:FormData", ns):
            slug = fd.get("FormOID", "")[2:]
            items = {i.get("ItemOID", "").split(".", 2)[2]: i.get("Value", "") for i in fd.iterfind(".//o:ItemData", ns)}
            forms.setdefault(slug, []).append(items)
        out[sd.get("SubjectKey", "")] = forms
    return out


# --------------------------------------------------------------------------- analysis datasets


def _chunks(subjects: Any, size: int = 500) -> Iterator[list[Subject]]:
    chunk: list[Subject] = []
    # protocol versions are not joined: their parsed JSON would be decoded once per subject
    qs = subjects.select_related("site", "randomisation", "screening").order_by("site__code", "seq")
    for s in qs.iterator(chunk_size=size):
        chunk.append(s)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _analysis(chunk: list[Subject], protocol_for: Any) -> tuple[Any, set[int]]:
    """The report's analysis set for a chunk of subjects (same derivation, same exclusions)."""
    from npctrial.web.clinical.analysis_set import build_analysis_set, load_records, treated_ids

    records = load_records(chunk)
    randomised = protocol_for(chunk[0].protocol_version_id).randomisation is not None
    return build_analysis_set(chunk, randomised, protocol_for, records), treated_ids(chunk, records)


def _arm_label(arm: str | None) -> str:
    from npctrial.web.clinical.analysis_set import NOT_ASSIGNED

    return NOT_ASSIGNED if arm is None else arm


def adsl_rows(subjects: Any) -> Iterator[dict[str, Any]]:
    """ADSL (one row per subject) with PFS and OS time/event columns for ``npctrial analyze``.

    Subjects are read in chunks of 500 with one query per CRF model per chunk. A subject not
    evaluable for an endpoint keeps its row: time and event empty, ``*_evalrsn`` says why (the
    same reason the report lists). ``saffl`` = the report's safety population (RT or any drug).
    """
    from npctrial.web.clinical.analysis_set import protocol_cache

    protocol_for = protocol_cache()
    for chunk in _chunks(subjects):
        analysis, treated = _analysis(chunk, protocol_for)
        for row in analysis.rows:
            s, base, rt = row.subject, row.records.baseline, row.records.rt
            r = getattr(s, "randomisation", None)
            out: dict[str, Any] = {
                "usubjid": s.subject_id, "siteid": s.site.code, "arm": _arm_label(row.arm),
                "randfl": "Y" if r is not None else "N",
                "sex": s.screening.values.get("sex", ""), "enrldt": s.enrolment_date.isoformat(),
                "randdt": r.randomisation_date.isoformat() if r is not None else "",
                "stage": base.stage_group if base else "", "bsa": base.bsa_m2 if base else None,
                "ecog": base.ecog if base else None, "trtsdt": rt.start_date.isoformat() if rt else "",
                "saffl": "Y" if s.pk in treated else "N",
            }
            for name in ("PFS", "OS"):
                v = row.values.get(name)
                out[f"{name.lower()}_months"] = None if v is None else round(v.time_days / DAYS_PER_MONTH, 4)
                out[f"{name.lower()}_event"] = None if v is None else (1 if v.status == 1 else 0)
                out[f"{name.lower()}_evalrsn"] = "" if v is not None else analysis.reasons(s.subject_id, name)
            yield out


ADSL_COLUMNS = ["usubjid", "siteid", "arm", "randfl", "sex", "enrldt", "randdt", "stage", "bsa", "ecog", "trtsdt",
                "saffl", "pfs_months", "pfs_event", "pfs_evalrsn", "os_months", "os_event", "os_evalrsn"]
ADAE_COLUMNS = ["usubjid", "siteid", "saffl", "aeterm", "aeterm_other", "aesoc", "aetoxgr", "aesrc", "aerel",
                "aeser", "astdt", "aendt", "week", "srcrec"]
ADTTE_COLUMNS = ["usubjid", "siteid", "arm", "paramcd", "param", "aval", "avalu", "cnsr", "startdt", "adt",
                 "evalfl", "evalrsn"]


def adae_rows(subjects: Any) -> Iterator[dict[str, Any]]:
    """ADAE: every AE and every lab value with a CTCAE grade >= 1 (``aesrc`` AE or LAB), as the report counts them.

    ``saffl`` marks the safety population the report's AE rate uses; ``srcrec`` is the CRF record.
    """
    from npctrial.web.clinical.analysis_set import load_records, safety_records, treated_ids

    for chunk in _chunks(subjects):
        treated = treated_ids(chunk, load_records(chunk))
        saffl = {s.subject_id: ("Y" if s.pk in treated else "N") for s in chunk}
        for rec in safety_records(chunk):
            r = rec.row
            is_ae = rec.source == "AE"
            yield {"usubjid": rec.subject_id, "siteid": rec.site, "saffl": saffl[rec.subject_id], "aeterm": rec.term,
                   "aeterm_other": r.term_other if is_ae else "", "aesoc": r.soc if is_ae else "",
                   "aetoxgr": rec.grade, "aesrc": rec.source, "aerel": r.attribution if is_ae else "",
                   "aeser": ("Y" if r.serious else "N") if is_ae else "", "astdt": rec.start.isoformat(),
                   "aendt": r.stop_date.isoformat() if is_ae and r.stop_date else "", "week": r.week,
                   "srcrec": rec.record}


def adtte_rows(subjects: Any) -> Iterator[dict[str, Any]]:
    """ADTTE: PARAMCD PFS and OS, AVAL in months, CNSR 1 = censored (ADaM convention).

    A subject not evaluable for a parameter keeps a row with ``evalfl`` N, AVAL empty and the reason.
    """
    from npctrial.web.clinical.analysis_set import protocol_cache

    protocol_for = protocol_cache()
    labels = {"PFS": "Progression-free survival (months)", "OS": "Overall survival (months)"}
    for chunk in _chunks(subjects):
        analysis, _ = _analysis(chunk, protocol_for)
        for row in analysis.rows:
            s = row.subject
            for name in ("PFS", "OS"):
                v = row.values.get(name)
                base = {"usubjid": s.subject_id, "siteid": s.site.code, "arm": _arm_label(row.arm), "paramcd": name,
                        "param": labels[name], "avalu": "MONTHS"}
                if v is None:
                    yield {**base, "aval": None, "cnsr": None, "startdt": "", "adt": "", "evalfl": "N",
                           "evalrsn": analysis.reasons(s.subject_id, name)}
                    continue
                yield {**base, "aval": round(v.time_days / DAYS_PER_MONTH, 4), "cnsr": 0 if v.status == 1 else 1,
                       "startdt": v.origin_date.isoformat(), "adt": v.end_date.isoformat(),
                       "evalfl": "Y" if row.arm is not None else "N",
                       "evalrsn": "" if row.arm is not None else analysis.reasons(s.subject_id, name)}


def analysis_rows(name: str, subjects: Any) -> tuple[Iterator[dict[str, Any]], list[str]]:
    if name == "adsl":
        return adsl_rows(subjects), ADSL_COLUMNS
    if name == "adae":
        return adae_rows(subjects), ADAE_COLUMNS
    if name == "adtte":
        return adtte_rows(subjects), ADTTE_COLUMNS
    raise ValidationError(_("unknown analysis dataset %(name)r (known: %(known)s)") % {"name": name, "known": ", ".join(ANALYSIS)},
                          field="name")


def adsl_config_yaml(study_code: str, randomised: bool) -> str:
    """A study config for ``npctrial analyze adsl.csv --config`` (KM of PFS and OS, by arm)."""
    group = "\n    group: arm" if randomised else ""
    return f"""title: "{study_code}: survival from the EDC (ADSL)"
id_column: usubjid
columns:
  usubjid: {{column: usubjid, type: category}}
  arm: {{column: arm, type: category}}
  pfs_months: {{column: pfs_months, type: number, allow_missing: true}}
  pfs_event: {{column: pfs_event, type: binary, allow_missing: true}}
  os_months: {{column: os_months, type: number, allow_missing: true}}
  os_event: {{column: os_event, type: binary, allow_missing: true}}
survival:
  - name: pfs
    title: Progression-free survival
    time: pfs_months
    event: pfs_event{group}
  - name: os
    title: Overall survival
    time: os_months
    event: os_event{group}
"""


def subjects_in(study: Any, user: Any) -> Any:
    from npctrial.web.core import permissions

    return permissions.scope(user, study, Subject.objects.all())
