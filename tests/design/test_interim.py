"""Simon two-stage interim decisions (Simon, Control Clin Trials 1989): stop after stage 1 if
responses <= r1 among the first n1; promising if responses > r among n. Cases from the rule with
every boundary; the 2/10, 5/29 design below is illustrative (any r1 < n1 < n, r1 <= r < n)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from npctrial.design import simon_interim_decision, simon_two_stage
from npctrial.errors import ValidationError


@dataclass(frozen=True)
class Design:
    n1: int = 10
    r1: int = 2
    n: int = 29
    r: int = 5


Y, N = True, False


@pytest.mark.parametrize(("outcomes", "status", "needed"), [
    ([], "stage 1 ongoing", 10),
    ([N] * 9, "stage 1 ongoing", 1),
    ([N] * 10, "stop for futility", 0),
    ([Y, Y] + [N] * 8, "stop for futility", 0),          # r1 = 2 responses: still futile
    ([Y, Y, Y], "continue to stage 2", 7),               # the 3rd response decides before n1
    ([Y, Y, Y] + [N] * 7, "continue to stage 2", 0),
    ([Y, Y, Y] + [N] * 8, "stage 2 ongoing", 0),
    ([Y] * 5 + [N] * 24, "not promising", 0),            # 5 = r: not more than r
    ([Y] * 6 + [N] * 23, "promising", 0),
    ([Y] * 6 + [N] * 30, "promising", 0),                # patients beyond n are not counted
])
def test_decisions_at_every_boundary(outcomes, status, needed):
    out = simon_interim_decision(Design(), outcomes)
    assert out.status == status
    assert out.needed_stage1 == needed
    assert out.responses_stage1 == sum(outcomes[:10]) and out.evaluated == min(len(outcomes), 29)


def test_futility_uses_only_the_first_n1_patients():
    # responses among patients 11+ do not rescue a futile stage 1
    assert simon_interim_decision(Design(), [N] * 10 + [Y] * 5).status == "stop for futility"


def test_works_with_a_computed_design():
    d = simon_two_stage(0.2, 0.4, design="optimal")
    out = simon_interim_decision(d, [False] * d.n1)
    assert out.status == "stop for futility" and (out.n1, out.r1) == (d.n1, d.r1)
    assert d.r1 + 1 <= d.n1 and "stop" in out.summary()


@pytest.mark.parametrize("bad", [Design(n1=0), Design(r1=10), Design(n=10), Design(r=1), Design(n1=True)])
def test_not_a_design_is_refused(bad):
    with pytest.raises(ValidationError):
        simon_interim_decision(bad, [])
