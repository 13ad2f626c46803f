"""Per-form access and export levels declared by a protocol (YAML ``access:``), and de-identification.

A protocol may narrow what each role sees of its forms and exports::

    access:
      forms:                       # form id -> role -> none | read | edit
        ae: {statistician: none, monitor: read}
        baseline: {investigator: read}
      export:                      # role -> none | deidentified | full
        statistician: deidentified
      deidentification:
        dates: shift               # shift (per subject) or remove
        max_shift_days: 183

Rules
1. A role's *default* level comes from its rights in the EDC (``edit`` for roles that record case
   report forms, ``read`` for the others that see the study; ``full`` export for roles allowed to
   export, ``none`` otherwise).
2. A declared level can only narrow the default: the effective level of a role is
   ``min(declared, default)`` (none < read < edit; none < deidentified < full). A protocol never
   widens the rights of a role.
3. A user with several roles at a site gets the highest effective level of those roles.
4. De-identified exports shift every date of a subject by the same number of days (so intervals
   within a subject are kept), 1 to ``max_shift_days`` days earlier or later, derived from a keyed
   hash of the subject (the same in every export; nothing to store, nothing to reverse without the
   key), or remove every date (``dates: remove``); free-text fields are dropped in both modes.
   This follows the date-shifting and free-text removal of the HIPAA Safe Harbor / limited data
   set practice (45 CFR 164.514); subject IDs are study codes and are kept.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from npctrial.messages import Message, message

__all__ = [
    "ACCESS_ROLES",
    "EXPORT_LEVELS",
    "FORM_LEVELS",
    "AccessSpec",
    "Deidentification",
    "access_problems",
    "compute_date_shift",
    "resolve_level",
    "shift_date",
]

FORM_LEVELS = ("none", "read", "edit")
EXPORT_LEVELS = ("none", "deidentified", "full")
#: the roles of the EDC a protocol may name (kept equal to the web's role table by a test)
ACCESS_ROLES = ("investigator", "coordinator", "data_manager", "monitor", "statistician", "study_admin", "dmc")

FormLevel = Literal["none", "read", "edit"]
ExportLevel = Literal["none", "deidentified", "full"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Deidentification(_Frozen):
    dates: Literal["shift", "remove"] = "shift"
    max_shift_days: int = Field(default=183, ge=1, le=3650)


class AccessSpec(_Frozen):
    """The ``access:`` section of a protocol (rules in the module docstring)."""

    forms: dict[str, dict[str, FormLevel]] = {}
    export: dict[str, ExportLevel] = {}
    deidentification: Deidentification = Deidentification()

    def form_level(self, form: str, defaults: Mapping[str, str]) -> str:
        """Effective level for a user whose roles have the given default levels (rules 2-3)."""
        return resolve_level(FORM_LEVELS, self.forms.get(form, {}), defaults)

    def export_level(self, defaults: Mapping[str, str]) -> str:
        return resolve_level(EXPORT_LEVELS, self.export, defaults)


def resolve_level(order: tuple[str, ...], declared: Mapping[str, str], defaults: Mapping[str, str]) -> str:
    """``max over roles of min(declared.get(role, default), default)`` in the order ``order``.

    ``defaults`` maps each role of the user to its default level; no roles gives ``order[0]``.
    """
    rank = {level: i for i, level in enumerate(order)}
    best = 0
    for role, default in defaults.items():
        level = min(rank[declared.get(role, default)], rank[default])
        best = max(best, level)
    return order[best]


def access_problems(data: Mapping[str, Any]) -> list[Message]:
    """Problems of ``access:`` pydantic cannot see: unknown forms and roles, with their paths."""
    access = data.get("access")
    if not isinstance(access, Mapping):
        return []
    from npctrial.domain.schedule import STANDARD_FORMS

    declared = data.get("forms")
    own = {f.get("id") for f in declared if isinstance(f, Mapping)} if isinstance(declared, list) else set()
    known_forms = set(STANDARD_FORMS) | {f for f in own if isinstance(f, str)}
    problems: list[Message] = []
    forms = access.get("forms")
    for form, levels in (forms.items() if isinstance(forms, Mapping) else ()):
        if form not in known_forms:
            problems.append(message("access.unknown_form", "%(path)s: unknown form (known: %(known)s)",
                                    path=f"access.forms.{form}", known=tuple(sorted(known_forms))))
        problems.extend(_role_problems(f"access.forms.{form}", levels))
    problems.extend(_role_problems("access.export", access.get("export")))
    return problems


def _role_problems(path: str, levels: Any) -> Iterable[Message]:
    for role in levels if isinstance(levels, Mapping) else ():
        if role not in ACCESS_ROLES:
            yield message("access.unknown_role", "%(path)s: unknown role (roles: %(roles)s)", path=f"{path}.{role}",
                          roles=ACCESS_ROLES)


def compute_date_shift(key: bytes, subject: str, max_days: int) -> int:
    """Days (never 0, within ``[-max_days, max_days]``) to shift every date of ``subject`` (rule 4).

    1. ``h = HMAC-SHA256(key, subject)``; 2. magnitude ``1 + (first 8 bytes of h as an integer)
    mod max_days``; 3. the sign is the lowest bit of byte 9 (0: later, 1: earlier).
    """
    if max_days < 1:
        raise ValueError(f"max_days must be >= 1, got {max_days}")
    digest = hmac.new(key, subject.encode("utf-8"), hashlib.sha256).digest()
    magnitude = 1 + int.from_bytes(digest[:8], "big") % max_days
    return -magnitude if digest[8] & 1 else magnitude


def shift_date(value: Any, days: int) -> Any:
    """``value`` moved by ``days`` (dates, datetimes, ISO strings of either); other values unchanged."""
    if isinstance(value, datetime | date):
        return value + timedelta(days=days)
    if isinstance(value, str) and len(value) >= 10:
        try:
            parsed: date = datetime.fromisoformat(value) if len(value) > 10 else date.fromisoformat(value)
        except ValueError:
            return value
        return (parsed + timedelta(days=days)).isoformat()
    return value
