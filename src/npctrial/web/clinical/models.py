"""Clinical CRF models. Every record inherits AuditedModel (history, reason after first save, version).

Derived fields (BSA, dose, BED/EQD2, suggested grade, RECIST sums and responses, SAE deadline)
are computed by the domain layer in :mod:`npctrial.web.clinical.derive` and stored with the
record together with the rule used, so a record shows what it was derived under.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from npctrial.web.core.audit import AuditedModel
from npctrial.web.core.models import ProtocolVersion, Site, Study, Subject

# Labels in the reader's language (forms, pages); the codes are what the database and exports hold.
TECHNIQUES = [("IMRT", "IMRT"), ("VMAT", "VMAT"), ("3DCRT", "3D-CRT"), ("proton", _("Proton")),
              ("other", _("Other"))]
DRUGS = [("S-1", "S-1"), ("cisplatin", _("Cisplatin")), ("nimotuzumab", _("Nimotuzumab")), ("other", _("Other"))]
DEVIATION_REASONS = [("", "-"), ("progression", _("Disease progression")), ("grade4_toxicity", _("Grade 4 toxicity")),
                     ("refusal", _("Patient refusal")), ("other", _("Other (explain)"))]
ATTRIBUTIONS = [("unrelated", _("Unrelated")), ("unlikely", _("Unlikely")), ("possible", _("Possible")),
                ("probable", _("Probable")), ("definite", _("Definite"))]
RTOG_SCALES = [("acute", _("Acute (RTOG)")), ("late", _("Late (RTOG/EORTC)"))]
NON_TARGET = [("", _("No non-target lesions")), ("CR", _("CR")), ("NON_CR_NON_PD", _("Non-CR/Non-PD")),
              ("PD", _("PD")), ("NE", _("Not evaluated"))]
NEW_LESIONS = [("no", _("No")), ("yes", _("Yes")), ("equivocal", _("Equivocal"))]
EVENT_KINDS = [("locoregional_relapse", _("Locoregional relapse")), ("distant_metastasis", _("Distant metastasis")),
               ("second_primary", _("Second primary")), ("death", _("Death")), ("last_contact", _("Last contact")),
               ("withdrawal", _("Withdrawal from follow-up (consent withdrawn)"))]
VISIT_STATUS = [("alive_ned", _("Alive, no evidence of disease")), ("alive_disease", _("Alive with disease")),
                ("unknown", _("Status unknown"))]


class LiveRecordManager(models.Manager):
    """Records not voided ("entered in error" records stay in the database, out of every analysis)."""

    def get_queryset(self) -> models.QuerySet:
        return super().get_queryset().filter(voided_at__isnull=True)


class CrfRecord(AuditedModel):
    """Abstract CRF record of one subject, under the protocol version it was collected with."""

    subject = models.ForeignKey(Subject, on_delete=models.PROTECT, related_name="%(class)s_records")
    protocol_version = models.ForeignKey(ProtocolVersion, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    event = models.CharField(_("event"), max_length=40, blank=True, default="",
                             help_text=_("schedule event the record belongs to (empty: unscheduled)"))
    voided_at = models.DateTimeField(_("voided at"), null=True, blank=True, editable=False)
    voided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, editable=False,
                                  on_delete=models.PROTECT, related_name="+")
    void_reason = models.CharField(_("reason for voiding"), max_length=300, blank=True, editable=False)

    #: live records only: every report, analysis dataset, form export and the grid read these
    objects = LiveRecordManager()
    #: voided records too (the voided-records listing, audit history, signature hash)
    all_objects = models.Manager()

    class Meta:
        abstract = True


class Baseline(CrfRecord):
    assessment_date = models.DateField()
    height_cm = models.FloatField()
    weight_kg = models.FloatField()
    bsa_m2 = models.FloatField(null=True, editable=False)
    bsa_rule = models.CharField(max_length=300, blank=True, editable=False)
    s1_mg_per_dose = models.FloatField(null=True, editable=False)
    s1_doses_per_day = models.PositiveSmallIntegerField(null=True, editable=False)
    dose_rule = models.CharField(max_length=500, blank=True, editable=False)
    tnm_edition = models.PositiveSmallIntegerField(choices=[(7, "AJCC 7th"), (8, "AJCC 8th")], default=8)
    t_category = models.CharField(max_length=4, choices=[(x, x) for x in ("T0", "T1", "T2", "T3", "T4")])
    n_category = models.CharField(max_length=4, choices=[(x, x) for x in ("N0", "N1", "N2", "N3")])
    m_category = models.CharField(max_length=4, choices=[("M0", "M0"), ("M1", "M1")])
    stage_group = models.CharField(max_length=8, blank=True, editable=False)
    ecog = models.PositiveSmallIntegerField(null=True, blank=True)
    kps = models.PositiveSmallIntegerField(null=True, blank=True)
    ebv_dna = models.FloatField(null=True, blank=True, help_text="copies/mL (undetectable = 0)")
    wbc = models.FloatField(null=True, blank=True, help_text="10^9/L")
    anc = models.FloatField(null=True, blank=True, help_text="10^9/L")
    hb = models.FloatField(null=True, blank=True, help_text="g/L")
    platelets = models.FloatField(null=True, blank=True, help_text="10^9/L")
    alt = models.FloatField(null=True, blank=True, help_text="U/L")
    ast = models.FloatField(null=True, blank=True, help_text="U/L")
    creatinine = models.FloatField(null=True, blank=True, help_text="umol/L")
    bilirubin = models.FloatField(null=True, blank=True, help_text="umol/L")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["subject"], condition=models.Q(voided_at__isnull=True),
                                               name="clinical_one_live_baseline")]


class RadiotherapyCourse(CrfRecord):
    technique = models.CharField(max_length=10, choices=TECHNIQUES, default="IMRT")
    total_dose_gy = models.FloatField()
    fractions = models.PositiveSmallIntegerField()
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    delivered_fractions = models.PositiveSmallIntegerField(null=True, blank=True)
    bed_gy10 = models.FloatField(null=True, editable=False)
    eqd2_gy10 = models.FloatField(null=True, editable=False)
    bed_gy3 = models.FloatField(null=True, editable=False)
    eqd2_gy3 = models.FloatField(null=True, editable=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["subject"], condition=models.Q(voided_at__isnull=True),
                                               name="clinical_one_live_rt_course")]


class DrugAdministration(CrfRecord):
    drug = models.CharField(max_length=20, choices=DRUGS)
    date = models.DateField()
    planned_dose_mg = models.FloatField()
    dose_mg = models.FloatField(help_text="dose given (per administration / per S-1 dose)")
    doses_planned = models.PositiveSmallIntegerField(null=True, blank=True, help_text="S-1 diary: doses due")
    doses_taken = models.PositiveSmallIntegerField(null=True, blank=True, help_text="S-1 diary: doses taken")
    adherence_pct = models.FloatField(null=True, editable=False)
    protocol_dose_mg = models.FloatField(null=True, editable=False,
                                         help_text="the protocol's dose for the baseline BSA (band table)")
    deviation = models.BooleanField(default=False, editable=False)
    deviation_reason = models.CharField(max_length=20, choices=DEVIATION_REASONS, blank=True)
    deviation_note = models.CharField(max_length=300, blank=True)


class Interruption(CrfRecord):
    treatment = models.CharField(max_length=20, choices=[("radiotherapy", "Radiotherapy"),
                                                         ("chemotherapy", "Chemotherapy")])
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    reason = models.CharField(max_length=300)


class LabResult(CrfRecord):
    week = models.PositiveSmallIntegerField(help_text="week of radiotherapy (1-8)")
    sample_date = models.DateField()
    term = models.CharField(max_length=60, help_text="CTCAE v4.03 lab term (its analyte sets the units)")
    value = models.FloatField()
    unit = models.CharField(max_length=20, help_text="one of the analyte's units (npctrial.domain.lab_analytes)")
    lln = models.FloatField(null=True, blank=True)
    lln_unit = models.CharField(max_length=20, blank=True, help_text="unit of the LLN (required with an LLN)")
    uln = models.FloatField(null=True, blank=True)
    uln_unit = models.CharField(max_length=20, blank=True, help_text="unit of the ULN (required with a ULN)")
    baseline_value = models.FloatField(null=True, blank=True)
    baseline_unit = models.CharField(max_length=20, blank=True, help_text="unit of the baseline value")
    suggested_grade = models.PositiveSmallIntegerField(null=True, editable=False)
    grade = models.PositiveSmallIntegerField(help_text="CTCAE v4.03 grade (0-4)")
    override_reason = models.CharField(max_length=300, blank=True)


class LabReferenceRange(AuditedModel):
    """A site laboratory's reference range of one analyte (LLN and/or ULN in one unit), effective from a date.

    Versions are rows: a new range supersedes the previous one from its ``effective_from`` and the
    old ones are kept (:mod:`npctrial.web.clinical.lab_ranges`)."""

    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="lab_reference_ranges")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="lab_reference_ranges")
    analyte = models.CharField(_("analyte"), max_length=40, help_text=_("key of the lab analyte catalogue"))
    unit = models.CharField(_("unit"), max_length=20, help_text=_("unit of the LLN and the ULN"))
    lln = models.FloatField(_("LLN"), null=True, blank=True)
    uln = models.FloatField(_("ULN"), null=True, blank=True)
    effective_from = models.DateField(_("effective from"))
    note = models.CharField(_("note"), max_length=300, blank=True,
                            help_text=_("source of the range, or why a version of the same date replaces another"))
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["site", "analyte", "effective_from", "pk"]
        indexes = [models.Index(fields=["study", "site", "analyte", "effective_from"], name="clinical_labrange_lookup")]


class AdverseEvent(CrfRecord):
    week = models.PositiveSmallIntegerField(null=True, blank=True, help_text="week of radiotherapy, if during RT")
    term = models.CharField(max_length=80, help_text="CTCAE v4.03 term, or 'other' (Other, specify)")
    term_other = models.CharField(max_length=200, blank=True, help_text="verbatim term of an 'Other, specify' AE")
    soc = models.CharField(max_length=20, blank=True, help_text="system organ class (CTCAE v4.03)")
    grade = models.PositiveSmallIntegerField()
    attribution = models.CharField(max_length=10, choices=ATTRIBUTIONS)
    serious = models.BooleanField(default=False)
    start_date = models.DateField()
    stop_date = models.DateField(null=True, blank=True)
    aware_at = models.DateTimeField(null=True, blank=True, help_text="when the site learnt of a serious AE")
    sae_report_due = models.DateTimeField(null=True, editable=False)
    sae_reported_at = models.DateTimeField(null=True, blank=True)


class RtogScore(CrfRecord):
    assessment_date = models.DateField()
    scale = models.CharField(max_length=5, choices=RTOG_SCALES)
    organ = models.CharField(max_length=40)
    grade = models.PositiveSmallIntegerField()
    days_after_rt_end = models.IntegerField(null=True, editable=False)


class TumourAssessment(CrfRecord):
    assessment_date = models.DateField()
    non_target = models.CharField(max_length=16, choices=NON_TARGET, blank=True)
    new_lesions = models.CharField(max_length=10, choices=NEW_LESIONS, default="no")
    target_sum_mm = models.FloatField(null=True, editable=False)
    change_from_baseline_pct = models.FloatField(null=True, editable=False)
    change_from_nadir_pct = models.FloatField(null=True, editable=False)
    target_response = models.CharField(max_length=16, blank=True, editable=False)
    overall_response = models.CharField(max_length=16, blank=True, editable=False)
    note = models.CharField(max_length=300, blank=True, editable=False)

    class Meta:
        ordering = ["assessment_date"]


class Lesion(AuditedModel):
    assessment = models.ForeignKey(TumourAssessment, on_delete=models.CASCADE, related_name="lesions")
    lesion_id = models.CharField(max_length=20)
    location = models.CharField(max_length=80)
    target = models.BooleanField(default=True)
    nodal = models.BooleanField(default=False)
    diameter_mm = models.FloatField(null=True, blank=True, help_text="longest (short axis for nodes); blank = not assessed")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["assessment", "lesion_id"], name="clinical_lesion_once")]


class FollowUpVisit(CrfRecord):
    visit_date = models.DateField()
    status = models.CharField(max_length=16, choices=VISIT_STATUS)
    disease_assessed = models.BooleanField(default=True, help_text="adequate disease assessment done")
    notes = models.CharField(max_length=300, blank=True)


class ClinicalEvent(CrfRecord):
    kind = models.CharField(max_length=24, choices=EVENT_KINDS)
    event_date = models.DateField()
    sites = models.CharField(max_length=200, blank=True, help_text="distant metastasis sites, comma separated")
    cause = models.CharField(max_length=200, blank=True, help_text="cause of death")


class DeclaredRecord(CrfRecord):
    """One record of a protocol-declared form (YAML ``forms:``): the entered and calculated values as
    JSON, checked by :func:`npctrial.domain.declared_forms.check_form_values` before every save
    (:mod:`npctrial.web.clinical.declared`). ``record_date`` is the form's ``date_field`` value (it
    places the record in the schedule); ``protocol_version`` is the version whose form it follows."""

    form = models.CharField(_("form"), max_length=30, help_text=_("id of the protocol-declared form"))
    record_date = models.DateField(_("date"), help_text=_("the value of the form's date field"))
    values = models.JSONField(_("values"), default=dict, help_text=_("entered values by field name"))
    calculated = models.JSONField(_("calculated values"), default=dict, editable=False)

    class Meta:
        ordering = ["record_date", "pk"]
        indexes = [models.Index(fields=["subject", "form"], name="clinical_declared_form")]


SIGNATURE_MEANINGS = [("approval", _("Approval")), ("review", _("Review")), ("authorship", _("Authorship")),
                      ("responsibility", _("Responsibility"))]


class CasebookSignature(AuditedModel):
    """An investigator's e-signature of a casebook, with its manifestation (21 CFR 11.50)."""

    subject = models.ForeignKey(Subject, on_delete=models.PROTECT, related_name="signatures")
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signed_at = models.DateTimeField(auto_now_add=True)
    printed_name = models.CharField(max_length=300, blank=True, help_text="the signer's name as printed at signing")
    meaning = models.CharField(max_length=20, choices=SIGNATURE_MEANINGS, default="approval")
    statement = models.CharField(max_length=300)
    records_hash = models.CharField(max_length=64, help_text="SHA-256 over the casebook's record versions")


