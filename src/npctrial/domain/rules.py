"""A small, safe expression language for protocol rules (eligibility, risk).

A rule is one Python-like expression over patient field names, for example::

    hb >= 100
    ecog in (0, 1)
    alt <= 1.5 * alt_uln and ast <= 1.5 * ast_uln
    stage_group(t_category, n_category, m_category) in ("III", "IVA")
    not previous_radiotherapy
    kind == "death" and event_date < last_alive_date        (edit checks, dates)
    grade == 5 and missing(death_date)

Nothing is ever passed to :func:`eval`. The text is parsed with :mod:`ast` and every node is
checked against a whitelist (step 2 below); evaluation walks the checked tree itself.

Algorithm
1. Parse the text with ``ast.parse(mode="eval")``; a syntax error becomes a
   :class:`~npctrial.errors.ValidationError` naming the rule.
2. Walk the tree: allowed are boolean ``and``/``or``/``not``; comparisons ``< <= > >= == !=``
   (chained, e.g. ``18 <= age <= 70``), ``in``/``not in`` against a literal tuple/list;
   ``+ - * /`` and unary minus; names; number/string/bool literals; calls of the whitelisted
   functions in :data:`RULE_FUNCTIONS` with positional arguments. Anything else (attribute
   access, subscripts, lambdas, comprehensions, keyword arguments, ...) is rejected.
   Resource limits, checked before anything is evaluated (a protocol is data typed by people:
   ``'a' * 100000000000 == 'b'`` must be refused when the protocol is loaded, not exhaust the
   memory of every later eligibility call): at most :data:`MAX_RULE_LENGTH` characters,
   :data:`MAX_DEPTH` levels of nesting and :data:`MAX_NODES` nodes; text literals of at most
   :data:`MAX_TEXT_LITERAL` characters and numbers of at most :data:`MAX_NUMBER` in size;
   ``in`` lists of at most :data:`MAX_IN_LIST` items; arithmetic on numbers only (a text literal in
   ``+ - * /`` is refused when parsed, a text field value when evaluated).
3. Evaluate with Kleene three-valued logic: a comparison that needs a missing field is
   ``MISSING``; ``False and MISSING`` is ``False``, ``True or MISSING`` is ``True``, every other
   combination with ``MISSING`` stays ``MISSING``. So a criterion that cannot be decided is
   reported as "missing data", never as "not met". ``missing(x)`` and ``present(x)`` are the
   only calls that look at missingness itself (they are True/False, never MISSING).

Dates compare as dates (``start_date < consent_date``); ``days_between(a, b)`` is ``(b - a)`` in
days and ``week_of(start, day)`` the 1-based week of ``day`` counted from ``start``;
``round(x, d)`` rounds a number to ``d`` (0-6) decimals. :meth:`Rule.compute` gives the value of
an expression that is not a truth value (calculated fields of protocol-declared forms).

Reference: Kleene SC, *Introduction to Metamathematics* (1952), strong three-valued logic.
"""

from __future__ import annotations

import ast
import datetime as dt
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from npctrial.errors import ValidationError
from npctrial.messages import message

__all__ = [
    "MAX_DEPTH",
    "MAX_IN_LIST",
    "MAX_NODES",
    "MAX_NUMBER",
    "MAX_RULE_LENGTH",
    "MAX_TEXT_LITERAL",
    "MISSING",
    "RULE_FUNCTIONS",
    "Missing",
    "Rule",
    "parse_rule",
]

#: Resource limits of a rule (step 2): generous for any eligibility criterion, small enough that
#: parsing, checking and evaluating a rule always take microseconds and kilobytes.
MAX_RULE_LENGTH = 2000
MAX_DEPTH = 30
MAX_NODES = 400
MAX_TEXT_LITERAL = 200
MAX_NUMBER = 1e12
MAX_IN_LIST = 100


class Missing:
    """The third truth value: the rule needs a field that the patient record does not have."""

    _instance: Missing | None = None

    def __new__(cls) -> Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:  # pragma: no cover - guards against accidental truth tests
        raise TypeError("MISSING has no truth value; use three-valued helpers")


MISSING = Missing()


