"""Forms of the study administration pages (sites, members, accounts)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from npctrial.web.core.roles import ROLE_TABLE


def _role_choices(superuser: bool) -> list[tuple[str, Any]]:
    return [(r.name, r.label) for r in ROLE_TABLE if superuser or r.name != "study_admin"]


class SiteForm(forms.Form):
    code = forms.CharField(max_length=12, label=_("Site code"), help_text=_("capital letters or digits, used in "
                                                                             "subject IDs (e.g. GZ)"))
    name = forms.CharField(max_length=200, required=False, label=_("Site name"),
                           help_text=_("needed for a new site; leave empty to add an existing site"))


class ReasonedActionForm(forms.Form):
    reason = forms.CharField(max_length=500, label=_("Reason"))


class _RoleSiteForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"))
    site = forms.ChoiceField(label=_("Site"), required=False)

    def __init__(self, *args: Any, superuser: bool, sites: list[str], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = _role_choices(superuser)  # type: ignore[attr-defined]
        self.fields["site"].choices = [("", _("all sites"))] + [(c, c) for c in sites]  # type: ignore[attr-defined]


class MembershipForm(_RoleSiteForm):
    username = forms.CharField(max_length=150, label=_("Existing user"))

    field_order = ["username", "role", "site"]


class AccountForm(_RoleSiteForm):
    username = forms.CharField(max_length=150, label=_("Username"))
    first_name = forms.CharField(max_length=150, required=False, label=_("First name"))
    last_name = forms.CharField(max_length=150, required=False, label=_("Last name"))
    email = forms.CharField(max_length=254, required=False, label=_("E-mail"))
    password = forms.CharField(required=False, strip=False, widget=forms.PasswordInput(render_value=False),
                               label=_("Initial password"),
                               help_text=_("leave empty to get an invitation link the user opens to choose one"))

    field_order = ["username", "first_name", "last_name", "email", "role", "site", "password"]
