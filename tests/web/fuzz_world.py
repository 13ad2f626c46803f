"""Shared pieces of the API and page fuzz tests: hostile values, and one record of every CRF form.

:data:`HOSTILE` holds the values hospital data and careless clients actually send: wrong types,
huge and non-finite numbers, empty and blank strings, NUL, Chinese and full-width text, impossible
and ambiguous dates (31/02/2024, 2024-02-31), very long strings, nulls, lists and objects.
:func:`crf_records` saves one valid record of every CRF form for a subject (through the service),
and :func:`attachment` one signed consent PDF, so PATCH and the record and attachment pages reach
the form's validation rather than a 404.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from tests.web.clinical.conftest import RT, save
from tests.web.conftest import World

HOSTILE: tuple[Any, ...] = (
    None, True, False, 0, -1, 2**63, -(10**30), 1e308, float("nan"), float("inf"), float("-inf"), 0.30000000000000004,
    "", " ", "\x00", "\ufeff", "汉字", "鼻咽癌", "３１", "1,5", "1e400", "NaN", "-0", "12 mg",
    "31/02/2024", "2024-02-31", "2024-13-01", "02/31/2024", "0000-00-00", "9999-12-31", "2026-01-06T25:00",
    "x" * 10_000, "<script>alert(1)</script>", "' OR 1=1 --", "../../etc/passwd",
    [], {}, [1, "a", None], {"a": None},
)
#: path-segment values that are not real objects (the converters and the lookups must answer 4xx)
HOSTILE_PATH: tuple[str, ...] = ("0", "-1", str(2**63), str(10**30), "1.5", "%00", "%E6%B1%89", "x" * 300, "%20")
#: query-string values (pages, filters and sort keys of the list pages)
HOSTILE_QUERY: tuple[str, ...] = ("", "-1", "0", str(10**30), "NaN", "汉字", "\x00", "x" * 2000, "31/02/2024", "[]")
QUERY_KEYS: tuple[str, ...] = ("page", "sort", "order", "site", "status", "q", "form", "event", "lang", "limit",
                               "offset", "kind", "subject", "field", "next", "format", "week")

#: one valid record per CRF form (as entered at a site; the order respects the forms' dependencies)
CRF_VALUES: dict[str, dict[str, Any]] = {
    "baseline": {"assessment_date": date(2026, 1, 6), "height_cm": 170, "weight_kg": 62, "t_category": "T3",
                 "n_category": "N1", "m_category": "M0", "ecog": 1, "hb": 130},
    "radiotherapy": dict(RT),
    "drug": {"drug": "S-1", "date": date(2026, 1, 12), "planned_dose_mg": 50.0, "dose_mg": 50.0,
             "doses_planned": 14, "doses_taken": 13},
    "interruption": {"treatment": "radiotherapy", "start_date": date(2026, 1, 20), "end_date": date(2026, 1, 22),
                     "reason": "machine service"},
    "lab": {"week": 2, "sample_date": date(2026, 1, 19), "term": "platelet_count_decreased", "value": 90,
            "unit": "10^9/L", "lln": 150, "lln_unit": "10^9/L", "grade": None},
    "ae": {"week": 3, "term": "mucositis_oral", "grade": 3, "attribution": "probable", "serious": False,
           "start_date": date(2026, 1, 26)},
    "rtog": {"assessment_date": date(2026, 1, 26), "scale": "acute", "organ": "mucous_membrane", "grade": 2},
    "assessment": {"assessment_date": date(2026, 3, 30), "new_lesions": "no"},
    "followup": {"visit_date": date(2026, 6, 1), "status": "alive_ned", "notes": "well"},
    "event": {"kind": "last_contact", "event_date": date(2026, 6, 1)},
}


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def attachment(world: World, study: str = "imrt", site: str = "A") -> int:
    """Store a signed consent PDF for the (study, site) subject; its pk."""
    from npctrial.web.core.attachments import store_attachment

    user = world.users["coordinator" if site == "A" else "coordinator_b"]
    return store_attachment(world.subjects[(study, site)], user=user, data=PDF, filename="consent.pdf",
                            kind="signed_consent", record="consent").pk


def crf_records(world: World, study: str = "imrt", site: str = "A") -> dict[str, int]:
    """Save one record of every CRF form for the (study, site) subject; form slug -> record pk."""
    from npctrial.web.clinical.crfs import CRFS

    assert set(CRF_VALUES) == set(CRFS), "a new CRF form needs a valid example here"
    return {form: save(form, world, dict(values), study=study, site=site).pk for form, values in CRF_VALUES.items()}