def _as_date(value: Any, what: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    raise ValidationError(message("rule.needs_dates", "%(function)s needs dates, got %(value)s", function=what,
                                  value=repr(value)), field="rule")


def _round(value: Any, digits: Any = 0) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError(message("rule.round_needs_number", "round needs a number, got %(value)s",
                                      value=repr(value)), field="rule")
    if isinstance(digits, bool) or not isinstance(digits, int) or not 0 <= digits <= 6:
        raise ValidationError(message("rule.round_digits", "round takes 0 to 6 decimals, got %(value)s",
                                      value=repr(digits)), field="rule")
    return float(round(value, digits))


def _days_between(start: Any, end: Any) -> int:
    return (_as_date(end, "days_between") - _as_date(start, "days_between")).days


def _week_of(start: Any, day: Any) -> int:
    return _days_between(start, day) // 7 + 1


def _stage_group(t: Any, n: Any, m: Any, edition: Any = 8) -> Any:
    # Imported lazily: staging is a sibling module and rules must load without it.
    from npctrial.domain.staging import stage_group

    return stage_group(str(t), str(n), str(m), edition=int(edition))


#: Functions a rule may call. Arguments are evaluated first; a missing argument makes the
#: call MISSING without calling the function.
RULE_FUNCTIONS: Mapping[str, Callable[..., Any]] = {
    "stage_group": _stage_group,
    "abs": abs,
    "min": min,
    "max": max,
    "days_between": _days_between,
    "week_of": _week_of,
    "round": _round,
}

#: Calls that test missingness: their single argument must be a field name; never MISSING.
_PRESENCE_FUNCTIONS = frozenset({"missing", "present"})

_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], bool]] = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
}
_ARITH: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}


@dataclass(frozen=True)
class Rule:
    """A checked rule expression. ``fields`` lists the patient fields it reads, in order."""

    text: str
    fields: tuple[str, ...]
    _tree: ast.Expression

    def evaluate(self, values: Mapping[str, Any]) -> bool | Missing:
        """Evaluate on ``values`` (field -> value; absent or None means missing)."""
        result = _eval(self._tree.body, values, self.text)
        if result is MISSING or isinstance(result, bool):
            return result
        raise ValidationError(message("rule.not_boolean", "rule %(rule)s does not give true/false (got %(value)s)",
                                      rule=repr(self.text), value=repr(result)), field="rule")

    def compute(self, values: Mapping[str, Any]) -> Any:
        """The expression's value on ``values`` (a number, date, text or truth value), or MISSING.

        Used for calculated form fields; the expression is the same checked language.
        """
        return _eval(self._tree.body, values, self.text)


def parse_rule(text: str, *, known_fields: set[str] | frozenset[str] | None = None) -> Rule:
    """Parse and check a rule (steps 1-2). ``known_fields`` restricts the names it may use.

    Raises :class:`ValidationError` whose message says what is wrong, e.g.
    ``unknown field 'hb'`` or ``'x.y' (attribute access) is not allowed``.
    """
    if not isinstance(text, str) or not text.strip():
        raise ValidationError(message("rule.empty", "rule must be a non-empty expression"), field="rule")
    if len(text) > MAX_RULE_LENGTH:
        raise ValidationError(message("rule.too_long", "rule is %(length)s characters long (at most %(limit)s)",
                                      length=len(text), limit=MAX_RULE_LENGTH), field="rule")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ValidationError(message("rule.syntax", "rule %(rule)s is not a valid expression: %(reason)s",
                                      rule=repr(text), reason=exc.msg), field="rule") from exc
    except (RecursionError, MemoryError) as exc:  # nesting beyond the parser's own limits
        raise _too_deep() from exc
    _check_size(tree)
    fields: list[str] = []
    _check(tree.body, text, fields)
    if known_fields is not None:
        unknown = [f for f in fields if f not in known_fields]
        if unknown:
            raise ValidationError(message("rule.unknown_field", "unknown field %(name)s", name=repr(unknown[0])),
                                  field="rule")
    return Rule(text=text.strip(), fields=tuple(dict.fromkeys(fields)), _tree=tree)


def _too_deep() -> ValidationError:
    return ValidationError(message("rule.too_deep", "rule is nested too deeply (at most %(limit)s levels)",
                                   limit=MAX_DEPTH), field="rule")


