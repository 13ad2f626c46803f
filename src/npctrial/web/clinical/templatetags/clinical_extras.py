"""Template filters of the clinical pages."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def lookup(mapping: Any, key: Any) -> Any:
    """``mapping[key]`` in a template (None when absent): ``{{ queries|lookup:field.name }}``."""
    if hasattr(mapping, "get"):
        return mapping.get(key)
    return None
