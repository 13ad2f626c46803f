"""Coded values the pages show through ``{% translate value %}`` (statuses, verdicts, kinds):
marked here so that ``makemessages`` puts them in the catalogue. The values themselves stay
English in the database, the API and the exports."""

from django.utils.translation import gettext_noop

CODED_VALUES = (
    # screening outcome and criterion verdicts (npctrial.domain.eligibility)
    gettext_noop("eligible"), gettext_noop("ineligible"), gettext_noop("incomplete"),
    gettext_noop("met"), gettext_noop("not met"), gettext_noop("not_met"), gettext_noop("missing"),
    gettext_noop("inclusion"), gettext_noop("exclusion"),
    # protocol choices shown by name (npctrial.web.languages.display.choice_label)
    gettext_noop("female"), gettext_noop("male"),
    # data query status
    gettext_noop("open"), gettext_noop("answered"), gettext_noop("closed"),
    # follow-up calendar
    gettext_noop("done"), gettext_noop("overdue"), gettext_noop("due"), gettext_noop("planned"),
    # participant flow and Simon stage 1 (web.clinical.reports)
    gettext_noop("screened"), gettext_noop("enrolled"), gettext_noop("randomised"), gettext_noop("treated"),
    gettext_noop("assessed"), gettext_noop("continue to stage 2"), gettext_noop("stop for futility"),
    gettext_noop("stage 1 ongoing"),
)
