"""``npctrial serve --production``: the EDC on gunicorn, static files by WhiteNoise.

Steps of :func:`serve_production` (the caller has set ``NPCTRIAL_PRODUCTION=1`` before Django
starts, so the settings select WhiteNoise's compressed, hashed static storage):

1. Refuse to start with ``NPCTRIAL_DEBUG=1`` (debug pages leak data) and print what the
   deployment check of Django reports (``check --deploy``) as warnings.
2. ``collectstatic`` into ``STATIC_ROOT`` (``$NPCTRIAL_VAR_DIR/static``): hashed file names,
   gzip/brotli copies; WhiteNoise serves them with far-future caching.
3. Empty the shared cache (``NPCTRIAL_CACHE=file``: only the cache's own files), so that a
   restart still drops whatever a change made outside the application left stale.
4. Load the application once in this (master) process before the workers fork
   (:func:`warm_up`: the URL configuration and every view module, the EDC's templates compiled,
   the translation catalogues and URL reversing tables of every language, the packaged rule
   tables, the libraries the report and its PDF import on first use; then every stored protocol
   version parsed, :func:`parse_stored_protocols`), then close every database connection and
   move every object loaded so far out of the garbage collector's reach (``gc.freeze``: a
   worker's collections would otherwise touch, hence copy, every page it shares with the master). Each worker, including one forked later to
   replace a recycled worker, starts with all of it instead of paying it on its first requests.
5. Run gunicorn in this process: ``workers`` processes (default ``4 x CPUs + 1``) with
   ``threads`` threads each (``gthread``, default 1: see :func:`default_workers`), a listen backlog of 2048, workers recycled after
   2,000 requests, access log on stdout. Every worker has its own database connections; the
   guarantees that need one writer at a time (randomisation, the audit chain) hold across
   processes through the database's own locks.
"""

from __future__ import annotations

import gc
import os
from typing import Any

__all__ = ["default_workers", "gunicorn_options", "parse_stored_protocols", "serve_production", "warm_up"]

#: Imported by the report's PDF and figures on first use (seconds each in a cold process).
_LAZY_MODULES = ("matplotlib.pyplot", "reportlab.platypus", "reportlab.lib.pagesizes", "openpyxl")


def default_workers() -> int:
    """4 x CPUs + 1 single-threaded processes: the EDC's requests are CPU-bound Python (templates,
    the ORM, the report), so threads of one process wait on each other's GIL; separate processes
    run side by side (50 users, 2 cores: pages p95 564 ms with 5 x 4 threads, 305 ms with 8 x 1)."""
    return 4 * (os.cpu_count() or 1) + 1


def gunicorn_options(host: str, port: int, workers: int | None, threads: int) -> dict[str, Any]:
    from gunicorn import config

    options: dict[str, Any] = {
        "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
        "workers": workers or default_workers(),
        "threads": threads,
        "worker_class": "gthread",
        "backlog": 2048,
        "timeout": 120,
        "graceful_timeout": 30,
        "max_requests": 2000,
        "max_requests_jitter": 200,
        "accesslog": "-",
        "errorlog": "-",
        "proc_name": "npctrial-edc",
        "preload_app": True,  # step 4: the application is loaded (and warmed up) before the fork
    }
    if any(s.name == "control_socket_disable" for s in config.KNOWN_SETTINGS):
        options["control_socket_disable"] = True  # no shared control socket between servers
    return options


def warm_up() -> list[str]:
    """Step 4: load what a worker's first requests would, without touching the database; returns
    the names of the templates compiled (those of the npctrial package)."""
    import importlib
    from pathlib import Path

    from django.conf import settings
    from django.template import engines
    from django.urls import get_resolver
    from django.utils import translation

    import npctrial
    from npctrial.domain import load_rule_tables

    resolver = get_resolver()
    resolver.url_patterns  # noqa: B018 - imports the URL configuration and every view module
    package = Path(npctrial.__file__).resolve().parent
    compiled = []
    for engine in engines.all():
        for folder in map(Path, engine.template_dirs):
            if package not in folder.resolve().parents:
                continue
            for path in sorted(folder.rglob("*.html")):
                name = path.relative_to(folder).as_posix()
                engine.get_template(name)
                compiled.append(name)
    for code, _label in settings.LANGUAGES:
        with translation.override(code):
            translation.gettext("Subjects")  # loads the language's catalogues
            resolver.reverse_dict  # noqa: B018 - the URL reversing tables are built per language
    load_rule_tables()  # CTCAE, RTOG, staging, lab analytes and panels, dose bands, term labels
    importlib.import_module("matplotlib").use("Agg")  # as the report's figures select it (no display)
    for module in _LAZY_MODULES:
        importlib.import_module(module)
    return compiled


def parse_stored_protocols(echo: Any = print) -> int:
    """Step 4 (with the database): parse every stored protocol version once (the parse is cached
    by its text), so no worker parses one on its first request; returns how many were parsed. A
    version that no longer parses is named in a warning (its pages will show the error) and does
    not stop the server."""
    from npctrial.web.core.models import ProtocolVersion
    from npctrial.web.core.protocols import ProtocolError, parse_protocol

    parsed = 0
    for pk, text in ProtocolVersion.objects.order_by("pk").values_list("pk", "yaml_text"):
        try:
            parse_protocol(text)
        except ProtocolError as exc:
            echo(f"warning: protocol version {pk} does not parse: {exc}")
        else:
            parsed += 1
    return parsed


def _checks() -> list[str]:
    """Step 1: the deployment warnings Django's system checks report."""
    from django.core.checks import run_checks

    return [f"{m.id}: {m.msg}" for m in run_checks(include_deployment_checks=True) if m.level >= 30]


def serve_production(host: str, port: int, workers: int | None, threads: int, echo: Any = print) -> None:
    """Steps 1-4 of the module docstring (blocks until gunicorn stops)."""
    from django.conf import settings
    from django.core.management import call_command
    from gunicorn.app.base import BaseApplication

    from npctrial.errors import ConfigurationError

    if settings.DEBUG:
        raise ConfigurationError("NPCTRIAL_DEBUG=1 is not allowed with --production", field="NPCTRIAL_DEBUG")
    for warning in _checks():
        echo(f"warning: {warning}")
    call_command("collectstatic", interactive=False, verbosity=0)
    options = gunicorn_options(host, port, workers, threads)

    class _Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:  # in the master process (preload_app): step 4
            from django.db import connections

            from npctrial.web.wsgi import application

            warm_up()
            parse_stored_protocols(echo)
            connections.close_all()  # workers are forked: none may inherit the master's database connection
            gc.freeze()  # what was loaded is never scanned by a worker's collector (no copy-on-write of it)
            return application

    from django.core.cache import cache
    from django.db import connections

    cache.clear()
    connections.close_all()  # workers are forked: none may inherit the master's database connection
    echo(f"Serving npctrial EDC (production: gunicorn, {options['workers']} workers x {threads} threads) "
         f"on http://{host}:{port}/")
    _Server().run()
