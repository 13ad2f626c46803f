"""Enrolment and randomisation dates: entered, never in the future, never before consent/screening/enrolment."""

from __future__ import annotations

from datetime import date

import pytest

from npctrial.domain.timeline import check_enrolment_date, check_randomisation_date
from npctrial.errors import ValidationError

TODAY = date(2026, 12, 1)


def test_enrolment_on_the_consent_and_screening_day_and_today_are_accepted() -> None:
    assert check_enrolment_date(date(2026, 4, 2), consent=date(2026, 4, 2), screening=date(2026, 4, 2),
                                today=TODAY) == date(2026, 4, 2)
    assert check_enrolment_date("2026-12-01", consent="2026-04-01", today=TODAY) == TODAY


@pytest.mark.parametrize(
    ("enrolment", "consent", "screening", "field", "text"),
    [
        (date(2026, 12, 2), date(2026, 4, 1), None, "enrolment_date", "future"),
        (date(2026, 4, 1), date(2026, 12, 2), None, "consent_date", "future"),
        (date(2026, 3, 31), date(2026, 4, 1), None, "enrolment_date", "before the consent date"),
        (date(2026, 4, 1), date(2026, 3, 1), date(2026, 4, 2), "enrolment_date", "before the screening date"),
        ("01/04/2026", date(2026, 3, 1), None, "enrolment_date", "YYYY-MM-DD"),
    ],
)
def test_impossible_enrolment_dates_are_refused(enrolment: object, consent: date, screening: date | None,
                                                field: str, text: str) -> None:
    with pytest.raises(ValidationError) as info:
        check_enrolment_date(enrolment, consent=consent, screening=screening, today=TODAY)  # type: ignore[arg-type]
    assert info.value.field == field
    assert text in str(info.value)


def test_randomisation_on_enrolment_day_is_accepted_before_or_future_refused() -> None:
    assert check_randomisation_date(date(2026, 4, 2), enrolment=date(2026, 4, 2), today=TODAY) == date(2026, 4, 2)
    for day, text in ((date(2026, 4, 1), "before the enrolment date"), (date(2026, 12, 2), "future")):
        with pytest.raises(ValidationError) as info:
            check_randomisation_date(day, enrolment=date(2026, 4, 2), today=TODAY)
        assert info.value.field == "randomisation_date"
        assert text in str(info.value)
