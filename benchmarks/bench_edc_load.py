"""EDC under load: 50 concurrent users on ``npctrial serve --production`` with PostgreSQL.

Not a test: a measurement, printed as a table (and as JSON with ``--json``). Steps:

1. A PostgreSQL server of its own (``/usr/lib/postgresql/*/bin``; durable settings: fsync and
   synchronous commit on, as in production) or ``DATABASE_URL``'s; a fresh database.
2. Seed, in a child process, through the EDC's own services (audited, as data entry would): the
   CCRT study at one site, ``--users`` coordinator accounts, ``--subjects`` randomised subjects
   with baseline, radiotherapy, two adverse events and a follow-up visit, and one subject per
   planned randomisation waiting to be randomised.
3. Start the production server (gunicorn, ``--workers``, ``--threads``; WhiteNoise static).
4. Each user is a thread with its own session: log in, open the dashboard and the report once
   (warm-up: every worker process has imported and cached what it needs; not measured), wait for
   the others, then ``--rounds`` times, in order, with a
   random think time (uniform 0 to 2 x ``--think`` seconds) before each request: the study
   dashboard, the subject list, a casebook, a CRF save (a follow-up visit through the API),
   a randomisation (API) and the study report page.
5. Latency of every request (client side: connect to last byte) per kind: p50/p95/p99 and max
   (nearest-rank percentiles), requests per second over the run, and errors (any status other
   than the expected one, or a failed connection), each listed with its status.

Run: ``python benchmarks/bench_edc_load.py`` (defaults: 50 users, 4 rounds, think 1 s, the server's default
workers, 1 thread). ``--think 0`` is the closed-loop stress variant (every user always waiting on the server).
The load generator runs on the same machine as the server and the database, as on a small
hospital server.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "src")]

from tests.web.live_server import (  # noqa: E402
    Browser,
    fresh_database,
    postgres_server,
    production_server,
    run_python,
)

PASSWORD = "correct-horse-battery-9"
KINDS = ("dashboard", "subject_list", "casebook", "crf_save", "randomise", "report")


def seed(n_users: int, n_subjects: int, n_waiting: int) -> dict[str, Any]:
    """Step 2 (runs in the child process, ``--seed``)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "npctrial.web.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.utils import timezone

    from npctrial.web.clinical.crfs import save_crf
    from npctrial.web.core.allocation import randomise
    from npctrial.web.core.enrolment import enrol
    from npctrial.web.core.models import Membership, Site
    from npctrial.web.core.protocols import load_bundled_protocol_text
    from npctrial.web.core.screening import create_screening
    from npctrial.web.core.studies import create_study

    call_command("migrate", interactive=False, verbosity=0)
    site = Site.objects.create(code="GZ", name="Guangzhou")
    users = [get_user_model().objects.create_user(f"coord{i:02d}", password=PASSWORD) for i in range(n_users)]
    study = create_study(code="ccrt-load", yaml_text=load_bundled_protocol_text("ccrt-nimotuzumab"),
                         target_enrolment=n_subjects + n_waiting, sites=[site])
    for user in users:
        Membership.objects.create(user=user, study=study, role="coordinator", site=site)
    today = timezone.localdate()
    subjects: list[int] = []
    waiting: list[int] = []
    for i in range(n_subjects + n_waiting):
        values = {"sex": ("female", "male")[i % 2], "t_category": "T3", "n_category": "N2", "m_category": "M0",
                  "induction_chemotherapy": True, "ebv_dna_post_induction": 1200,
                  "induction_response": ("CR", "PR", "SD", "PD")[i % 4]}
        user = users[i % n_users]
        record = create_screening(study, site, values, user)
        subject = enrol(record, consent_date=record.screened_at.date(), consent_version="1.0", user=user)
        if i >= n_subjects:
            waiting.append(subject.pk)
            continue
        randomise(subject, user)
        save_crf("baseline", subject, {"assessment_date": today, "height_cm": 165, "weight_kg": 60,
                                       "t_category": "T3", "n_category": "N2", "m_category": "M0", "ecog": 1}, user)
        save_crf("radiotherapy", subject, {"technique": "IMRT", "total_dose_gy": 70.0, "fractions": 33,
                                           "start_date": today, "delivered_fractions": 0}, user)
        for week, term, grade in ((1, "mucositis_oral", 2), (2, "dermatitis_radiation", 1 + i % 3)):
            save_crf("ae", subject, {"week": week, "term": term, "grade": grade, "attribution": "probable",
                                     "start_date": today}, user)
        save_crf("followup", subject, {"visit_date": today, "status": "alive_ned"}, user)
        subjects.append(subject.pk)
    return {"study": study.pk, "users": [u.username for u in users], "subjects": subjects, "waiting": waiting,
            "today": today.isoformat()}


