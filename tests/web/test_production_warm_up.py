"""``serve --production`` loads the application in the master process before the workers fork
(gunicorn ``preload_app``), warmed up: each worker starts with the URL configuration, the EDC's
compiled templates and every language's catalogues instead of paying for them on its first
requests, and without a database connection to share."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from npctrial.web.production import gunicorn_options

SRC = Path(__file__).resolve().parents[2] / "src"


def test_the_application_is_loaded_before_the_workers_fork() -> None:
    assert gunicorn_options("127.0.0.1", 8000, 2, 1)["preload_app"] is True


def test_warm_up_compiles_every_edc_template_without_touching_the_database(tmp_path: Path) -> None:
    """In a fresh process (as gunicorn's master): after the warm-up a page template is served from
    the cached loader without reading its file again, and no database connection was opened."""
    script = textwrap.dedent("""
        import os, sys
        os.environ["DJANGO_SETTINGS_MODULE"] = "npctrial.web.settings"
        import django
        django.setup()
        from django.db import connections
        from django.template import engines
        from npctrial.web.production import warm_up
        names = warm_up()
        assert "clinical/casebook.html" in names and "core/subject_list.html" in names, names
        assert all(c.connection is None for c in connections.all()), "the warm-up opened a database connection"
        engine = engines["django"].engine
        loader = engine.template_loaders[0]
        assert type(loader).__name__ == "Loader" and "cached" in type(loader).__module__
        import builtins
        opened = []
        real_open = builtins.open
        builtins.open = lambda *a, **k: (opened.append(a[0]), real_open(*a, **k))[1]
        try:
            engine.get_template("clinical/casebook.html")
        finally:
            builtins.open = real_open
        assert not [p for p in opened if str(p).endswith(".html")], opened
        from django.utils import translation
        from django.utils.translation import trans_real
        assert {"en-gb", "zh-hans"} <= set(trans_real._translations), trans_real._translations.keys()
        assert "matplotlib.pyplot" in sys.modules and "reportlab.platypus" in sys.modules
        from django.urls import get_resolver
        assert {"en-gb", "zh-hans"} <= set(get_resolver()._reverse_dict), "URL reversing tables not built"
        from npctrial.domain.ctcae import ctcae_table
        assert ctcae_table.cache_info().currsize == 1, "rule tables not loaded"
        print("ok", len(names))
    """)
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(SRC), "NPCTRIAL_VAR_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.startswith("ok ")


def test_stored_protocol_versions_are_parsed_once_and_a_broken_one_is_named(db) -> None:
    from npctrial.web.core.models import ProtocolVersion
    from npctrial.web.core.protocols import parse_protocol
    from npctrial.web.production import parse_stored_protocols
    from tests.web.conftest import make_world

    make_world()
    versions = list(ProtocolVersion.objects.order_by("pk"))
    broken = versions[-1]
    ProtocolVersion.objects.filter(pk=broken.pk).update(yaml_text="study: [unclosed")
    parse_protocol.cache_clear()
    said: list[str] = []
    assert parse_stored_protocols(said.append) == len(versions) - 1
    assert parse_protocol.cache_info().currsize == len(versions) - 1
    assert len(said) == 1 and f"protocol version {broken.pk} does not parse" in said[0]
