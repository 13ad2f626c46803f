"""Roles and capabilities: the one table where a role becomes a right.

Every right of the EDC is a *capability* declared in :data:`CAPABILITY_TABLE` with the roles that
hold it. Nothing is registered at start-up: an app that needs a new right adds a row here, so the
whole access model is read (and reviewed) in one place. :mod:`npctrial.web.core.permissions`
applies the table (site scope, 404/403); this module only declares it.

Role scope: site-level roles (``investigator``, ``coordinator``) are normally granted at one site;
study-level roles (the others) at every site of the study (``site=None``). The table is the same
either way: the membership's site limits where a capability applies.

To add a right: add one row to :data:`CAPABILITY_TABLE` naming the roles that hold it, and call
:func:`~npctrial.web.core.permissions.get_study_for` (or ``require``/``can``) with its name.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

__all__ = [
    "CAPABILITIES",
    "CAPABILITY_TABLE",
    "ROLE_CAPABILITIES",
    "ROLE_CHOICES",
    "ROLES",
    "ROLE_TABLE",
    "SITE_ROLES",
    "Capability",
    "Role",
]


@dataclass(frozen=True)
class Role:
    name: str
    label: Promise
    level: str  # "site" or "study": where memberships of this role are normally granted
    description: Promise


@dataclass(frozen=True)
class Capability:
    name: str
    description: Promise
    roles: frozenset[str]


ROLE_TABLE: tuple[Role, ...] = (
    Role("investigator", _("Investigator"), "site", _("treats and signs for the patients of a site")),
    Role("coordinator", _("Coordinator"), "site", _("screens, enrols and records data at a site")),
    Role("data_manager", _("Data manager"), "study", _("reviews data, raises queries, locks and exports")),
    Role("monitor", _("Monitor"), "study", _("verifies source data and raises queries")),
    Role("statistician", _("Statistician"), "study", _("exports data and sees results by arm")),
    Role("study_admin", _("Study admin"), "study", _("manages the protocol, sites and members")),
    Role("dmc", _("DMC member"), "study", _("data monitoring committee: reviews results by arm")),
)

ROLES: tuple[str, ...] = tuple(r.name for r in ROLE_TABLE)
SITE_ROLES: frozenset[str] = frozenset(r.name for r in ROLE_TABLE if r.level == "site")
ROLE_CHOICES: list[tuple[str, Promise]] = [(r.name, r.label) for r in ROLE_TABLE]

_INV, _COO, _DM, _MON, _STAT, _ADM, _DMC = ROLES


def _cap(name: str, description: Promise, *roles: str) -> Capability:
    return Capability(name, description, frozenset(roles))


#: The access model. One row per capability: what it allows and which roles hold it.
CAPABILITY_TABLE: tuple[Capability, ...] = (
    _cap("view", _("see the study, its subjects and their data at the sites in scope"),
         _INV, _COO, _DM, _MON, _STAT, _ADM, _DMC),
    _cap("screen", _("record and edit screening data"), _INV, _COO),
    _cap("enrol", _("record consent and enrol eligible patients"), _INV, _COO),
    _cap("randomise", _("randomise enrolled subjects"), _INV, _COO),
    _cap("raise_query", _("raise and close data queries"), _DM, _MON, _ADM),
    _cap("answer_query", _("answer data queries"), _INV, _COO),
    _cap("view_audit", _("see the audit trail of a subject's records"), _INV, _COO, _DM, _MON, _ADM),
    _cap("view_audit_log", _("see and export the study-wide audit log"), _DM, _MON, _ADM),
    _cap("export", _("export data"), _DM, _STAT, _ADM),
    _cap("manage", _("manage the study: protocol versions, sites, members"), _ADM),
    _cap("unblind", _("view the concealed allocation list (with a recorded reason)"), _ADM),
    _cap("edit_crf", _("record and edit case report forms"), _INV, _COO),
    _cap("sign_casebook", _("sign a subject's casebook (e-signature)"), _INV),
    _cap("lock", _("freeze/lock subjects and the study"), _DM, _ADM),
    _cap("attach", _("upload signed consent forms and source documents to a subject or record"), _INV, _COO),
    _cap("view_attachments", _("see and download the consent forms and source documents (identifiable)"),
         _INV, _COO, _MON),
    _cap("import_data", _("import screenings and case report forms from CSV or ODM files (as data entry)"),
         _INV, _COO),
    _cap("correct_randomisation", _("record a mis-randomisation (wrong stratum, randomised in error)"), _DM, _STAT),
    _cap("void_record", _("void a CRF record entered in error (with a reason; never deleted)"), _INV, _COO),
    _cap("view_comparative", _("see comparative efficacy by arm (PFS/OS by arm, log-rank): interim results"),
         _STAT, _DMC),
    _cap("verify_source", _("verify CRF records and their critical fields against the source documents (SDV)"),
         _MON),
    _cap("manage_lab_ranges", _("record the site laboratories' reference ranges (LLN/ULN by analyte, versioned)"),
         _DM, _ADM),
    _cap("approve_amendment", _("approve or reject a protocol amendment proposed by someone else"), _INV, _DM, _ADM),
)

CAPABILITIES: MappingProxyType[str, Promise] = MappingProxyType(
    {c.name: c.description for c in CAPABILITY_TABLE})

ROLE_CAPABILITIES: MappingProxyType[str, frozenset[str]] = MappingProxyType(
    {role: frozenset(c.name for c in CAPABILITY_TABLE if role in c.roles) for role in ROLES})


def _check_table() -> None:
    """The table is consistent: unique names, and only declared roles."""
    names = [c.name for c in CAPABILITY_TABLE]
    if len(set(names)) != len(names):
        raise RuntimeError("a capability is declared twice in CAPABILITY_TABLE")
    for c in CAPABILITY_TABLE:
        unknown = c.roles - set(ROLES)
        if unknown:
            raise RuntimeError(f"capability {c.name!r} names unknown roles {sorted(unknown)}")


_check_table()
