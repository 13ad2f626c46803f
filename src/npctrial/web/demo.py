"""Demo data: both bundled protocols, three sites, one user per role (a coordinator per site), ~40 synthetic patients.

:func:`load_demo` is idempotent: studies and patients are created once; users and their
passwords are (re)set on every call so the printed logins always work. Every patient is
synthetic (no identifiers are ever collected). Patients are spread over every stage of the
workflow: screen failures (several criteria), incomplete screenings, eligible but not enrolled,
enrolled, randomised, with open, answered and closed data queries.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from npctrial.web.core.allocation import randomise
from npctrial.web.core.enrolment import enrol
from npctrial.web.core.models import Membership, Site, StudySite
from npctrial.web.core.protocols import load_bundled_protocol_text
from npctrial.web.core.queries import answer_query, close_query, raise_query
from npctrial.web.core.screening import create_screening
from npctrial.web.core.studies import create_study

SITES = (("GZ", "Guangzhou demo cancer centre"), ("HK", "Hong Kong demo hospital"), ("SG", "Singapore demo centre"))
STUDIES = (("imrt-s1", 40), ("ccrt-nimotuzumab", 60))

#: username -> (role, site code or None for every site). Each site has its own coordinator, who
#: screens, enrols and records the CRFs of that site's patients; the investigator works at GZ.
USERS: dict[str, tuple[str, str | None]] = {
    "investigator": ("investigator", "GZ"),
    "coordinator": ("coordinator", "GZ"),
    "coordinator_hk": ("coordinator", "HK"),
    "coordinator_sg": ("coordinator", "SG"),
    "data_manager": ("data_manager", None),
    "monitor": ("monitor", None),
    "statistician": ("statistician", None),
    "study_admin": ("study_admin", None),
}


#: Other EDC apps add callables ``(study, users, rng)`` that add their demo data to a new demo study.
DEMO_HOOKS: list = []


def coordinator_of(site_code: str) -> str:
    """The demo username of the coordinator of ``site_code``."""
    for username, (role, site) in USERS.items():
        if role == "coordinator" and site == site_code:
            return username
    raise ValueError(f"the demo has no coordinator at site {site_code!r}")


def demo_password(username: str) -> str:
    return f"{username}-demo-2026"


_BASE: dict[str, dict[str, Any]] = {
    "imrt-s1": {
        "sex": "male", "height_cm": 170, "weight_kg": 62, "histology_confirmed": True,
        "t_category": "T3", "n_category": "N1", "m_category": "M0", "ecog": 1, "measurable_lesions": 2,
        "wbc": 6.2, "hb": 132, "platelets": 220, "bilirubin": 0.7, "alt": 28, "alt_uln": 40, "ast": 24,
        "ast_uln": 40, "creatinine": 72, "creatinine_uln": 110, "previous_radiotherapy": False,
        "other_malignancy_history": False, "pregnant_or_lactating": False, "s1_allergy": False,
        "major_organ_dysfunction": False, "uncontrolled_infection": False, "severe_gi_disease": False,
        "mental_disorder": False, "prior_induction_platinum": True,
    },
    "ccrt-nimotuzumab": {
        "sex": "female", "height_cm": 160, "weight_kg": 55, "t_category": "T3", "n_category": "N2",
        "m_category": "M0", "induction_chemotherapy": True, "ebv_dna_post_induction": 1200,
        "induction_response": "PR",
    },
}

_FAILURES: dict[str, list[dict[str, Any]]] = {
    "imrt-s1": [{"hb": 92}, {"ecog": 2}, {"previous_radiotherapy": True}, {"platelets": 80},
                {"m_category": "M1"}, {"t_category": "T1", "n_category": "N0"}],
    "ccrt-nimotuzumab": [{"ebv_dna_post_induction": 0, "induction_response": "CR"},
                         {"induction_chemotherapy": False}, {"t_category": "T1", "n_category": "N0"}],
}
_INCOMPLETE: dict[str, list[str]] = {"imrt-s1": ["hb", "platelets"], "ccrt-nimotuzumab": ["induction_response", "ebv_dna_post_induction"]}


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    role: str
    scope: str


def _users() -> list[DemoLogin]:
    user_model = get_user_model()
    logins = []
    for username, (role, site) in USERS.items():
        user, _ = user_model.objects.get_or_create(username=username)
        user.set_password(demo_password(username))
        user.save()
        logins.append(DemoLogin(username, demo_password(username), role, site or "all sites"))
    admin, _ = user_model.objects.get_or_create(username="admin", defaults={"is_staff": True, "is_superuser": True})
    admin.is_staff = admin.is_superuser = True
    admin.set_password(demo_password("admin"))
    admin.save()
    logins.append(DemoLogin("admin", demo_password("admin"), "superuser", "everything"))
    return logins


#: first letters of common pinyin surnames and given names (synthetic initials, one pair per patient)
_LETTERS = "ZWLCHYXJMGSDQT"


def demo_identity(birth: str, site: Site, i: int) -> dict[str, Any]:
    """Synthetic screening-log identity of demo patient ``i``: initials unique per ``i`` (so no demo
    patient is taken for another), the birth date, the site's record number."""
    n = len(_LETTERS)
    initials = _LETTERS[i % n] + _LETTERS[(i // n + 3 * i) % n] + ("" if i < n * n else _LETTERS[(i // (n * n)) % n])
    return {"initials": initials, "birth_date": birth, "hospital_number": f"{site.code}{100000 + i}"}


def _patient(rng: random.Random, protocol_id: str, i: int) -> dict[str, Any]:
    """Screening values of demo patient ``i``; ``birth_date`` (1950-1989) is the identity's, not a value."""
    values = dict(_BASE[protocol_id])
    birth = date(1950, 1, 1) + timedelta(days=rng.randrange(0, 365 * 40))
    values["birth_date"] = birth.isoformat()
    values["height_cm"] = round(values["height_cm"] + rng.uniform(-12, 12), 1)
    values["weight_kg"] = round(values["weight_kg"] + rng.uniform(-10, 15), 1)
    values["sex"] = rng.choice(["female", "male"])
    if protocol_id == "ccrt-nimotuzumab":
        values["induction_response"] = rng.choice(["CR", "PR", "PR", "SD", "PD"])
        values["ebv_dna_post_induction"] = rng.choice([0, 0, 350, 1200, 5400])
        if values["ebv_dna_post_induction"] == 0 and values["induction_response"] in {"CR", "PR"}:
            values["induction_response"] = "SD"
    else:
        values["hb"] = round(rng.uniform(105, 150))
        values["wbc"] = round(rng.uniform(4.2, 9), 1)
    return values


@contextmanager
def demo_clock(moment: Any) -> Iterator[None]:
    """Synthetic history: what is created inside is stamped ``moment`` (the record and its audit rows alike).

    The demo back-dates screening, enrolment and randomisation this way instead of editing dates
    afterwards, which would bypass the audit trail (and ``npctrial verify-audit`` would say so).
    """
    real = timezone.now
    timezone.now = lambda: moment
    try:
        yield
    finally:
        timezone.now = real


def _load_study(protocol_id: str, target: int, sites: list[Site], users: dict[str, Any], rng: random.Random,
                n_patients: int) -> None:
    today = timezone.now()
    with demo_clock(today - timedelta(days=250)):
        study = create_study(code=protocol_id, yaml_text=load_bundled_protocol_text(protocol_id),
                             target_enrolment=target, sites=sites, user=users["study_admin"],
                             status="production")  # the demo shows a running trial (synthetic patients)
        for username, (role, site_code) in USERS.items():
            site = next((s for s in sites if s.code == site_code), None)
            Membership.objects.get_or_create(user=users[username], study=study, site=site, role=role)
    data_manager = users["data_manager"]
    randomised = hasattr(study, "allocation_sequence")
    for i in range(n_patients):
        site = sites[i % len(sites)]
        coordinator = users[coordinator_of(site.code)]
        values = _patient(rng, protocol_id, i)
        stage = i % 10
        if stage in (0, 1):
            values.update(_FAILURES[protocol_id][i % len(_FAILURES[protocol_id])])
        elif stage == 2:
            for name in _INCOMPLETE[protocol_id]:
                values.pop(name, None)
        days_ago = int((n_patients - i) * 240 / n_patients)
        with demo_clock(today - timedelta(days=days_ago + 3)):
            identity = demo_identity(values.pop("birth_date"), site, i)
            record = create_screening(study, site, values, coordinator, identity=identity)
        if record.outcome != "eligible" or stage == 3:
            continue
        enrolled_at = today - timedelta(days=days_ago)
        with demo_clock(enrolled_at):
            subject = enrol(record, consent_date=(today - timedelta(days=days_ago + 1)).date(),
                            consent_version=record.protocol_version.label, user=coordinator)
            if randomised and stage != 4:
                randomise(subject, coordinator)  # randomised the day of enrolment
        if stage in (5, 6, 7):
            field = "hb" if protocol_id == "imrt-s1" else "ebv_dna_post_induction"
            query = raise_query(subject, field_name=field, text=f"Please confirm {field} against the source document.",
                                user=data_manager)
            if stage >= 6:
                answer_query(query, answer="Confirmed against the laboratory report.", user=coordinator)
            if stage == 7:
                close_query(query, user=data_manager)


def load_demo(n_patients_per_study: int = 20, seed: int = 2026) -> list[DemoLogin]:
    """Create the demo once (about 40 patients over both studies); always (re)set the logins."""
    logins = _users()
    user_model = get_user_model()
    users = {u: user_model.objects.get(username=u) for u in USERS}
    sites = []
    for code, name in SITES:
        site, _ = Site.objects.get_or_create(code=code, defaults={"name": name})
        sites.append(site)
    rng = random.Random(seed)
    from npctrial.web.core.models import Study

    for protocol_id, target in STUDIES:
        if Study.objects.filter(code=protocol_id).exists():
            continue
        with transaction.atomic():
            _load_study(protocol_id, target, sites, users, rng, n_patients_per_study)
            for hook in DEMO_HOOKS:
                hook(Study.objects.get(code=protocol_id), users, rng)
    assert StudySite.objects.exists()
    return logins


def format_logins(logins: list[DemoLogin]) -> str:
    lines = ["Demo logins (synthetic data only):", f"  {'username':<14} {'password':<26} {'role':<14} scope"]
    lines += [f"  {x.username:<14} {x.password:<26} {x.role:<14} {x.scope}" for x in logins]
    return "\n".join(lines)
