from __future__ import annotations

from django.apps import AppConfig


class ClinicalConfig(AppConfig):
    name = "npctrial.web.clinical"
    label = "clinical"
    verbose_name = "npctrial EDC clinical workflow"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Register capabilities, nav links and the audit-history provider with the core app."""
        from npctrial.web.clinical import hooks

        hooks.install()
