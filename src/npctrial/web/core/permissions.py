"""Permissions: the ONE place where roles become rights. Pages, API routes and exports all call it.

Model:

1. A user has :class:`~npctrial.web.core.models.Membership` rows (study, site or all sites, role).
   Superusers act as ``study_admin`` of every study at every site.
2. A role grants capabilities: the one table :data:`npctrial.web.core.roles.CAPABILITY_TABLE`
   (nothing is registered at start-up); site-level memberships scope them to one site,
   study-level memberships (``site=None``) to every site of the study.
3. Objects outside the user's scope do not exist for that user: :func:`get_scoped_or_404` and
   :func:`require` raise ``Http404`` (never 403), so a user of site A cannot learn whether an
   object of site B exists, whatever route or guessed ID is used.
4. Inside the scope, a missing capability is ``PermissionDenied`` (HTTP 403).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from npctrial.web.core.models import Membership, Site, Study
from npctrial.web.core.roles import CAPABILITIES, ROLE_CAPABILITIES, ROLES

__all__ = [
    "CAPABILITIES", "ROLES", "ROLE_CAPABILITIES", "can", "capabilities_for", "get_object_for",
    "get_scoped_or_404", "get_study_for", "get_study_or_404", "require", "roles_for", "scope",
    "studies_for", "visible_site_ids", "visible_sites",
]

def _memberships(user: Any, study: Study) -> list[Membership]:
    if not getattr(user, "is_authenticated", False):
        return []
    cache = getattr(user, "_npctrial_memberships", None)
    if cache is None:
        cache = {}
        user._npctrial_memberships = cache
    if study.pk not in cache:
        cache[study.pk] = list(Membership.objects.filter(user=user, study=study, active=True))
    return cache[study.pk]


def studies_for(user: Any) -> QuerySet[Study]:
    """Studies the user can see."""
    if getattr(user, "is_superuser", False):
        return Study.objects.all()
    return Study.objects.filter(memberships__user=user, memberships__active=True).distinct()


def roles_for(user: Any, study: Study, site: Site | None = None) -> set[str]:
    """The user's roles in ``study`` that apply at ``site`` (any site when ``site`` is None)."""
    if getattr(user, "is_superuser", False):
        return {"study_admin"}
    return {
        m.role
        for m in _memberships(user, study)
        if site is None or m.site_id is None or m.site_id == site.pk
    }


def capabilities_for(user: Any, study: Study, site: Site | None = None) -> set[str]:
    caps: set[str] = set()
    for role in roles_for(user, study, site):
        caps |= ROLE_CAPABILITIES[role]
    return caps


def visible_site_ids(user: Any, study: Study) -> set[int] | None:
    """Site ids in the user's scope; ``None`` means every site of the study."""
    if getattr(user, "is_superuser", False):
        return None
    ids: set[int] = set()
    for m in _memberships(user, study):
        if m.site_id is None:
            return None
        ids.add(m.site_id)
    return ids


def visible_sites(user: Any, study: Study) -> QuerySet[Site]:
    sites = Site.objects.filter(study_sites__study=study)
    ids = visible_site_ids(user, study)
    return sites if ids is None else sites.filter(pk__in=ids)


def can(user: Any, study: Study, capability: str, site: Site | None = None) -> bool:
    if capability not in CAPABILITIES:
        raise ValueError(f"unknown capability {capability!r}")
    return capability in capabilities_for(user, study, site)


def get_study_or_404(user: Any, study_pk: Any) -> Study:
    """The study if the user has any role in it, else 404."""
    try:
        study = Study.objects.get(pk=int(study_pk))
    except (Study.DoesNotExist, TypeError, ValueError):
        raise Http404("no such study") from None
    if not roles_for(user, study):
        raise Http404("no such study")
    return study


def scope(user: Any, study: Study, queryset: QuerySet, site_field: str = "site") -> QuerySet:
    """Restrict ``queryset`` (objects of ``study``) to the sites in the user's scope."""
    qs = queryset.filter(study=study) if hasattr(queryset.model, "study") else queryset
    ids = visible_site_ids(user, study)
    if ids is None:
        return qs
    return qs.filter(**{f"{site_field}__in": ids})


def get_scoped_or_404(
    user: Any, study: Study, queryset: QuerySet, pk: Any, site_field: str = "site"
) -> Model:
    """One object of the study within the user's site scope, else 404 (whatever the reason)."""
    try:
        return scope(user, study, queryset, site_field).get(pk=int(pk))
    except (queryset.model.DoesNotExist, TypeError, ValueError):
        raise Http404("no such record") from None


def require(user: Any, study: Study, capability: str, site: Site | None = None) -> None:
    """404 if the site is out of the user's scope; 403 if the capability is missing there."""
    if site is not None:
        ids = visible_site_ids(user, study)
        if ids is not None and site.pk not in ids:
            raise Http404("no such record")
    if not can(user, study, capability, site):
        raise PermissionDenied(_("your role does not allow '%(capability)s' here") % {"capability": capability})


def get_study_for(user: Any, study_pk: Any, capability: str) -> Study:
    """The study (404 without a role in it) if the user has ``capability`` at some site of it (else 403)."""
    study = get_study_or_404(user, study_pk)
    require(user, study, capability)
    return study


def get_object_for(
    user: Any, study_pk: Any, queryset: QuerySet, pk: Any, capability: str, site_field: str = "site"
) -> tuple[Study, Any]:
    """(study, object) for a page/API route on one object: every check of this module, in order.

    1. The study: 404 without a role in it. 2. The object within the user's sites: 404 otherwise.
    3. ``capability`` at the object's site: 403 otherwise.
    """
    study = get_study_or_404(user, study_pk)
    obj: Any = get_scoped_or_404(user, study, queryset, pk, site_field)
    site = obj
    for part in site_field.split("__"):
        site = getattr(site, part)
    require(user, study, capability, site)
    return study, obj
