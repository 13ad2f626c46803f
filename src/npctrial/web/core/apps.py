from __future__ import annotations

from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "npctrial.web.core"
    label = "core"
    verbose_name = "npctrial EDC core"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Connect the audit receivers: the hash chain over every audit row, and login events."""
        from django.contrib.auth import signals as auth_signals
        from django.db.models.signals import post_save
        from simple_history.signals import post_create_historical_record

        from npctrial.web.core import audit_chain, login_events
        from npctrial.web.core.models_audit import AuditEvent

        post_create_historical_record.connect(audit_chain.on_historical_record, dispatch_uid="npctrial-chain-history")
        post_save.connect(audit_chain.on_audit_event, sender=AuditEvent, dispatch_uid="npctrial-chain-event")
        auth_signals.user_logged_in.connect(login_events.on_login, dispatch_uid="npctrial-login")
        auth_signals.user_logged_out.connect(login_events.on_logout, dispatch_uid="npctrial-logout")
        auth_signals.user_login_failed.connect(login_events.on_login_failed, dispatch_uid="npctrial-login-failed")
        from axes.signals import user_locked_out

        user_locked_out.connect(login_events.on_locked_out, dispatch_uid="npctrial-login-locked")
