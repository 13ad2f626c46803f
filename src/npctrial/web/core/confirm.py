"""Confirmation pages before irreversible actions (randomise, lock, sign, void): no inline script.

A route that performs such an action answers a GET, or a POST without ``confirm=yes``, with a
page saying what will happen and a form that posts the same fields back with ``confirm=yes``.
Only that second POST acts, so neither a stray click nor a bare POST randomises or locks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.functional import Promise


@dataclass(frozen=True)
class ConfirmInput:
    """A field the user fills on the confirmation page (a reason, the signer's password)."""

    name: str
    label: str | Promise
    type: str = "text"
    autocomplete: str = "off"


@dataclass(frozen=True)
class Confirmation:
    title: str | Promise
    consequences: list[str]  # what will happen, one sentence each
    action: str  # URL the confirmed form posts to
    button: str | Promise
    cancel_url: str
    hidden: dict[str, Any] = field(default_factory=dict)
    inputs: tuple[ConfirmInput, ...] = ()
    problems: list[str] = field(default_factory=list)  # why the action cannot be done now (button hidden)


def confirmed(request: HttpRequest) -> bool:
    return request.method == "POST" and request.POST.get("confirm") == "yes"


def render_confirmation(request: HttpRequest, study: Any, confirmation: Confirmation) -> HttpResponse:
    values = {i.name: request.POST.get(i.name, "") for i in confirmation.inputs if i.type != "password"}
    return render(request, "core/confirm.html", {"study": study, "c": confirmation, "values": values})
