"""EDC data-entry pages of a 500-subject study: latency of the grid, the dashboard and the lab saves.

Not a test: a measurement, printed as a table (and as JSON with ``--json``). Steps:

1. A database of its own: a fresh SQLite file (default) or, with ``--postgres``, a fresh database
   on a throw-away PostgreSQL server (``tests/web/live_server.postgres_server``; production
   settings: fsync and synchronous commit on) or ``DATABASE_URL``'s server.
2. Seed, in a child process, through the EDC's own services (audited, as data entry would): the
   demo loaders (``npctrial.web.demo`` and the clinical demo hook) for the CCRT study alone, with
   enough screened patients for ``--subjects`` enrolled subjects at three sites (screen failures,
   randomisation, queries, baseline, radiotherapy, drug, weekly labs, AEs, RTOG, RECIST, follow-up
   visits with some missed, events, site laboratory reference ranges). ``--var DIR`` keeps the
   SQLite database in DIR and reuses it when it is already seeded.
3. Measure, in the same child process with Django's test client logged in as the data manager
   (every site) and the GZ coordinator (the saves), ``--requests`` requests of each kind after one
   warm-up request: a subject's event x form grid (the casebook), the status dashboard (page 1;
   and filtered by site and "overdue"), an event page, a 10-analyte lab panel save (web form) and
   a single lab save (web form). Subjects are drawn in turn from the enrolled subjects. The times
   are server-side (request in, response out, the whole Django stack; no network).
4. Print median and p95 (nearest rank), min and max per kind, and the number of SQL queries of
   the last request of each kind.

Run: ``python benchmarks/bench_edc_grid.py`` (SQLite) or ``python benchmarks/bench_edc_grid.py --postgres``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "src")]

from tests.web.live_server import fresh_database, postgres_server, run_python  # noqa: E402

KINDS = ("grid", "dashboard", "dashboard_filtered", "event", "panel_save", "lab_save")
PROTOCOL = "ccrt-nimotuzumab"
#: the ten analytes of the weekly panel, in the GZ demo laboratory's units
TEN = {"wbc": ("3.5", "10^9/L"), "neutrophils": ("1.2", "10^9/L"), "lymphocytes": ("0.9", "10^9/L"),
       "hemoglobin": ("95", "g/L"), "platelets": ("100", "10^9/L"), "alt": ("60", "U/L"), "ast": ("30", "U/L"),
       "bilirubin": ("25", "umol/L"), "albumin": ("42", "g/L"), "creatinine": ("80", "umol/L")}


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "npctrial.web.settings")
    import django

    django.setup()


def seed(n_subjects: int) -> None:
    """Step 2: the demo study with ``n_subjects`` enrolled subjects (6 in 10 demo patients are enrolled)."""
    from django.core.management import call_command
    from django.db import transaction

    from npctrial.web import demo
    from npctrial.web.core.models import Site, Study, Subject

    call_command("migrate", interactive=False, verbosity=0)
    if Study.objects.filter(code=PROTOCOL).exists():
        return
    demo._users()
    users = {u.username: u for u in demo.get_user_model().objects.filter(username__in=demo.USERS)}
    sites = [Site.objects.get_or_create(code=code, defaults={"name": name})[0] for code, name in demo.SITES]
    rng = demo.random.Random(2026)
    with transaction.atomic():
        demo._load_study(PROTOCOL, n_subjects, sites, users, rng, -(-n_subjects * 10 // 6))
        study = Study.objects.get(code=PROTOCOL)
        for hook in demo.DEMO_HOOKS:
            hook(study, users, rng)
    print(f"seeded {Subject.objects.filter(study=study).count()} subjects", file=sys.stderr)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, int(-(-q * len(ordered) // 100))) - 1]


def _login(username: str) -> Any:
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client()
    client.force_login(get_user_model().objects.get(username=username),
                       backend="django.contrib.auth.backends.ModelBackend")
    return client


def _panel(day: Any, week: int) -> dict[str, str]:
    out = {"panel": "weekly", "sample_date": day.isoformat(), "week": str(week)}
    for key, (value, unit) in TEN.items():
        out[f"{key}-value"], out[f"{key}-unit"] = value, unit
    return out


def _in_ccrt(subject: Any, i: int, n: int, weekday: int) -> tuple[Any, int]:
    """A sample date in CCRT week 1-7 of ``subject`` and its week: the ``i // n``-th of the series,
    on day ``weekday`` of its week (the demo's weekly labs are on day 3: no duplicate results, and the
    week matches the date, so the saves open no automatic queries)."""
    k = i // n
    week = 1 + k % 7
    return subject.radiotherapycourse_records.get().start_date + timedelta(days=7 * (week - 1) + weekday), week


def _lab(day: Any, week: int) -> dict[str, str]:
    return {"week": str(week), "sample_date": day.isoformat(), "term": "platelet_count_decreased", "value": "100",
            "unit": "10^9/L", "lln": "125", "lln_unit": "10^9/L"}


def _requests(study: Any, subjects: list[Any], gz: list[Any]) -> dict[str, Any]:
    """kind -> (client name, callable(i) -> (method, url, data, expected status))."""
    from django.urls import reverse

    from npctrial.web.clinical.views.grid import subject_grid

    s = study.pk
    events = {}
    for subject in subjects[:200]:  # an event with records per subject: the one with most of them
        rows = [r for r in subject_grid(subject).rows if any(c.records for c in r.cells)]
        if rows:
            events[subject.pk] = max(rows, key=lambda r: sum(len(c.records) for c in r.cells)).key
    with_events = [x for x in subjects if x.pk in events]

    def pick(items: list[Any], i: int) -> Any:
        return items[i % len(items)]

    return {
        "grid": ("dm", lambda i: ("get", reverse("casebook", kwargs={"study_pk": s, "pk": pick(subjects, i).pk}),
                                  None, 200)),
        "dashboard": ("dm", lambda i: ("get", reverse("status-dashboard", kwargs={"study_pk": s}), None, 200)),
        "dashboard_filtered": ("dm", lambda i: ("get", reverse("status-dashboard", kwargs={"study_pk": s})
                                                + "?site=HK&status=overdue", None, 200)),
        "event": ("dm", lambda i: ("get", reverse("event-detail", kwargs={
            "study_pk": s, "pk": pick(with_events, i).pk, "event": events[pick(with_events, i).pk]}), None, 200)),
        "panel_save": ("gz", lambda i: ("post", reverse("lab-panel", kwargs={"study_pk": s, "pk": pick(gz, i).pk}),
                                        _panel(*_in_ccrt(pick(gz, i), i, len(gz), 1)), 302)),
        "lab_save": ("gz", lambda i: ("post", reverse("crf-new", kwargs={"study_pk": s, "pk": pick(gz, i).pk,
                                                                         "form": "lab"}),
                                      _lab(*_in_ccrt(pick(gz, i), i, len(gz), 5)), 302)),
    }


def measure(n_requests: int) -> dict[str, Any]:
    """Step 3 (child process)."""
    from django.db import connection

    from npctrial.web.core.models import Study, Subject

    study = Study.objects.get(code=PROTOCOL)
    subjects = list(Subject.objects.filter(study=study).select_related("site", "protocol_version", "screening")
                    .order_by("site__code", "seq"))
    from django.utils import timezone

    from npctrial.web.clinical.locks import is_locked

    started = timezone.localdate() - timedelta(days=120)  # the saves date samples up to 100 days ago
    gz = [x for x in subjects if x.site.code == "GZ" and not is_locked(x)
          and x.radiotherapycourse_records.filter(start_date__lte=started).exists()
          and not x.clinicalevent_records.filter(kind__in=("death", "withdrawal")).exists()]
    clients = {"dm": _login("data_manager"), "gz": _login("coordinator")}
    result: dict[str, Any] = {"subjects": len(subjects), "vendor": connection.vendor, "rows": {}}
    for kind, (who, make) in _requests(study, subjects, gz).items():
        client, times = clients[who], []
        for i in range(n_requests + 1):
            method, url, data, expected = make(i)
            queries: list[str] = []

            def count(execute: Any, sql: str, *args: Any, seen: list[str] = queries) -> Any:
                seen.append(sql)
                return execute(sql, *args)

            with connection.execute_wrapper(count):
                started = time.perf_counter()
                response = getattr(client, method)(url, data) if data is not None else getattr(client, method)(url)
                elapsed = (time.perf_counter() - started) * 1000
            if response.status_code != expected:
                Path("bench-failure.html").write_bytes(response.content)  # in the database's directory
                raise SystemExit(f"{kind} {url}: status {response.status_code}, expected {expected} "
                                 f"(response in {Path('bench-failure.html').resolve()})")
            if i:  # the first request warms caches (protocol parsing, templates): not measured
                times.append(elapsed)
        result["rows"][kind] = {"n": len(times), "median_ms": _percentile(times, 50), "p95_ms": _percentile(times, 95),
                                "min_ms": min(times), "max_ms": max(times), "queries": len(queries)}
    return result


def _print(result: dict[str, Any]) -> None:
    print(f"\n{result['subjects']} subjects, {result['vendor']}; server-side latency (Django test client)")
    print(f"{'page':<20}{'n':>4}{'median ms':>11}{'p95 ms':>9}{'min ms':>9}{'max ms':>9}{'queries':>9}")
    for kind, r in result["rows"].items():
        print(f"{kind:<20}{r['n']:>4}{r['median_ms']:>11.0f}{r['p95_ms']:>9.0f}{r['min_ms']:>9.0f}{r['max_ms']:>9.0f}"
              f"{r['queries']:>9}")


def child(n_subjects: int, n_requests: int) -> None:
    _setup()
    started = time.perf_counter()
    seed(n_subjects)
    print(f"database ready in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    print(json.dumps(measure(n_requests)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--subjects", type=int, default=500)
    parser.add_argument("--requests", type=int, default=30, help="measured requests per kind")
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL instead of SQLite")
    parser.add_argument("--var", help="SQLite only: keep (and reuse) the seeded database in this directory")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", nargs=2, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    command = [str(Path(__file__).resolve()), "--child", str(args.subjects), str(args.requests)]
    hosts = {"NPCTRIAL_ALLOWED_HOSTS": "testserver"}  # the test client's host
    if args.postgres:
        with postgres_server(durable=True) as url, fresh_database(url) as env:
            done = run_python(command, {**env, **hosts}, timeout=7200)
    elif args.var:
        var = Path(args.var).resolve()
        var.mkdir(parents=True, exist_ok=True)
        done = run_python(command, {"NPCTRIAL_VAR_DIR": str(var), **hosts}, timeout=7200)
    else:
        with fresh_database("") as env:
            done = run_python(command, {**env, **hosts}, timeout=7200)
    sys.stderr.write(done.stderr[-4000:])
    if done.returncode != 0:
        raise SystemExit(f"the benchmark failed (exit {done.returncode})")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if args.json:
        print(json.dumps(result, indent=2))
    _print(result)


if __name__ == "__main__":
    main()
