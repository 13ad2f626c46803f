"""A screening's identity as entered, and duplicate detection when a screening is created.

The rules (what is valid, what makes two screenings the same person) are
:mod:`npctrial.domain.screening_identity`; this module reads the stored screenings and refuses,
naming the field, a screening of a person the study already screened unless it is confirmed as a
re-screening (``rescreen_of`` + ``rescreen_reason``), and any second enrolment of one person.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _

from npctrial.domain import screening_identity as rule
from npctrial.errors import ValidationError
from npctrial.web.core.models import ScreeningRecord, Site, Study
from npctrial.web.core.text_input import clean_text

__all__ = ["IdentityInput", "check_duplicates", "check_single_enrolment", "clean_identity", "identity_of"]

_MAX_PK = 2**31 - 1
_FIELD_OF = {"initials_birth_date": "initials", "hospital_number": "hospital_number"}


@dataclass(frozen=True)
class IdentityInput:
    initials: str = ""
    birth_date: date | None = None
    hospital_number: str = ""
    rescreen_of: ScreeningRecord | None = None
    rescreen_reason: str = ""

    def of_site(self, site: Site) -> rule.ScreeningIdentity:
        return rule.ScreeningIdentity(site=site.code, initials=self.initials, birth_date=self.birth_date,
                                      hospital_number=self.hospital_number)


def identity_of(record: ScreeningRecord) -> rule.ScreeningIdentity:
    return rule.ScreeningIdentity(site=record.site.code, initials=record.initials, birth_date=record.birth_date,
                                  hospital_number=record.hospital_number)


def _earlier(study: Study, raw: Any) -> ScreeningRecord | None:
    if raw in (None, ""):
        return None
    try:
        pk = int(raw)
    except (TypeError, ValueError):
        pk = 0
    record = ScreeningRecord.objects.filter(study=study, pk=pk).select_related("site").first() \
        if 1 <= pk <= _MAX_PK else None
    if record is None:
        raise ValidationError(_("rescreen_of: no screening %(value)s in this study") % {"value": raw},
                              field="rescreen_of")
    return record


def clean_identity(study: Study, raw: Mapping[str, Any], *, screening_date: date, today: date) -> IdentityInput:
    """Validated identity inputs (``initials``, ``birth_date``, ``hospital_number``, ``rescreen_of``,
    ``rescreen_reason``); each may be absent."""
    initials = raw.get("initials")
    birth = raw.get("birth_date")
    earlier = _earlier(study, raw.get("rescreen_of"))
    reason = clean_text(raw.get("rescreen_reason"), "rescreen_reason", 2000)
    if earlier is not None and not reason:
        raise ValidationError(_("rescreen_reason: say why the patient is screened again"), field="rescreen_reason")
    return IdentityInput(
        initials=rule.check_initials(initials) if initials not in (None, "") else "",
        birth_date=None if birth in (None, "") else rule.check_birth_date(birth, screening_date=screening_date,
                                                                          today=today),
        hospital_number=rule.check_hospital_number(raw.get("hospital_number")),
        rescreen_of=earlier, rescreen_reason=reason if earlier is not None else "")


def _describe(record: ScreeningRecord) -> str:
    return _("%(label)s (ID %(id)s, site %(site)s, screened %(date)s)") % {
        "label": str(record), "id": record.pk, "site": record.site.code, "date": record.screening_date.isoformat()}


def _same_person(study: Study, site: Site, ident: IdentityInput) -> list[tuple[ScreeningRecord, rule.SameBy]]:
    """Earlier screenings of the study that are ``ident`` under the domain rule (date order)."""
    query = Q(pk__in=[])
    if ident.initials and ident.birth_date is not None:
        query |= Q(initials__iexact=ident.initials, birth_date=ident.birth_date)
    if ident.hospital_number:
        query |= Q(site=site, hospital_number__iexact=ident.hospital_number)
    candidates = ScreeningRecord.objects.filter(query, study=study).select_related("site", "subject") \
        .order_by("screening_date", "pk")
    return rule.find_same_person(ident.of_site(site), ((r, identity_of(r)) for r in candidates))


def check_duplicates(study: Study, site: Site, ident: IdentityInput) -> None:
    """Refuse a screening of a person already screened in ``study``, unless confirmed as a re-screening
    of one of those screenings; refuse always when that person is enrolled."""
    matches = _same_person(study, site, ident)
    for record, why in matches:
        subject = getattr(record, "subject", None)
        if subject is not None:
            raise ValidationError(
                _("%(field)s: the same person as screening %(earlier)s, enrolled as %(subject)s; "
                  "a person is never enrolled twice") % {"field": _FIELD_OF[why], "earlier": _describe(record),
                                                         "subject": subject.subject_id}, field=_FIELD_OF[why])
    earlier = ident.rescreen_of
    if earlier is not None:
        _check_rescreen_link(earlier, [r for r, _why in matches])
        return
    if matches:
        record, why = matches[-1]
        raise ValidationError(
            _("%(field)s: the same person as screening %(earlier)s; if this is a re-screening, give rescreen_of "
              "%(id)s and a reason") % {"field": _FIELD_OF[why], "earlier": "; ".join(_describe(r) for r, _w in matches),
                                        "id": record.pk}, field=_FIELD_OF[why])


def _check_rescreen_link(earlier: ScreeningRecord, matches: list[ScreeningRecord]) -> None:
    """``earlier`` must be the same person (or a screening without recorded identity) and not enrolled."""
    if earlier not in matches and earlier.initials and earlier.birth_date is not None:
        raise ValidationError(_("rescreen_of: screening %(earlier)s is recorded as another person "
                                "(other initials, birth date or hospital number)") % {"earlier": _describe(earlier)},
                              field="rescreen_of")
    for record in _chain(earlier):
        subject = getattr(record, "subject", None)
        if subject is not None:
            raise ValidationError(_("rescreen_of: screening %(earlier)s is enrolled as %(subject)s; a person is "
                                    "never enrolled twice") % {"earlier": _describe(record),
                                                               "subject": subject.subject_id}, field="rescreen_of")


def _chain(record: ScreeningRecord) -> list[ScreeningRecord]:
    """``record`` and every screening linked to it by re-screening, earlier or later."""
    seen: dict[int, ScreeningRecord] = {}
    todo = [record]
    while todo:
        current = todo.pop()
        if current.pk in seen:
            continue
        seen[current.pk] = current
        if current.rescreen_of_id is not None:
            todo.append(current.rescreen_of)
        todo.extend(current.rescreenings.all())
    return list(seen.values())


def check_single_enrolment(screening: ScreeningRecord) -> None:
    """Refuse to enrol ``screening`` when the same person (duplicate rule or re-screening link) is enrolled."""
    others = {r.pk: r for r in _chain(screening)}
    ident = IdentityInput(initials=screening.initials, birth_date=screening.birth_date,
                          hospital_number=screening.hospital_number)
    others.update({r.pk: r for r, _why in _same_person(screening.study, screening.site, ident)})
    for record in others.values():
        subject = getattr(record, "subject", None)
        if record.pk != screening.pk and subject is not None:
            raise ValidationError(_("the same person was enrolled as %(subject)s from screening %(earlier)s; "
                                    "a person is never enrolled twice") % {"subject": subject.subject_id,
                                                                           "earlier": _describe(record)},
                                  field="screening")
