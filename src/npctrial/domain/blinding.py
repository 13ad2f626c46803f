"""Blinding: what the protocol declares about who may know the allocated arm.

A randomised protocol declares, in its ``blinding`` block::

    blinding:
      masking: open-label            # open-label | single-blind | double-blind
      allocation_visible_to: [investigator, coordinator, statistician, dmc]
      source: "why (protocol section, or the assumption made)"

``allocation_visible_to`` names the roles that may see a subject's arm and stratum (in pages, API,
exports and the audit log). Everyone else sees that a subject is randomised and its allocation
number, never the arm. Breaking the blind for one person is an audited unblinding, not a role.

Rules (ICH E9 section 2.3.1 and ICH E6(R3) on maintaining the blind; CONSORT 2010 item 11a):

1. A randomised protocol without a ``blinding`` block conceals the allocation from every role
   (:func:`resolve_blinding`): concealment is the safe default, openness must be declared.
2. A ``double-blind`` protocol may show the allocation only to roles outside the treating team:
   naming ``investigator`` or ``coordinator`` there is a protocol error.
3. A ``blinding`` block on a protocol without randomisation is a protocol error (nothing to blind).
4. Role names are identifiers, each listed once; which roles exist is checked by the EDC that
   runs the protocol.

Comparative efficacy (results by arm) is a separate, role-based interim-confidentiality rule of
the EDC, not part of the protocol's blinding.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from npctrial.messages import Message, message

__all__ = ["TREATING_ROLES", "Blinding", "blinding_problems", "resolve_blinding"]

#: roles of the treating team: never unblinded by a double-blind protocol (rule 2)
TREATING_ROLES = frozenset({"investigator", "coordinator"})


class Blinding(BaseModel):
    """The protocol's blinding declaration (validated, frozen)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    masking: Literal["open-label", "single-blind", "double-blind"]
    allocation_visible_to: tuple[str, ...] = ()
    source: str | None = None

    def allows(self, roles: set[str] | frozenset[str]) -> bool:
        """Whether a user holding ``roles`` may see allocations."""
        return bool(set(roles) & set(self.allocation_visible_to))


def resolve_blinding(declared: Blinding | None, randomised: bool) -> Blinding | None:
    """The blinding in force: the declaration, or full concealment for an undeclared randomised trial."""
    if declared is not None:
        return declared
    if not randomised:
        return None
    return Blinding(masking="double-blind", allocation_visible_to=(),
                    source="not declared by the protocol: allocations are concealed from every role")


def blinding_problems(data: Mapping[str, Any]) -> list[Message]:
    """Semantic problems of a protocol mapping's ``blinding`` block (rules 2-4), with their paths."""
    block = data.get("blinding")
    if block is None:
        return []
    if not isinstance(block, Mapping):
        return []  # the schema reports the wrong type
    problems: list[Message] = []
    if not data.get("randomisation"):
        problems.append(message("blinding.without_randomisation", "blinding: declared for a protocol without "
                                "randomisation"))
    roles = block.get("allocation_visible_to") or []
    if not isinstance(roles, list | tuple):
        return problems
    seen: set[str] = set()
    for i, role in enumerate(roles):
        path = f"blinding.allocation_visible_to[{i}]"
        if not isinstance(role, str) or not role.isidentifier():
            problems.append(message("blinding.not_a_role", "%(path)s: a role name, got %(value)s", path=path,
                                    value=repr(role)))
            continue
        if role in seen:
            problems.append(message("blinding.role_twice", "%(path)s: %(role)s is listed twice", path=path,
                                    role=repr(role)))
        seen.add(role)
        if block.get("masking") == "double-blind" and role in TREATING_ROLES:
            problems.append(message("blinding.treating_team_unblinded", "%(path)s: a double-blind protocol cannot "
                                    "show allocations to the treating team (%(role)s)", path=path, role=repr(role)))
    return problems
