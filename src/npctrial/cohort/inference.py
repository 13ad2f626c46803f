"""Drafting a study config for a cohort file that came without one, saying what was guessed.

Steps (each guess becomes a note in the report and the draft config ``study.inferred.yaml``):

1. Cells: the missing tokens (``NA``, ``.``, empty) are missing; a column whose every present
   cell is a number is numeric.
2. Columns: empty and constant columns are not analysed (never a factor); a patient
   identifier (``id``, ``patient_id``, ...) is the ``id_column``; site codes (``inst``, ``site``,
   ``center``) are kept out of the analyses; dates are recognised by their values (orders that
   the column does not prove stop the run, see :mod:`npctrial.cohort.dates`); 0/1 columns are
   binary; text or integer codes with at most 12 (text) or 6 (integers) values are factors;
   other numbers are continuous; free text is not analysed.
3. Endpoints, as R's conventions: a status column (``status``, ``fustat``, ``death``,
   ``event``, ``pstat``, ``*_event`` ...) with its time (``time``, ``futime``, ``stop``,
   ``ptime``, ``os_months`` ... by shared prefix); status coded 1/2 is R's ``Surv`` (1 censored,
   2 event), 0/1 is (censored, event), ``censor*`` columns are inverted, 0/1/2 are competing
   causes (1 the event, 2 the competing event); a ``start``/``tstart`` column next to ``stop``
   makes counting-process (start, stop] rows. Dates: a start date (diagnosis, treatment, RT,
   enrolment, randomisation), a last-follow-up date and event flags or event dates.
4. Several rows per patient: counting-process intervals are kept as such; otherwise the first
   row of each patient (file order) is analysed.
5. Analyses: Table 1 of the factors and continuous variables against the first endpoint's
   event; Kaplan-Meier of each endpoint, by the treatment column (else sex) when there is one;
   cumulative incidence for competing causes; univariate Cox models of the first endpoint.
   Time units come from the column names (``*_days``, ``months``...), else are unknown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from npctrial.cohort.config import (
    AssociationSpec,
    ColumnSpec,
    CompetingRiskSpec,
    CoxSpec,
    DerivedSpec,
    StudyConfig,
    SurvivalSpec,
    ToxicitySpec,
)
from npctrial.cohort.dates import parse_date_column
from npctrial.cohort.plan import natural_order
from npctrial.cohort.values import as_level

_ID = re.compile(r"^(id|pid|patient(_?id|_?no|_?number)?|subject(_?id)?|usubjid|mrn|case(_?id)?"
                 r"|住院号|病案号|病历号|患者编号|病人编号|受试者编号|登记号|门诊号|编号)$")
_SITE = re.compile(r"^(inst|institution|site|center|centre|hospital|中心|医院|中心编号|研究中心)(_?id)?$")
_STATUS = re.compile(r"(status|stat|event|death|dead|died|censor|cens|fail|relapse|recur|progress|pcm"
                     r"|死亡|状态|结局|事件|复发|转移|进展|删失)")
_TIME = re.compile(r"(time|futime|stop|tstop|days|months|weeks|years|duration|survival|follow|时间|生存期|随访期)")
_SUFFIX = re.compile(r"_?(status|stat|event|ind|flag|censor(ed)?|cens)$")
_ENTRY = re.compile(r"^(start|tstart|entry|t_start|time_start)$")
_TREATMENT = re.compile(r"(^|_)(trt|rx|arm|treat(ment)?|group|modality)($|_)|治疗方式|治疗方案|治疗分组|组别|分组")
_SEX = re.compile(r"^(sex|gender|性别)$")
_START_DATE = re.compile(r"start|diagnos|treat|rt_|begin|enrol|random|surgery|entry|开始|诊断|确诊|入组|随机|治疗|放疗|手术")
_LAST_DATE = re.compile(r"last|follow|censor|contact|末次|最后|随访|截止")
_EVENT_DATE = re.compile(r"death|died|relapse|recur|progress|metast|failure|event|死亡|复发|转移|进展")
_UNIT = (("days", re.compile(r"day|天")), ("weeks", re.compile(r"week|周")), ("months", re.compile(r"month|月")),
         ("years", re.compile(r"year|年")))
_GRADE = re.compile(r"^(acute|late)_")


@dataclass
class _Column:
    key: str
    spec: ColumnSpec
    role: str  # "id", "site", "date", "binary", "factor", "continuous", "grade", "text"


def _key(name: str, used: set[str]) -> str:
    key = re.sub(r"\W+", "_", name.strip().lower()).strip("_") or "column"
    base, k = key, 2
    while key in used:
        key, k = f"{base}_{k}", k + 1
    used.add(key)
    return key


def _normalise(df: pd.DataFrame) -> pd.DataFrame:
    from npctrial.cohort.validation import missing_mask

    out = {}
    for c in df.columns:
        col = df[c].where(~missing_mask(df[c]), None)
        num = pd.to_numeric(col, errors="coerce")
        out[c] = num if bool((num.notna() == col.notna()).all()) else col
    return pd.DataFrame(out)


def _is_dates(values: pd.Series, name: str) -> bool:
    if pd.api.types.is_datetime64_any_dtype(values):
        return True
    present = values.dropna()
    if present.empty or pd.api.types.is_numeric_dtype(present):
        return False
    where = pd.Series([""] * len(present), index=present.index)
    parsed = parse_date_column(present, np.zeros(len(present), dtype=bool), where, column=name)
    return bool(parsed.invalid.mean() <= 0.05) and (parsed.ambiguity is not None or parsed.values.notna().any())


def _classify(name: str, key: str, values: pd.Series, notes: list[str]) -> _Column | None:
    present = values.dropna()
    missing = bool(values.isna().any())
    if present.empty:
        notes.append(f"{name!r} is empty: not used")
        return None
    distinct = present.map(as_level).unique()
    if _ID.match(key):
        return _Column(key, ColumnSpec(column=name, allow_missing=missing), "id")
    if len(distinct) == 1:
        notes.append(f"{name!r} is constant ({distinct[0]!r} in every row): not used as a factor")
        return None
    if _SITE.match(key):
        notes.append(f"{name!r} looks like a site code: kept out of the analyses")
        return _Column(key, ColumnSpec(column=name, allow_missing=missing), "site")
    if _is_dates(values, name):
        return _Column(key, ColumnSpec(column=name, type="date", allow_missing=missing), "date")
    numeric = pd.api.types.is_numeric_dtype(present)
    if numeric and set(distinct) <= {"0", "1"}:
        return _Column(key, ColumnSpec(column=name, type="binary", allow_missing=missing), "binary")
    if numeric and _GRADE.match(key) and present.between(0, 5).all() and (present == present.round()).all():
        return _Column(key, ColumnSpec(column=name, type="grade", allow_missing=missing), "grade")
    integers = numeric and bool((present == present.round()).all())
    if (not numeric and len(distinct) <= 12) or (integers and len(distinct) <= 6):
        levels = natural_order(distinct)
        return _Column(key, ColumnSpec(column=name, levels=levels, allow_missing=missing), "factor")
    if numeric:
        return _Column(key, ColumnSpec(column=name, type="number", allow_missing=missing), "continuous")
    notes.append(f"{name!r} is free text ({len(distinct)} different values): not analysed")
    return None


@dataclass
class _Endpoint:
    name: str
    time: str
    event: str  # a 0/1 variable (column or derived)
    competing: str | None = None
    entry: str | None = None
    failure: bool = False


def _unit_of(key: str) -> str | None:
    return next((unit for unit, pattern in _UNIT if pattern.search(key)), None)


def _status_code(cells: pd.Series) -> str | None:
    levels = set(cells.dropna().map(as_level))
    for code, allowed in (("01", {"0", "1"}), ("12", {"1", "2"}), ("012", {"0", "1", "2"})):
        if levels <= allowed and len(levels) >= 2:
            return code
    return None


def _time_for(status: str, times: list[str], only_status: bool) -> str | None:
    prefix = _SUFFIX.sub("", status)
    if prefix and prefix != status:
        for t in times:
            rest = t[len(prefix):].lstrip("_") if t.startswith(prefix) else None
            if rest is not None and _TIME.search(rest or t):
                return t
    for generic in ("time", "futime", "stop", "tstop", "survival_time", "os_time", "follow_up"):
        if generic in times:
            return generic
    # the file's only time with its only status (e.g. 生存时间（月） and 死亡); never shared by two events
    return times[0] if len(times) == 1 and only_status else None


def _numeric_endpoints(cols: dict[str, _Column], cells: dict[str, pd.Series], derived: list[DerivedSpec],
                       notes: list[str]) -> list[_Endpoint]:
    times = []
    for k, c in cols.items():
        if c.role not in ("continuous", "factor") or not _TIME.search(k):
            continue
        negative = int((pd.to_numeric(cells[k], errors="coerce") < 0).sum())
        if negative:
            notes.append(f"{k!r} looks like a time but {negative} value(s) are negative: not used as a survival time")
        else:
            times.append(k)
    out: list[_Endpoint] = []
    statuses = [k for k in cols if _STATUS.search(k) and k not in times and _status_code(cells[k])]
    for key, col in cols.items():
        if not _STATUS.search(key) or key in times:
            continue
        code = _status_code(cells[key])
        time = _time_for(key, times, len(statuses) == 1) if code else None
        if time is None:
            continue
        entry = next((k for k in cols if _ENTRY.match(k) and time in ("stop", "tstop")), None)
        if entry is not None:
            cols[entry].role = "entry"
        prefix = _SUFFIX.sub("", key)
        name = prefix if len(prefix) >= 3 else key
        censor = re.search(r"cens", key) is not None
        if code == "01" and not censor:
            event = key
        elif code in ("01", "12"):
            mapping: dict[str, str | int | float | None] = {"0": 1, "1": 0} if code == "01" else {"1": 0, "2": 1}
            event = f"{name}_event" if f"{name}_event" not in cols else f"{key}_event"
            derived.append(DerivedSpec(name=event, kind="recode", source=key, mapping=mapping))
            notes.append(f"{key!r} coded {'0/1 as a censoring indicator (1 = censored)' if code == '01' else '1/2'}"
                         f"{'' if code == '01' else ' as in R (1 = censored, 2 = event)'}: event = {event}")
        else:
            event = f"{name}_cause1"
            derived.append(DerivedSpec(name=event, kind="recode", source=key, mapping={"0": 0, "1": 1, "2": 0}))
            derived.append(DerivedSpec(name=f"{name}_cause2", kind="recode", source=key,
                                       mapping={"0": 0, "1": 0, "2": 1}))
            notes.append(f"{key!r} coded 0/1/2: competing causes (0 = censored, 1 = the event, 2 = the competing "
                         "event)")
        col.role = "status"
        cols[time].role = "time"
        out.append(_Endpoint(name, time, event, f"{name}_cause2" if code == "012" else None, entry))
        notes.append(f"endpoint {name}: time {time}{' from ' + entry if entry else ''}, event {event}")
    return out


def _date_endpoints(cols: dict[str, _Column], derived: list[DerivedSpec], notes: list[str]) -> list[_Endpoint]:
    dates = [k for k, c in cols.items() if c.role == "date"]
    start = next((d for d in dates if _START_DATE.search(d)), None)
    last = next((d for d in dates if _LAST_DATE.search(d) and d != start), None)
    if start is None or last is None:
        return []
    out = []
    flags = [k for k, c in cols.items() if c.role == "binary" and (_STATUS.search(k) or re.search(r"metast|death", k))]
    for event in flags:
        stem = event.split("_")[0]
        event_date = next((d for d in dates if stem in d and d not in (start, last)), None)
        name = f"{event}_months"
        derived.append(DerivedSpec(name=name, kind="duration", start=start, end=[event_date, last] if event_date else [last]))
        if event_date:
            cols[event] = _Column(event, cols[event].spec.model_copy(update={"date": event_date}), "status")
        else:
            cols[event].role = "status"
        out.append(_Endpoint(event, name, event, failure=event_date is not None))
        notes.append(f"endpoint {event}: months from {start} to {event_date + ' or ' if event_date else ''}{last}")
    used = {d for d in (start, last)} | {c.spec.date for c in cols.values() if c.spec.date}
    for d in dates:  # an event date without a flag: the event is the date being present
        if d in used or not _EVENT_DATE.search(d):
            continue
        event = re.sub(r"_?(date|dt)$", "", d) + "_event"
        name = f"{event.removesuffix('_event')}_months"
        derived += [DerivedSpec(name=event, kind="event", source=d),
                    DerivedSpec(name=name, kind="duration", start=start, end=[d, last])]
        out.append(_Endpoint(event.removesuffix("_event"), name, event))
        notes.append(f"endpoint {event}: 1 where {d} is given; months from {start} to {d} or {last}")
    return out


def _analyses(cols: dict[str, _Column], endpoints: list[_Endpoint], time_unit: str | None,
              entry_rows: bool) -> dict[str, object]:
    factors = [k for k, c in cols.items() if c.role in ("factor", "binary")]
    continuous = [k for k, c in cols.items() if c.role == "continuous"]
    group = next((f for f in factors if _TREATMENT.search(f)), None) or next((f for f in factors if _SEX.match(f)), None)
    out: dict[str, object] = {"survival": [], "competing_risks": []}
    for ep in endpoints:
        out["survival"].append(SurvivalSpec(name=f"km_{ep.name}", title=f"Kaplan-Meier: {ep.name}", time=ep.time,  # type: ignore[attr-defined]
                                            event=ep.event, group=group, failure=ep.failure, entry=ep.entry))
        if ep.competing:
            out["competing_risks"].append(CompetingRiskSpec(  # type: ignore[attr-defined]
                name=f"cif_{ep.name}", title=f"Cumulative incidence: {ep.name} (cause 2 competing)", time=ep.time,
                event=ep.event, competing=ep.competing, group=group))
    covariates = factors + continuous
    if endpoints and covariates and not entry_rows:
        ep = endpoints[0]
        events = {ep.event, ep.competing} - {None}
        table1 = [v for v in covariates if v not in events]
        out["association"] = AssociationSpec(title=f"Patient characteristics by {ep.name}", outcome=ep.event,
                                              outcome_labels={"1": "Event", "0": "No event"}, variables=table1)
    if endpoints and covariates:
        ep = endpoints[0]
        covs = [v for v in covariates if v != ep.event]
        out["cox"] = CoxSpec(title=f"Univariate Cox models: {ep.name}", time=ep.time, event=ep.event, covariates=covs,
                             categorical=[v for v in covs if v in factors], entry=ep.entry)
    return out


def _id_column(df: pd.DataFrame) -> str | None:
    used: set[str] = set()
    return next((c for c in df.columns if _ID.match(_key(str(c), used))), None)


def _one_row_per_patient(cells: pd.DataFrame, notes: list[str]) -> pd.DataFrame:
    """Without counting-process columns, several rows per patient are read as the first row of
    each patient (so that a column constant within the first rows is not taken for a factor)."""
    idc = _id_column(cells)
    if idc is None or not cells[idc].duplicated().any():
        return cells
    used: set[str] = set()
    keys = [_key(str(c), used) for c in cells.columns]
    n_pat = cells[idc].nunique()
    if any(_ENTRY.match(k) for k in keys) and any(k in ("stop", "tstop") for k in keys):
        notes.append(f"several rows per patient ({len(cells)} rows, {n_pat} patients in {idc!r}) with start/stop "
                     "columns: counting-process intervals (start, stop], kept as such")
        return cells
    notes.append(f"several rows per patient ({len(cells)} rows, {n_pat} patients in {idc!r}): the first row of each "
                 "patient (file order) is analysed; declare rows_per_patient and order_rows_by to choose")
    return cells[~cells[idc].duplicated(keep="first")]


def infer_config(df: pd.DataFrame) -> tuple[StudyConfig, list[str]]:
    """Draft a config from a raw cohort frame; returns it and one note per guess (module docstring)."""
    notes: list[str] = []
    cells_frame = _one_row_per_patient(_normalise(df), notes)
    used: set[str] = set()
    cols: dict[str, _Column] = {}
    cells: dict[str, pd.Series] = {}
    for name in df.columns:
        key = _key(str(name), used)
        col = _classify(str(name), key, cells_frame[name], notes)
        if col is not None:
            cols[key], cells[key] = col, cells_frame[name]
    derived: list[DerivedSpec] = []
    endpoints = _numeric_endpoints(cols, cells, derived, notes) + _date_endpoints(cols, derived, notes)
    if not endpoints:
        notes.append("no survival endpoint recognised (a time with a status, or dates): no survival analysis")
    id_key = next((k for k, c in cols.items() if c.role == "id"), None)
    entry_rows = any(ep.entry for ep in endpoints)
    rows = "one"
    if id_key is not None and _id_column(df) is not None and df[_id_column(df)].duplicated().any():
        rows = "intervals" if entry_rows else "first"
    time_unit = _infer_unit(cols, endpoints, notes)
    if time_unit is not None:
        for ep in endpoints:
            unit = _unit_of(ep.time)
            if ep.time in cols and unit is not None:
                cols[ep.time] = _Column(ep.time, cols[ep.time].spec.model_copy(update={"unit": unit}), "time")
    for key, col in cols.items():
        notes.append(f"{col.spec.column!r} -> {key} ({col.role}"
                     + (f", levels {'/'.join(col.spec.levels)}" if col.spec.levels else "") + ")")
    tox = [k for k, c in cols.items() if c.role == "grade"]
    analyses = _analyses(cols, endpoints, time_unit, entry_rows)
    config = StudyConfig(
        title="Draft cohort analysis (inferred)", id_column=id_key, time_unit=time_unit,  # type: ignore[arg-type]
        rows_per_patient=rows,  # type: ignore[arg-type]
        columns={k: c.spec for k, c in cols.items()}, derived=derived,
        toxicity=[ToxicitySpec(name="toxicity", title="Toxicity by grade", variables=tox)] if tox else [],
        **analyses)  # type: ignore[arg-type]
    return config, notes


def _infer_unit(cols: dict[str, _Column], endpoints: list[_Endpoint], notes: list[str]) -> str | None:
    if any(ep.time not in cols for ep in endpoints):  # durations derived from dates
        return "months"
    units = {u for u in (_unit_of(ep.time) for ep in endpoints) if u}
    if len(units) == 1:
        return units.pop()
    for ep in endpoints:
        notes.append(f"the time unit of {ep.time!r} is not known: times are used as they are in the file; declare "
                     f"unit: days|weeks|months|years for it (and time_unit) to get yearly landmarks")
    return None
