"""A small, safe expression language for protocol rules (eligibility, risk).

A rule is one Python-like expression over patient field names, for example::

    hb >= 100
    ecog in (0, 1)
    alt <= 1.5 * alt_uln and ast <= 1.5 * ast_uln
    stage_group(t_category, n_category, m_category) in ("III", "IVA")
    not previous_radiotherapy

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
3. Evaluate with Kleene three-valued logic: a comparison that needs a missing field is
   ``MISSING``; ``False and MISSING`` is ``False``, ``True or MISSING`` is ``True``, every other
   combination with ``MISSING`` stays ``MISSING``. So a criterion that cannot be decided is
   reported as "missing data", never as "not met".

Reference: Kleene SC, *Introduction to Metamathematics* (1952), strong three-valued logic.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from npctrial.errors import ValidationError

__all__ = ["MISSING", "RULE_FUNCTIONS", "Missing", "Rule", "parse_rule"]


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
}

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
        raise ValidationError(
            f"rule {self.text!r} does not give true/false (got {result!r})", field="rule"
        )


def parse_rule(text: str, *, known_fields: set[str] | frozenset[str] | None = None) -> Rule:
    """Parse and check a rule (steps 1-2). ``known_fields`` restricts the names it may use.

    Raises :class:`ValidationError` whose message says what is wrong, e.g.
    ``unknown field 'hb'`` or ``'x.y' (attribute access) is not allowed``.
    """
    if not isinstance(text, str) or not text.strip():
        raise ValidationError("rule must be a non-empty expression", field="rule")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ValidationError(
            f"rule {text!r} is not a valid expression: {exc.msg}", field="rule"
        ) from exc
    fields: list[str] = []
    _check(tree.body, text, fields)
    if known_fields is not None:
        unknown = [f for f in fields if f not in known_fields]
        if unknown:
            raise ValidationError(f"unknown field {unknown[0]!r}", field="rule")
    return Rule(text=text.strip(), fields=tuple(dict.fromkeys(fields)), _tree=tree)


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
        _check(node.left, text, fields)
        _check(node.right, text, fields)
    elif isinstance(node, ast.Compare):
        if any(type(op) not in _COMPARE for op in node.ops):
            raise ValidationError(
                f"{_describe(node)!r}: comparison operator not allowed", field="rule"
            )
        _check(node.left, text, fields)
        for op, comp in zip(node.ops, node.comparators, strict=True):
            if isinstance(op, ast.In | ast.NotIn):
                if not isinstance(comp, ast.Tuple | ast.List | ast.Set):
                    raise ValidationError(
                        f"{_describe(node)!r}: 'in' needs a literal list such as (0, 1)",
                        field="rule",
                    )
                for elt in comp.elts:
                    if not isinstance(elt, ast.Constant):
                        raise ValidationError(
                            f"{_describe(elt)!r}: 'in' lists may hold literals only", field="rule"
                        )
            else:
                _check(comp, text, fields)
    elif isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in RULE_FUNCTIONS:
            raise ValidationError(
                f"{_describe(node.func)!r} is not an allowed function "
                f"(allowed: {', '.join(sorted(RULE_FUNCTIONS))})",
                field="rule",
            )
        if node.keywords:
            raise ValidationError(
                f"{_describe(node)!r}: keyword arguments are not allowed", field="rule"
            )
        for arg in node.args:
            _check(arg, text, fields)
    elif isinstance(node, ast.Name):
        if node.id in ("true", "false", "True", "False"):
            return
        fields.append(node.id)
    elif isinstance(node, ast.Constant):
        if not isinstance(node.value, int | float | str | bool):
            raise ValidationError(f"{_describe(node)!r}: literal type not allowed", field="rule")
    else:
        kind = type(node).__name__
        raise ValidationError(
            f"{_describe(node)!r} ({kind}) is not allowed in a rule", field="rule"
        )


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
        try:
            return _ARITH[type(node.op)](left, right)
        except ZeroDivisionError as exc:
            raise ValidationError(
                f"rule {text!r}: division by zero ({_describe(node.right)!r} is 0)", field="rule"
            ) from exc
        except TypeError as exc:
            raise ValidationError(
                f"rule {text!r}: cannot do arithmetic with {left!r} and {right!r}", field="rule"
            ) from exc
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
                    raise ValidationError(
                        f"rule {text!r}: cannot compare {left!r} with {right!r}", field="rule"
                    ) from exc
                if not ok:
                    outcome = False
            left = right
        return outcome
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
    raise ValidationError(
        f"rule {text!r}: unsupported node {type(node).__name__}"
    )  # pragma: no cover