class DataLock(AuditedModel):
    """A freeze of one subject's casebook (subject set) or of the whole study (subject null)."""

    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="data_locks")
    subject = models.ForeignKey(Subject, null=True, blank=True, on_delete=models.PROTECT, related_name="locks")
    locked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    locked_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["study", "subject"], name="clinical_one_lock"),
                       models.UniqueConstraint(fields=["study"], condition=models.Q(subject__isnull=True),
                                               name="clinical_one_study_lock")]


MARK_KINDS = [("none", _("Nothing to report")), ("not_done", _("Not done"))]


class NothingToReport(AuditedModel):
    """A coordinator's statement that a form expected at an event has nothing to record (no AE in
    week 3) or was not done (missed visit), with the reason. Removed through the audited delete."""

    subject = models.ForeignKey(Subject, on_delete=models.PROTECT, related_name="form_marks")
    event = models.CharField(max_length=40)
    form = models.CharField(max_length=40)
    kind = models.CharField(max_length=10, choices=MARK_KINDS)
    reason = models.CharField(max_length=300)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["subject", "event", "form"], name="clinical_one_mark")]


class ImportRun(AuditedModel):
    """One data import (applied, partly applied or refused): the file's identity and every problem."""

    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="import_runs")
    kind = models.CharField(max_length=40, help_text=_("screening, a form, or odm"))
    mode = models.CharField(max_length=10)
    filename = models.CharField(max_length=200, blank=True)
    sha256 = models.CharField(max_length=64)
    rows = models.PositiveIntegerField()
    created = models.PositiveIntegerField()
    updated = models.PositiveIntegerField()
    applied = models.BooleanField()
    partial = models.BooleanField()
    import_reason = models.TextField()
    problems = models.JSONField(default=list)
    notes = models.JSONField(default=list)
    imported_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    imported_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-imported_at"]


class SourceVerification(AuditedModel):
    """A monitor's source-data verification of one CRF record at one version: the whole record
    (``field`` empty) or one critical field the protocol names (``schedule.critical_fields``)."""

    subject = models.ForeignKey(Subject, on_delete=models.PROTECT, related_name="source_verifications")
    record = models.CharField(max_length=80, help_text=_("the record, as data queries name it (baseline:12)"))
    field = models.CharField(max_length=80, blank=True, default="",
                             help_text=_("a critical field verified alone; empty: the whole record"))
    record_version = models.PositiveIntegerField(help_text=_("the record's version that was verified"))
    note = models.CharField(max_length=300, blank=True)
    verified_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    verified_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["verified_at", "pk"]
        indexes = [models.Index(fields=["subject", "record"], name="clinical_sdv_record")]

