"""Per-form access (none / read / edit) and export levels (none / de-identified / full) of a user.

The protocol's ``access:`` section (:mod:`npctrial.domain.access`) narrows the defaults that come
from the capability table (:mod:`npctrial.web.core.roles`): roles holding ``edit_crf`` default to
``edit``, other roles that see the study to ``read``; roles holding ``export`` default to ``full``
export. Levels are resolved for the roles the user holds at the record's site, under the study's
current protocol version.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from npctrial.domain.access import EXPORT_LEVELS, FORM_LEVELS, AccessSpec
from npctrial.web.core import permissions
from npctrial.web.core.models import Site, Study
from npctrial.web.core.roles import ROLE_CAPABILITIES

__all__ = ["access_spec", "export_level", "form_level", "form_levels", "readable", "require_export", "require_form"]


def access_spec(study: Study) -> AccessSpec:
    from npctrial.web.core.screening import protocol_of

    version = study.current_protocol
    spec = protocol_of(version).access if version is not None else None
    return spec or AccessSpec()


def _default_form_level(role: str) -> str:
    caps = ROLE_CAPABILITIES[role]
    return "edit" if "edit_crf" in caps else "read" if "view" in caps else "none"


def _default_export_level(role: str) -> str:
    return "full" if "export" in ROLE_CAPABILITIES[role] else "none"


def form_level(user: Any, study: Study, form: str, site: Site | None = None) -> str:
    """The user's level on ``form`` at ``site`` (any site of their scope when None)."""
    return form_levels(user, study, [form], site)[form]


def form_levels(user: Any, study: Study, forms: Any, site: Site | None = None) -> dict[str, str]:
    """The user's level on each of ``forms`` (one read of the protocol for all of them)."""
    spec = access_spec(study)
    defaults = {r: _default_form_level(r) for r in permissions.roles_for(user, study, site)}
    return {f: spec.form_level(f, defaults) for f in forms}


def export_level(user: Any, study: Study) -> str:
    roles = permissions.roles_for(user, study)
    return access_spec(study).export_level({r: _default_export_level(r) for r in roles})


def readable(user: Any, study: Study, forms: Any, site: Site | None = None) -> list[str]:
    """The forms of ``forms`` the user may at least read."""
    return [f for f, level in form_levels(user, study, forms, site).items() if level != "none"]


def require_form(user: Any, study: Study, form: str, needed: str, site: Site | None = None) -> None:
    """PermissionDenied (403) unless the user's level on ``form`` is at least ``needed``."""
    level = form_level(user, study, form, site)
    if FORM_LEVELS.index(level) < FORM_LEVELS.index(needed):
        if level == "none":
            raise PermissionDenied(_("your roles here give no access to the form %(form)s") % {"form": form})
        raise PermissionDenied(_("your roles here may only read the form %(form)s") % {"form": form})


def require_export(user: Any, study: Study, needed: str = "deidentified") -> str:
    """The user's export level if at least ``needed``, else PermissionDenied."""
    level = export_level(user, study)
    if EXPORT_LEVELS.index(level) < EXPORT_LEVELS.index(needed):
        raise PermissionDenied(_("your role may not export %(what)s data")
                               % {"what": _("identifiable") if needed == "full" else _("any")})
    return level
