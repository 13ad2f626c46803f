"""De-identified exports: every date of a subject shifted by the same days (or removed), free text dropped,
personal identifiers (:data:`IDENTIFIER_COLUMNS`: initials, birth date, hospital number) dropped.

The shift of a subject comes from :func:`npctrial.domain.access.compute_date_shift` keyed by the
study and the server's secret key (``salted_hmac``): the same in every export of the study, never
stored, not computable without the key. Rotating ``NPCTRIAL_SECRET_KEY`` changes the shifts.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.utils.crypto import salted_hmac

from npctrial.domain.access import compute_date_shift, shift_date
from npctrial.web.core.form_access import access_spec, require_export
from npctrial.web.core.models import Study

#: columns that identify a person: never in a de-identified export, whichever export holds them
#: (the screening log; a protocol field of the same name in the screening values).
IDENTIFIER_COLUMNS = frozenset({"initials", "birth_date", "hospital_number"})


@dataclass(frozen=True)
class Deidentifier:
    """How one study's exports are de-identified (``dates``: shift or remove)."""

    key: bytes
    dates: str
    max_shift_days: int

    def shift_for(self, subject_id: str) -> int:
        return compute_date_shift(self.key, subject_id, self.max_shift_days)

    def columns(self, columns: Iterable[str], dates: Iterable[str], free_text: Iterable[str]) -> list[str]:
        """The exported columns: identifiers and free text dropped; date columns too when dates are removed."""
        dropped = IDENTIFIER_COLUMNS | set(free_text) | (set(dates) if self.dates == "remove" else set())
        return [c for c in columns if c not in dropped]

    def row(self, row: dict[str, Any], subject_id: str, dates: Iterable[str], free_text: Iterable[str]) -> dict[str, Any]:
        out = {k: v for k, v in row.items() if k not in set(free_text) and k not in IDENTIFIER_COLUMNS}
        if self.dates == "remove":
            return {k: v for k, v in out.items() if k not in set(dates)}
        days = self.shift_for(subject_id)
        for c in dates:
            if out.get(c) not in (None, ""):
                out[c] = shift_date(out[c], days)
        return out

    def rows(self, rows: Iterable[dict[str, Any]], key: str, dates: Iterable[str],
             free_text: Iterable[str]) -> Iterator[dict[str, Any]]:
        """Each row de-identified; ``key`` names the column holding the subject ID."""
        dates, free_text = tuple(dates), tuple(free_text)
        for row in rows:
            yield self.row(row, str(row[key]), dates, free_text)


def deidentifier_for(study: Study) -> Deidentifier:
    spec = access_spec(study).deidentification
    key = salted_hmac("npctrial.deidentify", f"study:{study.pk}:{study.code}").digest()
    return Deidentifier(key=key, dates=spec.dates, max_shift_days=spec.max_shift_days)


def export_deidentifier(user: Any, study: Study, requested: str | None = None) -> Deidentifier | None:
    """For an export by ``user``: None (full export) or the study's Deidentifier.

    403 without an export right; a de-identified export level always de-identifies; a full level
    de-identifies when ``requested == "deidentified"``.
    """
    level = require_export(user, study)
    if level == "full" and requested != "deidentified":
        return None
    return deidentifier_for(study)
