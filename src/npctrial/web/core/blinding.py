"""The protocol's blinding applied to users: who may see a subject's arm and stratum.

One rule for pages, API, exports and the audit log (:func:`allocation_visible`):

1. The rule in force is the blinding of the study's current protocol version, resolved by
   :func:`npctrial.domain.blinding.resolve_blinding` (an undeclared randomised protocol conceals
   the allocation from every role).
2. A user sees allocations when one of their roles in the study (at the subject's site, when a
   site is given) is in ``allocation_visible_to``. Superusers act as study admins: no exception.
3. A study that is not randomised has nothing to conceal.

Where an allocation is concealed, pages and exports show :data:`CONCEALED` instead of the arm
and the stratum; the allocation number stays visible (it reveals nothing).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from npctrial.domain.blinding import Blinding, resolve_blinding
from npctrial.errors import ProtocolError
from npctrial.web.core.roles import ROLES

__all__ = ["CONCEALED", "allocation_visible", "blinding_of", "check_blinding_roles", "mask_arm"]

CONCEALED = _("concealed")


def check_blinding_roles(protocol: Any) -> None:
    """ProtocolError when the protocol's blinding names a role the EDC does not have."""
    declared = getattr(protocol, "blinding", None)
    if declared is None:
        return
    unknown = [(i, r) for i, r in enumerate(declared.allocation_visible_to) if r not in ROLES]
    if unknown:
        problems = [gettext("blinding.allocation_visible_to[%(index)s]: unknown role %(role)r (roles: %(roles)s)")
                    % {"index": i, "role": r, "roles": ", ".join(ROLES)} for i, r in unknown]
        raise ProtocolError(gettext("protocol: %(count)s problem(s): %(problems)s")
                            % {"count": len(problems), "problems": "; ".join(problems)},
                            field="blinding", errors=problems)


def blinding_of(study: Any) -> Blinding | None:
    """The blinding rule in force for ``study`` (None when the study is not randomised)."""
    from npctrial.web.core.screening import protocol_of

    if hasattr(study, "_npctrial_blinding"):
        cached: Blinding | None = study._npctrial_blinding
        return cached
    version = study.current_protocol
    protocol = protocol_of(version) if version is not None else None
    randomised = protocol is not None and protocol.randomisation is not None
    rule = resolve_blinding(getattr(protocol, "blinding", None), randomised)
    study._npctrial_blinding = rule
    return rule


def allocation_visible(user: Any, study: Any, site: Any = None) -> bool:
    """Whether ``user`` may see arms and strata in ``study`` (at ``site``); rules in the module docstring."""
    from npctrial.web.core.permissions import roles_for

    rule = blinding_of(study)
    if rule is None:
        return True
    return rule.allows(roles_for(user, study, site))


def mask_arm(arm: Any, visible: bool) -> Any:
    """The arm when visible, else :data:`CONCEALED` (None stays None: not randomised)."""
    if arm is None or arm == "":
        return arm
    return arm if visible else str(CONCEALED)