def _check_size(tree: ast.AST) -> None:
    """The resource limits on the tree: nesting depth and number of nodes (iterative walk)."""
    count = 0
    stack: list[tuple[ast.AST, int]] = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        count += 1
        if count > MAX_NODES:
            raise ValidationError(message("rule.too_many_parts", "rule has more than %(limit)s parts",
                                          limit=MAX_NODES), field="rule")
        if depth > MAX_DEPTH:
            raise _too_deep()
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))


def _check_constant(node: ast.Constant) -> None:
    value = node.value
    if isinstance(value, str) and len(value) > MAX_TEXT_LITERAL:
        raise ValidationError(message("rule.text_too_long", "text literal of %(length)s characters (at most %(limit)s)",
                                      length=len(value), limit=MAX_TEXT_LITERAL), field="rule")
    if isinstance(value, int | float) and not isinstance(value, bool) and abs(value) > MAX_NUMBER:
        raise ValidationError(message("rule.number_too_large", "number %(number)s is too large (at most %(limit)s)",
                                      number=f"{value:.6g}", limit=f"{MAX_NUMBER:.0e}"), field="rule")


def _describe(node: ast.AST) -> str:
    try:
        return ast.unparse(node)
    except Exception:  # pragma: no cover
        return type(node).__name__


def _check(node: ast.AST, text: str, fields: list[str]) -> None:
    if isinstance(node, ast.BoolOp):
        for v in node.values:
            _check(v, text, fields)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not | ast.USub | ast.UAdd):
        _check(node.operand, text, fields)
    elif isinstance(node, ast.BinOp) and type(node.op) in _ARITH:
        for side in (node.left, node.right):
            if isinstance(side, ast.Constant) and isinstance(side.value, str):
                raise ValidationError(message("rule.arithmetic_on_text", "%(expression)s: arithmetic is on numbers "
                                              "only (text literal)", expression=repr(_describe(node))), field="rule")
        _check(node.left, text, fields)
        _check(node.right, text, fields)
    elif isinstance(node, ast.Compare):
        if any(type(op) not in _COMPARE for op in node.ops):
            raise ValidationError(message("rule.comparison_not_allowed", "%(expression)s: comparison operator not "
                                          "allowed", expression=repr(_describe(node))), field="rule")
        _check(node.left, text, fields)
        for op, comp in zip(node.ops, node.comparators, strict=True):
            if isinstance(op, ast.In | ast.NotIn):
                if not isinstance(comp, ast.Tuple | ast.List | ast.Set):
                    raise ValidationError(message("rule.in_needs_list", "%(expression)s: 'in' needs a literal list "
                                                  "such as (0, 1)", expression=repr(_describe(node))), field="rule")
                if len(comp.elts) > MAX_IN_LIST:
                    raise ValidationError(message("rule.in_list_too_long", "'in' list of %(count)s items (at most "
                                                  "%(limit)s)", count=len(comp.elts), limit=MAX_IN_LIST), field="rule")
                for elt in comp.elts:
                    if not isinstance(elt, ast.Constant):
                        raise ValidationError(message("rule.in_list_literals", "%(expression)s: 'in' lists may hold "
                                                      "literals only", expression=repr(_describe(elt))), field="rule")
                    _check_constant(elt)
            else:
                _check(comp, text, fields)
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _PRESENCE_FUNCTIONS:
        if node.keywords or len(node.args) != 1 or not isinstance(node.args[0], ast.Name):
            raise ValidationError(message("rule.presence_one_field", "%(expression)s: %(function)s() takes one field "
                                          "name", expression=repr(_describe(node)), function=node.func.id), field="rule")
        _check(node.args[0], text, fields)
    elif isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in RULE_FUNCTIONS:
            raise ValidationError(message("rule.function_not_allowed", "%(expression)s is not an allowed function "
                                          "(allowed: %(allowed)s)", expression=repr(_describe(node.func)),
                                          allowed=tuple(sorted({*RULE_FUNCTIONS, *_PRESENCE_FUNCTIONS}))), field="rule")
        if node.keywords:
            raise ValidationError(message("rule.keyword_arguments", "%(expression)s: keyword arguments are not "
                                          "allowed", expression=repr(_describe(node))), field="rule")
        for arg in node.args:
            _check(arg, text, fields)
    elif isinstance(node, ast.Name):
        if node.id in ("true", "false", "True", "False"):
            return
        fields.append(node.id)
    elif isinstance(node, ast.Constant):
        if not isinstance(node.value, int | float | str | bool):
            raise ValidationError(message("rule.literal_type", "%(expression)s: literal type not allowed",
                                          expression=repr(_describe(node))), field="rule")
        _check_constant(node)
    else:
        kind = type(node).__name__
        raise ValidationError(message("rule.not_allowed", "%(expression)s (%(kind)s) is not allowed in a rule",
                                      expression=repr(_describe(node)), kind=kind), field="rule")


