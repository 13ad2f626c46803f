"""Seed a fresh EDC database for the production-server and restore tests (run in its own process).

``python -m tests.web.production_seed N`` migrates the configured database (``DATABASE_URL`` or
``NPCTRIAL_VAR_DIR``), creates the CCRT study at site GZ, a coordinator and N enrolled, not yet
randomised subjects, and prints ``{"study": pk, "subjects": [pk, ...]}`` as JSON.
``python -m tests.web.production_seed randomise PK ...`` randomises those subjects, ``enrol N``
enrols N more, ``show`` prints the allocations (kept and lost) of the study as JSON.
"""

from __future__ import annotations

import json
import os
import sys

PASSWORD = "correct-horse-battery-9"


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "npctrial.web.settings")
    import django

    django.setup()


def _enrol(study, site, coordinator, n: int, start: int = 0) -> list[int]:
    from npctrial.web.core.enrolment import enrol
    from npctrial.web.core.screening import create_screening

    responses = ["CR", "PR", "SD", "PD"]
    out = []
    for i in range(start, start + n):
        values = {"sex": "female", "t_category": "T3", "n_category": "N2", "m_category": "M0",
                  "induction_chemotherapy": True, "ebv_dna_post_induction": 1200,
                  "induction_response": responses[i % 4]}
        record = create_screening(study, site, values, coordinator)
        out.append(enrol(record, consent_date=record.screened_at.date(), consent_version="1.0", user=coordinator).pk)
    return out


def command(args: list[str]) -> dict:
    """The ``randomise``, ``enrol`` and ``show`` commands (on the seeded study)."""
    _setup()
    from django.contrib.auth import get_user_model

    from npctrial.web.core.allocation import randomise, verify_sequence
    from npctrial.web.core.models import Site, Study, Subject

    study = Study.objects.get(code="ccrt-nimo")
    coordinator = get_user_model().objects.get(username="coordinator")
    if args[0] == "randomise":
        return {"numbers": [randomise(Subject.objects.get(pk=int(pk)), coordinator).number for pk in args[1:]]}
    if args[0] == "enrol":
        return {"subjects": _enrol(study, Site.objects.get(code="GZ"), coordinator, int(args[1]), start=100)}
    sequence = study.allocation_sequence
    check = verify_sequence(sequence)
    return {"kept": sorted(sequence.allocations.values_list("number", flat=True)),
            "lost": sorted(sequence.lost_allocations.values_list("number", flat=True)),
            "count": sequence.count, "intact": check.intact, "problems": list(check.problems)}


def main(n: int) -> dict:
    _setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from npctrial.web.core.models import Membership, Site
    from npctrial.web.core.protocols import load_bundled_protocol_text
    from npctrial.web.core.studies import create_study

    call_command("migrate", interactive=False, verbosity=0)
    site = Site.objects.create(code="GZ", name="Site A")
    coordinator = get_user_model().objects.create_user("coordinator", password=PASSWORD)
    study = create_study(code="ccrt-nimo", yaml_text=load_bundled_protocol_text("ccrt-nimotuzumab"),
                         target_enrolment=100, sites=[site])
    Membership.objects.create(user=coordinator, study=study, role="coordinator", site=site)
    return {"study": study.pk, "subjects": _enrol(study, site, coordinator, n)}


if __name__ == "__main__":
    argv = sys.argv[1:]
    if argv and not argv[0].isdigit():
        print(json.dumps(command(argv)))
    else:
        print(json.dumps(main(int(argv[0]) if argv else 0)))
