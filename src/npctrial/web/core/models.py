"""EDC core models. Every record of trial data inherits AuditedModel (history + reason + version)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import models
from django.db.models.signals import pre_save
from django.dispatch import receiver
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history import register as register_history

from npctrial.web.core.audit import AuditedModel
from npctrial.web.core.roles import ROLE_CHOICES

# labels with a context where the word alone is ambiguous ("Production", "Proposed", "Incomplete")
STUDY_STATUS = [("development", pgettext_lazy("study status", "Development / UAT")),
                ("production", pgettext_lazy("study status", "Production"))]


class Study(AuditedModel):
    code = models.SlugField(max_length=40, unique=True)
    title = models.CharField(max_length=300)
    target_enrolment = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=12, choices=STUDY_STATUS, default="production",
                              help_text="development/UAT: test records that can be wiped; production: live")
    production_since = models.DateTimeField(null=True, blank=True)

    @property
    def in_development(self) -> bool:
        return self.status == "development"

    class Meta:
        verbose_name_plural = "studies"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code

    @property
    def current_protocol(self) -> ProtocolVersion | None:
        """The latest approved protocol version (proposed amendments are not in force)."""
        return self.protocol_versions.filter(status="approved").order_by("-number").first()


AMENDMENT_STATUS = [("proposed", pgettext_lazy("amendment status", "Proposed")),
                    ("approved", pgettext_lazy("amendment status", "Approved")),
                    ("rejected", pgettext_lazy("amendment status", "Rejected"))]


class ProtocolVersion(AuditedModel):
    """A protocol document; an amendment is a new ProtocolVersion of the same study.

    An amendment is proposed (``status="proposed"``), then approved by a second person before it
    is in force, or rejected (see :mod:`npctrial.web.core.amendments`).
    """

    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="protocol_versions")
    number = models.PositiveIntegerField()
    label = models.CharField(max_length=40, help_text="the protocol's own version string")
    protocol_id = models.CharField(max_length=80)
    yaml_text = models.TextField()
    parsed = models.JSONField(help_text="the validated protocol as JSON")
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=AMENDMENT_STATUS, default="approved")
    reason = models.TextField(blank=True, help_text="why the protocol is amended")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+", help_text="who approved or rejected the amendment")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)
    sequence_restart = models.PositiveIntegerField(
        null=True, blank=True, help_text="allocation number from which a new randomisation sequence starts")
    sequence_reason = models.TextField(blank=True, help_text="the audited decision to start a new sequence")

    class Meta:
        unique_together = [("study", "number")]
        ordering = ["study", "number"]

    def __str__(self) -> str:
        return f"{self.protocol_id} v{self.label} (#{self.number})"


class Site(AuditedModel):
    code = models.CharField(max_length=12, unique=True, help_text="used in subject IDs, e.g. GZ")
    name = models.CharField(max_length=200)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class StudySite(AuditedModel):
    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="study_sites")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="study_sites")
    active = models.BooleanField(default=True)

    class Meta:
        unique_together = [("study", "site")]

    def __str__(self) -> str:
        return f"{self.study}@{self.site}"


class Membership(AuditedModel):
    """A user's role in a study, at one site (site-level roles) or at every site (site=None)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="memberships")
    site = models.ForeignKey(Site, null=True, blank=True, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=ROLE_CHOICES)
    active = models.BooleanField(default=True, help_text="ended memberships are kept (never deleted)")

    class Meta:
        unique_together = [("user", "study", "site", "role")]

    def __str__(self) -> str:
        return f"{self.user} {self.role} {self.study}@{self.site or 'all sites'}"


OUTCOME_CHOICES = [("eligible", pgettext_lazy("screening outcome", "Eligible")),
                   ("ineligible", pgettext_lazy("screening outcome", "Ineligible")),
                   ("incomplete", pgettext_lazy("screening outcome", "Incomplete"))]