def _eval(node: ast.AST, values: Mapping[str, Any], text: str) -> Any:
    if isinstance(node, ast.BoolOp):
        results = [_eval(v, values, text) for v in node.values]
        if isinstance(node.op, ast.And):
            if any(r is False for r in results):
                return False
            return MISSING if any(r is MISSING for r in results) else all(results)
        if any(r is True for r in results):
            return True
        return MISSING if any(r is MISSING for r in results) else any(results)
    if isinstance(node, ast.UnaryOp):
        v = _eval(node.operand, values, text)
        if v is MISSING:
            return MISSING
        if isinstance(node.op, ast.Not):
            return not v
        return -v if isinstance(node.op, ast.USub) else +v
    if isinstance(node, ast.BinOp):
        left, right = _eval(node.left, values, text), _eval(node.right, values, text)
        if left is MISSING or right is MISSING:
            return MISSING
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (left, right)):
            raise ValidationError(message(  # never 'text' * n: arithmetic on numbers only
                "rule.arithmetic_not_numbers", "rule %(rule)s: cannot do arithmetic with %(left)s and %(right)s "
                "(arithmetic is on numbers only)", rule=repr(text), left=repr(left), right=repr(right)), field="rule")
        try:
            return _ARITH[type(node.op)](left, right)
        except ZeroDivisionError as exc:
            raise ValidationError(message("rule.division_by_zero", "rule %(rule)s: division by zero (%(expression)s "
                                          "is 0)", rule=repr(text), expression=repr(_describe(node.right))),
                                  field="rule") from exc
        except TypeError as exc:
            raise ValidationError(message("rule.arithmetic_failed", "rule %(rule)s: cannot do arithmetic with "
                                          "%(left)s and %(right)s", rule=repr(text), left=repr(left),
                                          right=repr(right)), field="rule") from exc
    if isinstance(node, ast.Compare):
        left = _eval(node.left, values, text)
        outcome: bool | Missing = True
        for op, comp in zip(node.ops, node.comparators, strict=True):
            right = (
                tuple(e.value for e in comp.elts)  # type: ignore[attr-defined]
                if isinstance(op, ast.In | ast.NotIn)
                else _eval(comp, values, text)
            )
            if left is MISSING or right is MISSING:
                outcome = MISSING if outcome is not False else False
            else:
                try:
                    ok = _COMPARE[type(op)](left, right)
                except TypeError as exc:
                    raise ValidationError(message("rule.cannot_compare", "rule %(rule)s: cannot compare %(left)s with "
                                                  "%(right)s", rule=repr(text), left=repr(left), right=repr(right)),
                                          field="rule") from exc
                if not ok:
                    outcome = False
            left = right
        return outcome
    if isinstance(node, ast.Call) and node.func.id in _PRESENCE_FUNCTIONS:  # type: ignore[attr-defined]
        value = values.get(node.args[0].id)  # type: ignore[attr-defined]
        return (value is None) == (node.func.id == "missing")  # type: ignore[attr-defined]
    if isinstance(node, ast.Call):
        args = [_eval(a, values, text) for a in node.args]
        if any(a is MISSING for a in args):
            return MISSING
        return RULE_FUNCTIONS[node.func.id](*args)  # type: ignore[attr-defined]
    if isinstance(node, ast.Name):
        if node.id in ("true", "True"):
            return True
        if node.id in ("false", "False"):
            return False
        value = values.get(node.id)
        return MISSING if value is None else value
    if isinstance(node, ast.Constant):
        return node.value
    raise ValidationError(message("rule.unsupported_node", "rule %(rule)s: unsupported node %(kind)s",
                                  rule=repr(text), kind=type(node).__name__))  # pragma: no cover
