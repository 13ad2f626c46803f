"""Interim confidentiality: who may see comparative efficacy (results by arm) while the trial runs.

Rules (FDA guidance *Establishment and Operation of Clinical Trial Data Monitoring Committees*,
2006, section 6.3 "Confidentiality of interim data and analyses"; ICH E9 section 4.5 "Interim
analysis": results by treatment group stay with those who need them, the DMC and its statistician):

1. Comparative efficacy -- PFS and OS by arm, the log-rank test between arms -- is shown to users
   holding the ``view_comparative`` capability (statistician, DMC) *and* allowed to see allocations
   by the protocol's blinding (:func:`npctrial.web.core.blinding.allocation_visible`): a blinded
   statistician sees no arm, comparative or not.
2. Everyone else -- investigators, coordinators, data managers, monitors, study admins -- sees
   efficacy pooled over the arms (one curve, no test) and the safety data (AE rates), which are
   pooled anyway. Pages, the PDF and the API follow the same rule (they share the report).
3. A single-arm study has nothing comparative: its endpoints are the same for everyone.
"""

from __future__ import annotations

from typing import Any

from npctrial.web.core import permissions
from npctrial.web.core.blinding import allocation_visible

__all__ = ["comparative_visible"]


def comparative_visible(user: Any, study: Any) -> bool:
    """Whether ``user`` may see efficacy by arm in ``study`` (rules 1-2)."""
    return permissions.can(user, study, "view_comparative") and allocation_visible(user, study)
