"""``npctrial serve --production``: the real gunicorn server, static files, a TLS proxy in front,
and randomisation racing across worker processes, on the configured database (SQLite, or
PostgreSQL under with-postgres.sh) and always on a real PostgreSQL server started by the test.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest

from tests.web.live_server import (
    Browser,
    fresh_database,
    postgres_server,
    production_server,
    run_python,
    seed,
)
from tests.web.production_seed import PASSWORD

N = 20  # subjects waiting for randomisation


@pytest.fixture(scope="module")
def database():
    """One migrated, seeded database for the module (migrating is the slow part)."""
    with fresh_database() as env:
        yield env, seed(env, N)


@pytest.fixture(scope="module")
def server(database):
    env, _ = database
    with production_server(env, workers=4, threads=4) as running:
        yield running


@pytest.fixture(scope="module")
def postgresql():
    """(env, world, server) on a PostgreSQL server of the test's own (or DATABASE_URL's)."""
    with postgres_server() as url, fresh_database(url) as env:
        world = seed(env, N)
        with production_server(env, workers=4, threads=4) as running:
            yield env, world, running


def test_production_server_serves_pages_static_files_and_logins(server):
    browser = Browser(server.url)
    page = browser.get("/accounts/login/")
    assert page.status == 200 and page.headers.get("Server", "").startswith("gunicorn")
    assets = re.findall(r'(?:href|src)="(/static/[^"]+)"', page.text())
    assert {a.rsplit(".", 2)[0] for a in assets} >= {"/static/core/app", "/static/core/htmx.min"}
    for asset in assets:
        assert re.search(r"\.[0-9a-f]{12}\.(css|js)$", asset), asset  # hashed by collectstatic
        served = browser.get(asset, headers={"Accept-Encoding": "gzip"})
        assert served.status == 200 and len(served.body) > 100, asset
        assert "immutable" in served.headers["Cache-Control"]
        assert served.headers["Content-Type"].startswith(("text/css", "text/javascript", "application/javascript"))
    assert browser.get("/static/core/no-such-file.css").status == 404
    # a login through the form, with the CSRF cookie, on the real server
    assert browser.login("coordinator", PASSWORD).status == 302
    home = browser.get("/")
    assert home.status == 200 and "ccrt-nimo" in home.text()
    assert home.headers["Cache-Control"] == "no-store"
    assert "Booting worker" in server.output()


def test_the_production_report_is_cached_once_for_every_worker_process(server, database):
    """The study report is kept in the file cache under the var directory (shared by the worker
    processes), not in each process's memory: one entry per data version, whichever worker answers."""
    env, world = database
    browser = Browser(server.url)
    assert browser.login("coordinator", PASSWORD).status == 302
    cache_dir = Path(env["NPCTRIAL_VAR_DIR"]) / "cache"
    pages = [browser.get(f"/studies/{world['study']}/clinical/report/") for _ in range(8)]
    assert {p.status for p in pages} == {200}
    entries = list(cache_dir.glob("*.djcache"))
    assert len(entries) == 1, entries  # 8 requests over 4 workers: computed and stored once
    assert cache_dir.stat().st_mode & 0o077 == 0  # readable by the server's user only
    other = cache_dir / "notes.txt"
    other.write_text("not the cache's")
    env2 = {**env, "NPCTRIAL_ALLOWED_HOSTS": "127.0.0.1"}
    with production_server(env2, workers=1, threads=1):  # a restart empties the cache, only the cache
        assert not list(cache_dir.glob("*.djcache")) and other.read_text() == "not the cache's"


def test_behind_a_tls_proxy_https_is_recognised_only_from_the_trusted_proxy(database):
    env = {**database[0], "NPCTRIAL_HTTPS": "1", "NPCTRIAL_TRUSTED_PROXIES": "1",
           "NPCTRIAL_ALLOWED_HOSTS": "127.0.0.1,edc.example.org"}
    with production_server(env, workers=1, threads=2) as server:
        browser = Browser(server.url)
        plain = browser.get("/accounts/login/")
        assert plain.status == 301 and plain.headers["Location"].startswith("https://")
        proxied = browser.get("/accounts/login/", headers={"X-Forwarded-Proto": "https",
                                                           "X-Forwarded-For": "203.0.113.7"})
        assert proxied.status == 200
        assert "max-age=31536000" in proxied.headers["Strict-Transport-Security"]
        cookie = proxied.headers.get("Set-Cookie", "")
        assert "csrftoken" in cookie and "Secure" in cookie
        other_host = browser.get("/accounts/login/", headers={"Host": "evil.example.com",
                                                              "X-Forwarded-Proto": "https"})
        assert other_host.status == 400  # not an allowed host


@pytest.mark.parametrize("backend", ["configured", "postgresql"])
def test_randomisation_race_across_worker_processes(backend, request):
    """20 simultaneous requests spread over 4 gunicorn worker processes: 20 distinct consecutive
    allocations, an intact sequence and an intact audit chain (``npctrial verify-audit``); on the
    configured database and on PostgreSQL (several processes against one server)."""
    if backend == "postgresql":
        env, world, server = request.getfixturevalue("postgresql")
        assert env["DATABASE_URL"].startswith("postgresql://")
    else:
        (env, world), server = request.getfixturevalue("database"), request.getfixturevalue("server")
    browser = Browser(server.url)
    assert browser.login("coordinator", PASSWORD).status == 302
    barrier = threading.Barrier(N)
    results: dict[int, tuple[int, dict]] = {}

    def worker(subject: int) -> None:
        barrier.wait(timeout=60)
        r = browser.request("POST", f"/api/v1/studies/{world['study']}/subjects/{subject}/randomise", json_body={})
        results[subject] = (r.status, r.json() if r.body[:1] == b"{" else {"raw": r.text()[:300]})

    threads = [threading.Thread(target=worker, args=(s,)) for s in world["subjects"]]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert len(set(re.findall(r"Booting worker with pid: (\d+)", server.output()))) >= 4
    assert {status for status, _ in results.values()} == {201}, results
    assert sorted(body["number"] for _, body in results.values()) == list(range(1, N + 1))
    assert {body["arm"] for _, body in results.values()} <= {"CCRT", "CCRT+NIMO"}
    served_by = set(re.findall(r'"POST /api/v1/studies/\d+/subjects/\d+/randomise HTTP/1.1" 201', server.output()))
    assert served_by  # the access log of the real server recorded them
    check = run_python(["-m", "npctrial.cli", "verify-audit"], env)
    assert check.returncode == 0, check.stdout[-3000:] + check.stderr[-2000:]
    assert "audit trail intact" in check.stdout
