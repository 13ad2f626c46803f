"""Hooks into the core app: nav links, audit history, data queries (capabilities: ``core.roles``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

_INSTALLED = False


def subject_records(subject: Any) -> Iterable[Any]:
    """Every clinical record of ``subject`` (for the core per-subject audit history page)."""
    from npctrial.web.clinical.crfs import subject_records as records

    return records(subject)


def _demo_hook(study: Any, users: dict[str, Any], rng: Any) -> None:
    from npctrial.web.clinical.demo import load_clinical_demo
    from npctrial.web.demo import demo_password

    load_clinical_demo(study, users, rng, password=demo_password("investigator"))
    from npctrial.web.clinical.demo_messy import COORDINATOR, load_messy_site
    from npctrial.web.core.models import Subject

    template = Subject.objects.filter(study=study).select_related("screening").order_by("pk").first()
    if template is not None:  # the messy site's patients are screened with the values of an eligible one
        load_messy_site(study, demo_password(COORDINATOR), dict(template.screening.values))


def install() -> None:
    global _INSTALLED
    if _INSTALLED:
        return
    from django.utils.translation import gettext_lazy as _

    from npctrial.web.clinical.crfs import query_fields
    from npctrial.web.core.context import STUDY_NAV
    from npctrial.web.core.queries import QUERY_RECORD_RESOLVERS
    from npctrial.web.core.views.subjects import SUBJECT_RECORD_PROVIDERS

    STUDY_NAV.extend([(_("CRFs"), "clinical-home"), (_("Status"), "status-dashboard"), (_("Report"), "study-report"),
                      (_("Exports"), "export-index"), (_("Data quality"), "data-quality"),
                      (_("Rules"), "study-documentation")])
    SUBJECT_RECORD_PROVIDERS.append(subject_records)
    QUERY_RECORD_RESOLVERS.append(query_fields)
    from npctrial.web.clinical.declared import query_fields as declared_query_fields

    QUERY_RECORD_RESOLVERS.append(declared_query_fields)
    from npctrial.web import demo

    demo.DEMO_HOOKS.append(_demo_hook)
    _INSTALLED = True
