"""The packaged, versioned rule tables (``npctrial/domain/data/*.yaml``) as parsed YAML."""

from __future__ import annotations

from importlib import resources
from typing import Any

import yaml


def read_rule_table(filename: str) -> Any:
    """Parse ``data/<filename>`` of this package (callers cache the result)."""
    text = resources.files("npctrial.domain").joinpath(f"data/{filename}").read_text("utf-8")
    return yaml.safe_load(text)
