"""Web tests: Django settings, and a small two-site world built through the services.

Site A = GZ, site B = HK. Users: one per role at site A (site roles) or all sites (study roles),
``dmc`` (data monitoring committee, all sites), plus ``coordinator_b`` at site B. Studies: ``imrt-s1`` (single arm) and ``ccrt-nimotuzumab``
(randomised by minimisation), each with screenings, subjects and queries at both sites.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from unittest import mock

_VAR = tempfile.mkdtemp(prefix="npctrial-web-tests-")
os.environ.setdefault("NPCTRIAL_VAR_DIR", _VAR)
os.environ.setdefault("NPCTRIAL_SECRET_KEY", "test-secret-key-not-for-production-0123456789")
os.environ["DJANGO_SETTINGS_MODULE"] = "npctrial.web.settings"
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

import django  # noqa: E402
import pytest  # noqa: E402

django.setup()  # pytest-django configured itself before this conftest set the settings module


def _sqlite_test_database_in_a_file() -> None:
    """SQLite test databases are files (on tmpfs when there is one), not Django's shared-cache memory
    database: there, two requests of the live server writing at once fail at once with "database table
    is locked" instead of waiting (busy timeout) as they do on the WAL file the EDC runs on. pytest-django
    adds the xdist worker's suffix to the name."""
    from django.db import connections

    db = connections.settings["default"]
    if db["ENGINE"] == "django.db.backends.sqlite3":
        root = "/dev/shm" if os.path.isdir("/dev/shm") else None
        db.setdefault("TEST", {})["NAME"] = os.path.join(tempfile.mkdtemp(prefix="npctrial-db-", dir=root),
                                                         "test.sqlite3")


_sqlite_test_database_in_a_file()

PASSWORD = "correct-horse-battery-9"
# the concealed randomisation seed of the world's studies (drawn with secrets.randbits in production)
WORLD_SEED = 20260105

IMRT_ELIGIBLE: dict[str, Any] = {
    "sex": "male", "height_cm": 170, "weight_kg": 62, "histology_confirmed": True,
    "t_category": "T3", "n_category": "N1", "m_category": "M0", "ecog": 1, "measurable_lesions": 2,
    "wbc": 6.2, "hb": 132, "platelets": 220, "bilirubin": 0.7, "alt": 28, "alt_uln": 40, "ast": 24,
    "ast_uln": 40, "creatinine": 72, "creatinine_uln": 110, "previous_radiotherapy": False,
    "other_malignancy_history": False, "pregnant_or_lactating": False, "s1_allergy": False,
    "major_organ_dysfunction": False, "uncontrolled_infection": False, "severe_gi_disease": False,
    "mental_disorder": False,
}
CCRT_ELIGIBLE: dict[str, Any] = {
    "sex": "female", "t_category": "T3", "n_category": "N2", "m_category": "M0",
    "induction_chemotherapy": True, "ebv_dna_post_induction": 1200, "induction_response": "PR",
}

ROLES = ("investigator", "coordinator", "data_manager", "monitor", "statistician", "study_admin")
SITE_ROLES = ("investigator", "coordinator")


@dataclass
class World:
    sites: dict[str, Any]
    users: dict[str, Any]
    studies: dict[str, Any]
    screenings: dict[tuple[str, str], Any] = field(default_factory=dict)
    subjects: dict[tuple[str, str], Any] = field(default_factory=dict)
    queries: dict[tuple[str, str], Any] = field(default_factory=dict)


def make_world() -> World:
    from django.contrib.auth import get_user_model

    from npctrial.web.core.allocation import randomise
    from npctrial.web.core.enrolment import enrol
    from npctrial.web.core.models import Membership, Site
    from npctrial.web.core.protocols import load_bundled_protocol_text
    from npctrial.web.core.queries import raise_query
    from npctrial.web.core.screening import create_screening
    from npctrial.web.core.studies import create_study

    user_model = get_user_model()
    patch_seed = mock.patch("npctrial.web.core.studies.secrets.randbits", return_value=WORLD_SEED)
    sites = {"A": Site.objects.create(code="GZ", name="Site A"), "B": Site.objects.create(code="HK", name="Site B")}
    users = {}
    for role in (*ROLES, "dmc", "coordinator_b", "outsider"):
        users[role] = user_model.objects.create_user(role, password=PASSWORD)
    with patch_seed:  # a fixed concealed seed: the two CCRT subjects get both arms, in every run
        studies = {
            "imrt": create_study(code="imrt-s1", yaml_text=load_bundled_protocol_text("imrt-s1"),
                                 target_enrolment=40, sites=list(sites.values())),
            "ccrt": create_study(code="ccrt-nimo", yaml_text=load_bundled_protocol_text("ccrt-nimotuzumab"),
                                 target_enrolment=60, sites=list(sites.values())),
        }
    for study in studies.values():
        for role in ROLES:
            Membership.objects.create(user=users[role], study=study, role=role,
                                      site=sites["A"] if role in SITE_ROLES else None)
        Membership.objects.create(user=users["coordinator_b"], study=study, role="coordinator", site=sites["B"])
        Membership.objects.create(user=users["dmc"], study=study, role="dmc", site=None)
    world = World(sites=sites, users=users, studies=studies)
    for key, values in (("imrt", IMRT_ELIGIBLE), ("ccrt", CCRT_ELIGIBLE)):
        study = studies[key]
        for s in ("A", "B"):
            actor = users["coordinator"] if s == "A" else users["coordinator_b"]
            record = create_screening(study, sites[s], values, actor)
            subject = enrol(record, consent_date=date(2026, 1, 5), consent_version="1.0", user=actor)
            if key == "ccrt":
                randomise(subject, actor)
            world.screenings[(key, s)] = create_screening(study, sites[s], values, actor)  # eligible, not enrolled
            world.subjects[(key, s)] = subject
            world.queries[(key, s)] = raise_query(subject, field_name="t_category", text="Please check T",
                                                  user=users["data_manager"])
    return world


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    """argon2 (the production hasher, checked in test_security) is slow by design; tests use MD5."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def world(db: Any) -> World:
    return make_world()


def login(client: Any, username: str) -> Any:
    """Log ``username`` in without the login form (the form and lockout are tested separately)."""
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.get(username=username),
                       backend="django.contrib.auth.backends.ModelBackend")
    return client


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item: Any, call: Any) -> Any:
    """Expose each phase's report on the item (the browser fixture screenshots failed tests)."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)
