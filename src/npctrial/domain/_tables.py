"""The packaged, versioned rule tables (``npctrial/domain/data/*.yaml``) as parsed YAML."""

from __future__ import annotations

from importlib import resources
from typing import Any

import yaml

#: libyaml's safe loader when PyYAML was built with it (the same documents, about 8x faster to
#: parse than the pure-Python loader: 5 ms instead of 41 ms for the CTCAE table), else PyYAML's own.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_rule_table(filename: str) -> Any:
    """Parse ``data/<filename>`` of this package (callers cache the result)."""
    text = resources.files("npctrial.domain").joinpath(f"data/{filename}").read_text("utf-8")
    return yaml.load(text, Loader=_LOADER)  # noqa: S506 - a safe loader (C or Python)
