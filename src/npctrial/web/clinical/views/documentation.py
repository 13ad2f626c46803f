"""The study's documentation page: the rules the EDC applies under the current protocol version.

Edit checks (generic and the protocol's, with their expressions), the built-in plausibility
checks, treatment rules (BSA rule, dose bands, allowed deviation reasons, SAE window), CTCAE
v4.03 allowed grades per term and the lab analytes with their units. Everything shown is read
from the domain; nothing here decides anything.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from npctrial.domain import clinical_terms, lab_analytes, lab_terms, other_specify_socs
from npctrial.domain.edit_checks import edit_checks_for
from npctrial.domain.treatment_rules import rules_of
from npctrial.web.clinical.checks import LAB_UNUSUAL
from npctrial.web.core import permissions
from npctrial.web.core.screening import protocol_of


def documentation_context(study: Any) -> dict[str, Any]:
    version = study.current_protocol
    protocol = protocol_of(version)
    checks = edit_checks_for(protocol)
    own = {c.id for c in protocol.edit_checks}
    return {
        "version": version, "protocol": protocol,
        "checks": [{"check": c, "origin": "protocol" if c.id in own else "generic"} for c in checks],
        "builtin": [{"id": LAB_UNUSUAL, "form": "lab", "severity": "soft",
                     "text": "a lab value or baseline outside the analyte's usual range (data/lab_analytes.yaml)"},
                    {"id": "LAB-UNITS", "form": "lab", "severity": "hard",
                     "text": "a value, LLN, ULN or baseline impossible in its unit, or a reference value without a unit"}],
        "rules": rules_of(protocol), "dosing": protocol.dosing,
        "terms": [*clinical_terms(), *lab_terms()], "socs": other_specify_socs(), "analytes": lab_analytes(),
    }


def study_documentation(request: HttpRequest, study_pk: int) -> HttpResponse:
    study = permissions.get_study_for(request.user, study_pk, "view")
    return render(request, "clinical/documentation.html", {"study": study, **documentation_context(study)})
