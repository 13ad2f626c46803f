"""Allocations lost by a restore: issued after the backup, kept so that their numbers are never reissued."""

from __future__ import annotations

from django.db import models

from npctrial.web.core.audit import AuditedModel


class LostAllocation(AuditedModel):
    """An allocation that was handed out after the backup a restore went back to.

    The patient was told an allocation number (and, unless blinded, an arm) that the restored
    database no longer holds. The allocation is kept here, in the sequence: its number is never
    handed out again, it counts in the balance of later allocations (minimisation history, block
    positions) and the hash chain runs through it (:func:`npctrial.web.core.allocation.verify_sequence`).
    """

    sequence = models.ForeignKey("core.AllocationSequence", on_delete=models.PROTECT, related_name="lost_allocations")
    number = models.PositiveIntegerField()
    subject_label = models.CharField(max_length=40, help_text="the subject ID the allocation was issued to")
    site_code = models.CharField(max_length=12, blank=True)
    arm = models.CharField(max_length=80)
    strata = models.JSONField(default=dict)
    details = models.JSONField(default=dict)
    hash_before = models.CharField(max_length=64)
    hash_after = models.CharField(max_length=64)
    randomisation_date = models.DateField(null=True, blank=True)
    allocated_at = models.DateTimeField()
    allocated_by = models.CharField(max_length=150, blank=True)
    restore_file = models.CharField(max_length=500)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["sequence", "number"], name="core_lost_allocation_once")]
        ordering = ["sequence", "number"]

    def __str__(self) -> str:
        return f"lost allocation #{self.number} ({self.subject_label})"
