"""Free text received by a service (pages, API, CLI alike): cleaned as the pages' forms clean it."""

from __future__ import annotations

from django.utils.translation import gettext as _

from npctrial.errors import ValidationError

__all__ = ["clean_text"]


def clean_text(value: str | None, field: str, max_length: int) -> str:
    """``value`` stripped; refused (naming ``field``) when longer than ``max_length`` or holding NUL.

    NUL characters cannot be stored by PostgreSQL; a form refuses them, so every route does.
    """
    text = (value or "").strip()
    if "\x00" in text:
        raise ValidationError(_("%(field)s must not contain NUL characters") % {"field": field}, field=field)
    if len(text) > max_length:
        raise ValidationError(_("%(field)s has %(n)d characters; at most %(max)d")
                              % {"field": field, "n": len(text), "max": max_length}, field=field)
    return text