class ScreeningRecord(AuditedModel):
    """Screening values and the per-criterion verdicts under one protocol version."""

    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="screenings")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="screenings")
    protocol_version = models.ForeignKey(ProtocolVersion, on_delete=models.PROTECT, related_name="+")
    number = models.PositiveIntegerField(help_text="screening number within the site")
    values = models.JSONField(default=dict)
    verdicts = models.JSONField(default=list, help_text="[{id, kind, verdict, text, rule, values}]")
    failed_criteria = models.JSONField(default=list)
    outcome = models.CharField(max_length=12, choices=OUTCOME_CHOICES)
    screened_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    screening_date = models.DateField(help_text="the date the patient was screened, as entered")
    screened_at = models.DateTimeField(auto_now_add=True, help_text="when the screening was recorded")
    # identity as the screening log keeps it (npctrial.domain.screening_identity); personal data:
    # never in a de-identified export. Empty/null for screenings recorded before these fields existed.
    initials = models.CharField(max_length=4, blank=True, default="",
                                help_text="2-4 Latin letters, upper-case (pinyin initials)")
    birth_date = models.DateField(null=True, blank=True)
    hospital_number = models.CharField(max_length=40, blank=True, default="",
                                       help_text="the site's medical record number (site-level identifier)")
    rescreen_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="rescreenings",
                                    help_text="the earlier screening of the same person")
    rescreen_reason = models.TextField(blank=True, default="")

    class Meta:
        unique_together = [("study", "site", "number")]
        ordering = ["-screened_at"]

    def __str__(self) -> str:
        return f"S-{self.site.code}-{self.number:04d}"


class Consent(AuditedModel):
    screening = models.OneToOneField(ScreeningRecord, on_delete=models.PROTECT, related_name="consent")
    consent_date = models.DateField()
    consent_version = models.CharField(max_length=40, help_text="version of the consent form signed")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")

    def __str__(self) -> str:
        return f"consent {self.consent_version} {self.consent_date}"


class Subject(AuditedModel):
    """An enrolled participant. Other apps (CRFs) hang their records on Subject."""

    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="subjects")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="subjects")
    screening = models.OneToOneField(ScreeningRecord, on_delete=models.PROTECT, related_name="subject")
    protocol_version = models.ForeignKey(ProtocolVersion, on_delete=models.PROTECT, related_name="+")
    subject_id = models.CharField(max_length=40)
    seq = models.PositiveIntegerField(help_text="sequence number within study and site")
    high_risk = models.BooleanField(null=True, help_text="derived by the protocol's risk rule, if any")
    high_risk_reason = models.CharField(max_length=300, blank=True)
    enrolment_date = models.DateField(
        help_text="the date the subject was enrolled, as entered (origin of enrolment-based endpoints)")
    enrolled_at = models.DateTimeField(auto_now_add=True, help_text="when the enrolment was recorded")
    enrolled_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    id_shared_before_unique = models.BooleanField(
        default=False, help_text="the ID was also used in another study before IDs were unique across studies "
                                 "(kept as stored; every later ID is unique)")

    class Meta:
        unique_together = [("study", "subject_id"), ("study", "site", "seq")]
        constraints = [models.UniqueConstraint(fields=["subject_id"], condition=models.Q(id_shared_before_unique=False),
                                               name="subject_id_unique_across_studies")]
        ordering = ["study", "site", "seq"]

    def __str__(self) -> str:
        return self.subject_id


class AllocationSequence(AuditedModel):
    """The concealed, server-side randomisation state of a study (seed never leaves the server)."""

    study = models.OneToOneField(Study, on_delete=models.PROTECT, related_name="allocation_sequence")
    method = models.CharField(max_length=20)
    config = models.JSONField(help_text="arms, ratio, factors, block sizes ...")
    seed = models.BigIntegerField()
    count = models.PositiveIntegerField(default=0)
    state_hash = models.CharField(max_length=64, help_text="hash chain over every allocation so far")

    def __str__(self) -> str:
        return f"allocation sequence of {self.study}"


class AllocationSegment(AuditedModel):
    """One run of a study's allocation sequence: method, settings and seed from ``start_number`` on.

    Segment 1 starts with the study. An amendment that changes randomisation after the first
    allocation starts a new segment (an explicit, audited decision): allocation numbers continue,
    the new segment's allocations depend only on each other, and the hash chain links the change.
    An allocation belongs to the last segment whose ``start_number`` is not above its number.
    """

    sequence = models.ForeignKey(AllocationSequence, on_delete=models.PROTECT, related_name="segments")
    number = models.PositiveIntegerField()
    start_number = models.PositiveIntegerField(help_text="the first allocation number of this segment")
    method = models.CharField(max_length=20)
    config = models.JSONField()
    seed = models.BigIntegerField()
    protocol_version = models.ForeignKey(ProtocolVersion, null=True, blank=True, on_delete=models.PROTECT,
                                         related_name="+")
    reason = models.TextField(blank=True)
    hash_before = models.CharField(max_length=64, blank=True)
    hash_after = models.CharField(max_length=64)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        unique_together = [("sequence", "number")]
        ordering = ["sequence", "number"]

    def __str__(self) -> str:
        return f"sequence segment {self.number} (from #{self.start_number})"


