from __future__ import annotations

from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "npctrial.web.core"
    label = "core"
    verbose_name = "npctrial EDC core"
    default_auto_field = "django.db.models.BigAutoField"
