"""The npctrial exception and warning tree.

Every public function validates its inputs at the boundary and raises a subclass of
:class:`NpcTrialError` whose message names the argument (or row/column) and the problem.

::

    NpcTrialError
    +-- ValidationError          bad input: names the field and what was expected
    |   +-- ProtocolError        a protocol document that does not satisfy the schema
    +-- ConvergenceError         an iterative fit that could not converge
    +-- ConfigurationError       a cohort/analysis configuration that cannot be run

    StatisticalWarning (UserWarning)
    +-- ConvergenceWarning       monotone likelihood, infinite coefficient, ...
    +-- SmallSampleWarning       expected counts < 5, events-per-variable < 10, ...
    ClinicalWarning (UserWarning) plausible but unusual clinical values (BSA > 2.5 m2, ...)
    MissingGlyphWarning (UserWarning) a text that no available font can draw (figure, PDF, DOCX)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class Message(Protocol):
    """What :class:`ValidationError` accepts besides a text: a coded message
    (:class:`npctrial.messages.Message`; this module imports nothing from npctrial)."""

    @property
    def code(self) -> str: ...

    def render(self, language: str | None = "en") -> str: ...


class NpcTrialError(Exception):
    """Root of every error raised by npctrial."""


class ValidationError(NpcTrialError, ValueError):
    """Input that fails validation. ``field`` names the offending argument/column.

    ``message`` is a text or a :class:`npctrial.messages.Message` (stable code, English template,
    parameters): ``str(err)`` is the English text either way; with a Message, ``err.message``
    and ``err.code`` let the web layer show it in the reader's language and API clients match
    on the code.
    """

    def __init__(self, message: str | Message, *, field: str | None = None, row: int | None = None):
        self.field = field
        self.row = row
        self.message: Message | None = None if isinstance(message, str) else message
        super().__init__(str(message))

    @property
    def code(self) -> str | None:
        """The message's stable code (``field.below_min``...), None for a plain-text error."""
        return None if self.message is None else self.message.code


class FieldErrors(ValidationError):
    """Several fields of one submission refused at once, so a form shows every problem, not the first.

    ``problems`` holds one :class:`ValidationError` per refused field, in field order; the error
    itself reads as the first (its ``field``, ``message`` and ``code``).
    """

    def __init__(self, problems: list[ValidationError] | tuple[ValidationError, ...]):
        self.problems = tuple(problems)
        first = self.problems[0]
        super().__init__(first.message if first.message is not None else str(first), field=first.field, row=first.row)


class ProtocolError(ValidationError):
    """A protocol document that does not satisfy the protocol schema.

    ``errors`` lists the problems as English texts (one per problem, with its path in the document);
    ``problems`` the same problems as coded messages when the raiser has them (a reader's language).
    """

    def __init__(self, message: str | Message, *, field: str | None = None, errors: list[str] | None = None,
                 problems: Sequence[Message] | None = None):
        self.problems: tuple[Message, ...] = tuple(problems or ())
        self.errors = list(errors or [str(p) for p in self.problems] or [str(message)])
        super().__init__(message, field=field)


class ConvergenceError(NpcTrialError, ArithmeticError):
    """An iterative algorithm (Cox, Fine-Gray, ...) failed to converge."""


class ConfigurationError(ValidationError):
    """An analysis configuration that cannot be run."""


class StatisticalWarning(UserWarning):
    """A statistical caveat: the result is computed but should be read with care."""


class ConvergenceWarning(StatisticalWarning):
    """Monotone likelihood, an infinite coefficient or a fit that stopped at max_iter."""


class SmallSampleWarning(StatisticalWarning):
    """Expected counts below 5, fewer than 10 events per variable, and similar."""


class ClinicalWarning(UserWarning):
    """A clinically plausible but unusual value (e.g. BSA > 2.5 m2, value on a band boundary)."""


class MissingGlyphWarning(UserWarning):
    """A text (label, title, table cell) with characters that no available font can draw.

    The message names the text and the characters; the output is still written, with those
    characters as empty boxes, so the warning is the only signal: reports list it."""


__all__ = [
    "ClinicalWarning",
    "ConfigurationError",
    "ConvergenceError",
    "ConvergenceWarning",
    "FieldErrors",
    "MissingGlyphWarning",
    "NpcTrialError",
    "ProtocolError",
    "SmallSampleWarning",
    "StatisticalWarning",
    "ValidationError",
]