class Randomisation(AuditedModel):
    subject = models.OneToOneField(Subject, on_delete=models.PROTECT, related_name="randomisation")
    sequence = models.ForeignKey(AllocationSequence, on_delete=models.PROTECT, related_name="allocations")
    number = models.PositiveIntegerField(help_text="position in the study's allocation sequence")
    arm = models.CharField(max_length=80)
    strata = models.JSONField(default=dict)
    details = models.JSONField(default=dict, help_text="imbalance scores, block position, random draw")
    hash_before = models.CharField(max_length=64)
    hash_after = models.CharField(max_length=64)
    allocated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    randomisation_date = models.DateField(
        help_text="the date of randomisation, as entered (origin of randomisation-based endpoints)")
    allocated_at = models.DateTimeField(auto_now_add=True, help_text="when the allocation was made")

    class Meta:
        unique_together = [("sequence", "number")]
        ordering = ["sequence", "number"]

    def __str__(self) -> str:
        return f"randomisation #{self.number}"


CORRECTION_KINDS = [("wrong_stratum", _("Randomised in the wrong stratum")),
                    ("randomised_in_error", _("Randomised in error")), ("other", _("Other mis-randomisation"))]


class RandomisationCorrection(AuditedModel):
    """A recorded mis-randomisation: the allocation stays in the sequence, the error is documented."""

    randomisation = models.ForeignKey(Randomisation, on_delete=models.PROTECT, related_name="corrections")
    kind = models.CharField(max_length=24, choices=CORRECTION_KINDS)
    correct_strata = models.JSONField(default=dict, blank=True,
                                      help_text="the stratum the subject belonged to (wrong_stratum)")
    reason = models.TextField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["recorded_at"]

    def __str__(self) -> str:
        return f"{self.kind} on randomisation #{self.randomisation.number}"


class UnblindingEvent(AuditedModel):
    """A study admin viewed the concealed allocation list (reason recorded)."""

    sequence = models.ForeignKey(AllocationSequence, on_delete=models.PROTECT, related_name="unblindings")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField()
    at = models.DateTimeField(auto_now_add=True)


#: The query lifecycle: open -> answered -> closed; an answered or closed query can be re-opened
#: (with a reason) and is answered again (:mod:`npctrial.web.core.queries`).
QUERY_STATUS = [("open", _("open")), ("answered", _("answered")), ("closed", _("closed")),
                ("reopened", _("re-opened"))]


class DataQuery(AuditedModel):
    """A data manager's question on one field of one record of a subject."""

    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="queries")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="queries")
    subject = models.ForeignKey(Subject, on_delete=models.PROTECT, related_name="queries")
    record = models.CharField(max_length=80, default="screening", help_text="form/record name, e.g. screening")
    field_name = models.CharField(max_length=80)
    edit_check = models.CharField(max_length=40, blank=True,
                                  help_text="the edit check that raised the query automatically (empty: raised by a person)")
    text = models.TextField()
    status = models.CharField(max_length=10, choices=QUERY_STATUS, default="open")
    answer = models.TextField(blank=True)
    raised_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    raised_at = models.DateTimeField(auto_now_add=True)
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="assigned_queries", verbose_name=_("assignee"),
                                 help_text=_("who at the site should answer (empty: the site's team)"))
    due_date = models.DateField(null=True, blank=True, verbose_name=_("due date"))

    class Meta:
        verbose_name_plural = "data queries"
        ordering = ["-raised_at"]

    def __str__(self) -> str:
        return f"#{self.pk} on {self.field_name} of {self.record}"

    @property
    def shown_text(self) -> str:
        """The question in the reader's language (:func:`npctrial.web.core.queries.query_text`)."""
        from django.utils.translation import get_language

        from npctrial.web.core.queries import query_text

        return query_text(self, get_language())


#: user accounts are audited too (created, deactivated, reactivated, password reset): names stay in
#: the trail because accounts are never deleted. The password hash is never copied into history.
register_history(get_user_model(), app="npctrial.web.core", excluded_fields=["password", "last_login"])


@receiver(pre_save, sender=get_user_model())
def _no_history_for_logins(sender: Any, instance: Any, update_fields: Any = None, **kwargs: Any) -> None:
    """A login only stamps ``last_login`` (not kept in history): no empty history row for it."""
    if update_fields is not None and set(update_fields) <= {"last_login"}:
        instance.skip_history_when_saving = True  # simple-history skips on the attribute's presence
    elif hasattr(instance, "skip_history_when_saving"):
        del instance.skip_history_when_saving


# Audit events and the hash-chain seals (defined apart to keep this module about trial data).
from npctrial.web.core.models_attachments import Attachment  # noqa: E402,F401
from npctrial.web.core.models_audit import AuditEvent, AuditSeal  # noqa: E402,F401
from npctrial.web.core.models_restore import LostAllocation  # noqa: E402,F401
