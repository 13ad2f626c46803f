"""EDC clinical exports: streaming CSV/ODM/ADSL vs building the whole table in pandas first.

A throw-away SQLite database (migrated) gets ``n`` synthetic subjects, each with a baseline, a
radiotherapy course, 3 adverse events and 2 RECIST assessments (bulk inserts, no audit rows).
Rows:

* ``export_ae_csv``: :func:`npctrial.web.clinical.exports.csv_stream` over ``form_rows`` (generator,
  ``QuerySet.iterator``) vs the peer ``pandas``: all rows into a DataFrame, then ``to_csv``;
  ``peak_mb`` / ``pandas_peak_mb`` are tracemalloc peaks (streaming keeps memory flat).
* ``export_odm``: the ODM 1.3 stream (500 subjects per chunk, one query per form per chunk);
  ``us_per_subject`` shows linear growth.
* ``export_adsl``: ADSL with PFS/OS derived per subject through the domain layer.

Default sizes 1000 subjects; the issue's target (10,000 subjects in under a minute) is
``python benchmarks/bench_clinical_exports.py 10000``.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

_VAR = tempfile.mkdtemp(prefix="npctrial-bench-clinical-")
os.environ.setdefault("NPCTRIAL_VAR_DIR", _VAR)
os.environ.setdefault("NPCTRIAL_SECRET_KEY", "benchmark-only-secret-key-0123456789")
os.environ["DJANGO_SETTINGS_MODULE"] = "npctrial.web.settings"


def _setup() -> None:
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def _populate(n: int):
    from npctrial.web.clinical.models import (
        AdverseEvent,
        Baseline,
        Lesion,
        RadiotherapyCourse,
        TumourAssessment,
    )
    from npctrial.web.core.models import ScreeningRecord, Site, Subject
    from npctrial.web.core.protocols import load_bundled_protocol_text
    from npctrial.web.core.studies import create_study

    site, _ = Site.objects.get_or_create(code=f"B{n}", defaults={"name": "bench"})
    study = create_study(code=f"bench-{n}", yaml_text=load_bundled_protocol_text("imrt-s1"), target_enrolment=n,
                         sites=[site])
    pv = study.current_protocol
    scr = ScreeningRecord.objects.bulk_create(
        [ScreeningRecord(study=study, site=site, protocol_version=pv, number=i + 1, values={"sex": "male"},
                         outcome="eligible") for i in range(n)], batch_size=2000)
    enrolled = datetime(2025, 1, 6, tzinfo=UTC)
    subjects = Subject.objects.bulk_create(
        [Subject(study=study, site=site, screening=s, protocol_version=pv, subject_id=f"NPC-B-{i + 1:05d}", seq=i + 1)
         for i, s in enumerate(scr)], batch_size=2000)
    Subject.objects.filter(study=study).update(enrolled_at=enrolled)
    d0 = date(2025, 1, 6)
    Baseline.objects.bulk_create([Baseline(subject=s, protocol_version=pv, assessment_date=d0, height_cm=170,
                                           weight_kg=60, bsa_m2=1.68, t_category="T3", n_category="N1",
                                           m_category="M0", stage_group="III") for s in subjects], batch_size=2000)
    RadiotherapyCourse.objects.bulk_create(
        [RadiotherapyCourse(subject=s, protocol_version=pv, total_dose_gy=70, fractions=33,
                            start_date=d0 + timedelta(days=7), end_date=d0 + timedelta(days=52)) for s in subjects],
        batch_size=2000)
    AdverseEvent.objects.bulk_create(
        [AdverseEvent(subject=s, protocol_version=pv, term=t, grade=1 + (i + k) % 3, attribution="possible",
                      start_date=d0 + timedelta(days=14 + 7 * k))
         for i, s in enumerate(subjects) for k, t in enumerate(("mucositis_oral", "dry_mouth", "dermatitis_radiation"))],
        batch_size=5000)
    assessments = TumourAssessment.objects.bulk_create(
        [TumourAssessment(subject=s, protocol_version=pv, assessment_date=d0 + timedelta(days=days),
                          overall_response=resp)
         for i, s in enumerate(subjects) for days, resp in ((0, ""), (120, "PD" if i % 4 == 0 else "PR"))],
        batch_size=5000)
    Lesion.objects.bulk_create([Lesion(assessment=a, lesion_id="L1", location="nasopharynx", diameter_mm=30)
                                for a in assessments], batch_size=5000)
    return study, Subject.objects.filter(study=study)


def _measure(fn: Callable[[], object]) -> tuple[float, float]:
    """Wall time of one untraced run, then the tracemalloc peak (MB) of a second run."""
    start = time.perf_counter()
    fn()
    elapsed = time.perf_counter() - start
    if os.environ.get("NPCTRIAL_BENCH_MEMORY", "1") != "1":
        return elapsed, float("nan")
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    return elapsed, peak


def run(sizes: list[int] | None = None) -> list[dict]:
    _setup()
    import pandas as pd

    from npctrial.web.clinical import exports

    rows = []
    for n in sizes or [1000]:
        study, subjects = _populate(n)

        def ours_csv(subjects=subjects) -> None:
            for _ in exports.csv_stream(exports.form_rows("ae", subjects), exports.form_columns("ae")):
                pass

        def pandas_csv(subjects=subjects) -> None:
            pd.DataFrame(list(exports.form_rows("ae", subjects))).to_csv(index=False)

        ours_s, ours_mb = _measure(ours_csv)
        pd_s, pd_mb = _measure(pandas_csv)
        rows.append({"benchmark": "export_ae_csv", "n": n, "ours_s": round(ours_s, 3), "pandas_s": round(pd_s, 3),
                     "ratio_pandas": round(pd_s / ours_s, 2), "peak_mb": round(ours_mb, 1),
                     "pandas_peak_mb": round(pd_mb, 1)})
        odm_s, odm_mb = _measure(lambda st=study, sb=subjects: sum(len(x) for x in exports.odm_stream(st, sb)))
        rows.append({"benchmark": "export_odm", "n": n, "ours_s": round(odm_s, 3), "peak_mb": round(odm_mb, 1),
                     "us_per_subject": round(odm_s / n * 1e6, 1)})
        adsl_s, adsl_mb = _measure(lambda sb=subjects: sum(1 for _ in exports.adsl_rows(sb)))
        rows.append({"benchmark": "export_adsl", "n": n, "ours_s": round(adsl_s, 3), "peak_mb": round(adsl_mb, 1),
                     "us_per_subject": round(adsl_s / n * 1e6, 1)})
    return rows


if __name__ == "__main__":  # pragma: no cover
    import json

    sizes = [int(float(s)) for s in sys.argv[1].split(",")] if len(sys.argv) > 1 else None
    for r in run(sizes):
        print(json.dumps(r))