def _user(base: str, username: str, world: dict[str, Any], my_waiting: list[int], rounds: int, think: float,
          rng: random.Random, out: list[tuple[str, float, int, int]], start: threading.Barrier) -> None:
    """Step 4 for one user; appends (kind, seconds, status, expected) per request."""
    browser = Browser(base)
    login = browser.login(username, PASSWORD)
    out.append(("login", login.seconds, login.status, 302))
    study = world["study"]
    api = f"/api/v1/studies/{study}"
    for path in (f"/studies/{study}/", f"/studies/{study}/clinical/report/"):  # warm-up, not measured
        browser.get(path, timeout=600)
    start.wait(timeout=1200)
    for r in range(rounds):
        subject = rng.choice(world["subjects"])
        steps: list[tuple[str, str, str, Any, int]] = [
            ("dashboard", "GET", f"/studies/{study}/", None, 200),
            ("subject_list", "GET", f"/studies/{study}/subjects/", None, 200),
            ("casebook", "GET", f"/studies/{study}/clinical/subjects/{subject}/", None, 200),
            ("crf_save", "POST", f"{api}/subjects/{subject}/crf/followup",
             {"values": {"visit_date": world["today"], "status": "alive_ned", "notes": f"load {username} {r}"}}, 201),
            ("randomise", "POST", f"{api}/subjects/{my_waiting[r]}/randomise", {}, 201),
            ("report", "GET", f"/studies/{study}/clinical/report/", None, 200),
        ]
        for kind, method, path, body, expected in steps:
            time.sleep(rng.uniform(0, 2 * think))
            try:
                answer = browser.request(method, path, json_body=body, timeout=300)
                out.append((kind, answer.seconds, answer.status, expected))
            except OSError as exc:  # a refused or reset connection is an error of the run, counted
                out.append((kind, float("nan"), -1, expected))
                print(f"{kind}: {exc}", file=sys.stderr)


def _percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0-100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, int(-(-q * len(ordered) // 100)))
    return ordered[rank - 1]


def summarise(samples: list[tuple[str, float, int, int]], seconds: float) -> dict[str, Any]:
    """Step 5."""
    by_kind: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, list[int]] = defaultdict(list)
    for kind, t, status, expected in samples:
        if status != expected:
            errors[kind].append(status)
        elif t == t:  # not NaN
            by_kind[kind].append(t * 1000)
    rows = {}
    pages = [t for k in ("dashboard", "subject_list", "casebook", "report") for t in by_kind[k]]
    for kind, values in [*((k, by_kind[k]) for k in ("login", *KINDS)), ("all pages", pages)]:
        if values:
            rows[kind] = {"n": len(values), "p50_ms": _percentile(values, 50), "p95_ms": _percentile(values, 95),
                          "p99_ms": _percentile(values, 99), "max_ms": max(values),
                          "errors": len(errors.get(kind, []))}
    total = sum(1 for s in samples if s[0] != "login")
    return {"rows": rows, "requests": total, "seconds": seconds, "requests_per_second": total / seconds,
            "errors": {k: v for k, v in errors.items()}, "error_count": sum(len(v) for v in errors.values())}


def _print(result: dict[str, Any], args: argparse.Namespace) -> None:
    print(f"\n{args.users} users x {args.rounds} rounds, think {args.think} s, gunicorn {args.workers} workers x "
          f"{args.threads} threads, PostgreSQL; {result['requests']} requests in {result['seconds']:.1f} s "
          f"({result['requests_per_second']:.1f}/s), errors {result['error_count']}")
    print(f"{'request':<14}{'n':>6}{'p50 ms':>10}{'p95 ms':>10}{'p99 ms':>10}{'max ms':>10}{'errors':>8}")
    for kind, r in result["rows"].items():
        print(f"{kind:<14}{r['n']:>6}{r['p50_ms']:>10.0f}{r['p95_ms']:>10.0f}{r['p99_ms']:>10.0f}"
              f"{r['max_ms']:>10.0f}{r['errors']:>8}")
    for kind, statuses in result["errors"].items():
        print(f"errors in {kind}: statuses {sorted(set(statuses))} ({len(statuses)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--think", type=float, default=1.0, help="mean think time before each request (s)")
    parser.add_argument("--subjects", type=int, default=60, help="randomised subjects with CRFs")
    parser.add_argument("--workers", type=int, default=None, help="default: serve --production's")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed-rng", type=int, default=20261202)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--seed", nargs=3, type=int, metavar=("USERS", "SUBJECTS", "WAITING"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.workers is None:
        from npctrial.web.production import default_workers

        args.workers = default_workers()
    if args.seed:
        print(json.dumps(seed(*args.seed)))
        return
    with postgres_server(durable=True) as url, fresh_database(url) as env:
        started = time.perf_counter()
        done = run_python([str(Path(__file__).resolve()), "--seed", str(args.users), str(args.subjects),
                           str(args.users * args.rounds)], env, timeout=3600)
        if done.returncode != 0:
            raise SystemExit(f"seeding failed:\n{done.stderr[-4000:]}")
        world = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"seeded in {time.perf_counter() - started:.0f} s: {len(world['subjects'])} randomised subjects, "
              f"{len(world['waiting'])} waiting", file=sys.stderr)
        with production_server(env, workers=args.workers, threads=args.threads) as server:
            rng = random.Random(args.seed_rng)
            samples: list[tuple[str, float, int, int]] = []
            barrier = threading.Barrier(args.users + 1)
            threads = []
            for i, username in enumerate(world["users"]):
                mine = world["waiting"][i * args.rounds:(i + 1) * args.rounds]
                threads.append(threading.Thread(target=_user, args=(server.url, username, world, mine, args.rounds,
                                                                    args.think, random.Random(rng.random()),
                                                                    samples, barrier)))
            for t in threads:
                t.start()
            barrier.wait(timeout=1200)
            began = time.perf_counter()
            for t in threads:
                t.join()
            result = summarise(samples, time.perf_counter() - began)
    if args.json:
        print(json.dumps(result, indent=2))
    _print(result, args)


if __name__ == "__main__":
    main()
