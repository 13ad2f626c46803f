"""The real production server (``npctrial serve --production``) in a child process, for tests and benchmarks.

Each server gets its own database: a fresh SQLite file in a temp directory, or, when
``DATABASE_URL`` points at PostgreSQL (``scripts/with-postgres.sh``), a fresh database on that
server, dropped afterwards. :func:`postgres_server` starts a throw-away PostgreSQL server of its
own (``/usr/lib/postgresql/*/bin``, as the ``postgres`` user when run as root) for tests that must
run on PostgreSQL whatever the environment says. :class:`Browser` is a small cookie-keeping HTTP client (stdlib only)
that logs in through the login form and sends the CSRF token like the pages do.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pg_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    if not found:
        raise RuntimeError("PostgreSQL server not installed (run scripts/install-system-deps.sh)")
    return found[-1].parent


@contextmanager
def postgres_server(durable: bool = False) -> Iterator[str]:
    """The URL of a PostgreSQL server: ``DATABASE_URL``'s when it is one, else a throw-away server.

    The throw-away server lives in a temp directory on a free port and is stopped and removed on exit.
    ``durable=False`` (tests) turns fsync off; ``durable=True`` (benchmarks) keeps the defaults a
    production server has (fsync, synchronous commit, full-page writes).
    """
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        yield url
        return
    pg_bin = _pg_bin()
    root = tempfile.mkdtemp(prefix="npctrial-pg-")
    as_pg: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        shutil.chown(root, "postgres")
        as_pg = ["runuser", "-u", "postgres", "--"]
    data, port = f"{root}/data", free_port()
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c max_connections=200"
    if not durable:
        options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    try:
        subprocess.run([*as_pg, str(pg_bin / "initdb"), "-D", data, "-U", "npctrial", "--auth=trust", "-E", "UTF8",
                        "--locale=C.UTF-8"], check=True, capture_output=True, timeout=300)
        subprocess.run([*as_pg, str(pg_bin / "pg_ctl"), "-D", data, "-l", f"{root}/server.log", "-w", "-t", "300",
                        "-o", options, "start"], check=True, capture_output=True, timeout=330)
        yield f"postgresql://npctrial@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*as_pg, str(pg_bin / "pg_ctl"), "-D", data, "-m", "immediate", "stop"],
                       capture_output=True, timeout=120)
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def fresh_database(url: str | None = None) -> Iterator[dict[str, str]]:
    """Environment for a child process that uses a database of its own: a fresh database on the
    PostgreSQL server at ``url`` (default ``DATABASE_URL``), else a fresh SQLite file."""
    var = tempfile.mkdtemp(prefix="npctrial-prod-")
    env = {"NPCTRIAL_VAR_DIR": var}
    url = os.environ.get("DATABASE_URL", "") if url is None else url
    try:
        if not url:
            yield env
            return
        import psycopg

        name = f"npc_prod_{uuid.uuid4().hex[:12]}"
        parsed = urllib.parse.urlparse(url)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        try:
            yield {**env, "DATABASE_URL": urllib.parse.urlunparse(parsed._replace(path=f"/{name}"))}
        finally:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        shutil.rmtree(var, ignore_errors=True)


def child_env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "src"), str(REPO)])
    env["NPCTRIAL_SECRET_KEY"] = "live-server-test-key-0123456789-abcdefghijklmnopqrstuvwxyz"
    env.pop("NPCTRIAL_DEBUG", None)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set for the test process only
    env.update(extra)
    return env


def run_python(args: list[str], env: dict[str, str], timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], env=child_env(env), capture_output=True, text=True,
                          timeout=timeout, cwd=env.get("NPCTRIAL_VAR_DIR"))


def seed(env: dict[str, str], subjects: int) -> dict[str, Any]:
    done = run_python(["-m", "tests.web.production_seed", str(subjects)], env)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@contextmanager
def production_server(env: dict[str, str], workers: int = 2, threads: int = 2,
                      startup_timeout: float = 600) -> Iterator[Server]:
    port = free_port()
    log = Path(env["NPCTRIAL_VAR_DIR"]) / f"server-{port}.log"
    with open(log, "w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "npctrial.cli", "serve", "--production", "--host", "127.0.0.1",
             "--port", str(port), "--workers", str(workers), "--threads", str(threads)],
            env=child_env(env), stdout=out, stderr=subprocess.STDOUT, cwd=env["NPCTRIAL_VAR_DIR"])
    server = Server(f"http://127.0.0.1:{port}", process, log)
    try:
        _wait_until_up(server, startup_timeout)
        yield server
    finally:
        process.terminate()  # gunicorn's master stops its workers gracefully on SIGTERM
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)


def _wait_until_up(server: Server, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    probe = Browser(server.url)
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"the server exited ({server.process.returncode}):\n{server.output()[-4000:]}")
        try:
            answer = probe.get("/healthz", timeout=5)
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(1)
            continue
        if answer.status == 200:
            return
        raise RuntimeError(f"/healthz answered {answer.status}:\n{server.output()[-4000:]}")
    raise RuntimeError(f"the server did not answer within {timeout} s:\n{server.output()[-4000:]}")


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float

    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return json.loads(self.body)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class Browser:
    """Cookies, CSRF token and timing over plain HTTP (no redirects followed)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.cookies = CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies), _NoRedirect)

    def csrf(self) -> str:
        return next((c.value for c in self.cookies if c.name == "csrftoken"), "")

    def request(self, method: str, path: str, data: dict[str, Any] | None = None, json_body: Any = None,
                headers: dict[str, str] | None = None, timeout: float = 120) -> Response:
        body = None
        head = dict(headers or {})
        if json_body is not None:
            body = json.dumps(json_body).encode()
            head["Content-Type"] = "application/json"
        elif data is not None:
            body = urllib.parse.urlencode(data, doseq=True).encode()
            head["Content-Type"] = "application/x-www-form-urlencoded"
        if method != "GET" and self.csrf():
            head.setdefault("X-CSRFToken", self.csrf())
        req = urllib.request.Request(self.base + path, data=body, method=method, headers=head)
        start = time.perf_counter()
        try:
            with self.opener.open(req, timeout=timeout) as r:
                payload = r.read()
                return Response(r.status, dict(r.headers), payload, time.perf_counter() - start)
        except urllib.error.HTTPError as exc:
            payload = exc.read()
            return Response(exc.code, dict(exc.headers), payload, time.perf_counter() - start)

    def get(self, path: str, **kw: Any) -> Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, data: dict[str, Any] | None = None, **kw: Any) -> Response:
        return self.request("POST", path, data=data, **kw)

    def form_token(self, page: Response) -> str:
        found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text())
        return found.group(1) if found else self.csrf()

    def login(self, username: str, password: str) -> Response:
        page = self.get("/accounts/login/")
        return self.post("/accounts/login/", {"username": username, "password": password,
                                              "csrfmiddlewaretoken": self.form_token(page)})
