"""Every refusal and warning of the domain layer is a coded message (npctrial.messages).

The guard parses src/npctrial/domain/*.py: a ``raise`` or a ``warnings.warn`` given a plain text
(a literal, an f-string, a concatenation, ``"; ".join(...)``, ``str(...)``, or a variable built
from one) fails, and so does a plain text added to a protocol's problem list (``problems.append``,
the lists the ``*_problems`` functions return or yield), so a new refusal cannot land in English only. The catalogue side (every
``message(code, template)`` translated, nothing fuzzy) is checked by
tests/web/test_catalogue_current.py; here: literal codes and templates, one template per code,
placeholders matching the parameters, and the Chinese rendering of some refusals.
"""

from __future__ import annotations

import ast
import datetime as dt
import re
import warnings
from collections.abc import Callable, Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError as PydanticValidationError

from npctrial.domain import dosing, protocol, recist, rtog, rules, staging
from npctrial.errors import ClinicalWarning, ProtocolError, ValidationError
from npctrial.messages import Message

DOMAIN = Path(__file__).resolve().parents[2] / "src" / "npctrial" / "domain"

#: (file, function, exception) that keep a plain text, and why: programming errors no user sees.
PLAIN_ON_PURPOSE = {
    ("rules.py", "__bool__", "TypeError"):
        "MISSING used as a truth value is a bug in the evaluator, never a user's input",
    ("access.py", "compute_date_shift", "ValueError"):
        "max_days comes from the validated access block (max_shift_days >= 1); a wrong call is a bug",
}


def _sources() -> list[Path]:
    return sorted(DOMAIN.glob("*.py"))


def _name(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _is_message_call(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and _name(node.func) == "message"


def _is_text(node: ast.AST | None, scope: ast.AST | None = None) -> bool:
    """Whether ``node`` builds a plain text (a variable: from any assignment in ``scope``)."""
    if node is None:
        return False
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Mod):
        return _is_text(node.left, scope) or _is_text(node.right, scope)
    if isinstance(node, ast.IfExp):
        return _is_text(node.body, scope) or _is_text(node.orelse, scope)
    if isinstance(node, ast.Call):
        return (_name(node.func) in ("str", "repr", "format")
                or (isinstance(node.func, ast.Attribute) and node.func.attr in ("join", "format", "format_map")))
    if isinstance(node, ast.Name) and scope is not None:
        return any(_is_text(value, scope) for value in _assigned(scope, node.id))
    return False


def _assigned(scope: ast.AST, name: str) -> Iterator[ast.expr]:
    for node in ast.walk(scope):
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            yield node.value
        elif isinstance(node, ast.AugAssign | ast.AnnAssign) and isinstance(node.target, ast.Name) \
                and node.target.id == name and node.value is not None:
            yield node.value


def _functions(tree: ast.Module) -> Iterator[tuple[ast.FunctionDef | ast.AsyncFunctionDef, list[ast.AST]]]:
    """Every function with the nodes of its own body (nested functions are visited on their own)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            own: list[ast.AST] = []
            stack: list[ast.AST] = list(node.body)
            while stack:
                child = stack.pop()
                own.append(child)
                if not isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                    stack.extend(ast.iter_child_nodes(child))
            yield node, own


def _is_exception_class(name: str) -> bool:
    return name[:1].isupper()


def _coded_helper(tree: ast.Module, name: str) -> bool:
    """A function of the module that returns an exception built from a ``message(...)`` call."""
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == name:
            returns = [n.value for n in ast.walk(node) if isinstance(n, ast.Return)]
            return bool(returns) and all(
                isinstance(r, ast.Call) and _is_exception_class(_name(r.func)) and r.args
                and _is_message_call(r.args[0]) for r in returns)
    return False


def _plain_texts(path: Path) -> list[tuple[str, str, str, int]]:
    """(file, function, callee, line) of each raise or warning given a plain text."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for func, body in _functions(tree):
        for node in body:
            call: ast.Call | None = None
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
                call = node.exc
            elif isinstance(node, ast.Call) and _name(node.func) == "warn":
                first = node.args[0] if node.args else None
                if _is_text(first, func):
                    found.append((path.name, func.name, "warn", node.lineno))
                    continue
                call = first if isinstance(first, ast.Call) else None
            if call is None:
                continue
            callee = _name(call.func)
            if _is_exception_class(callee):
                if call.args and _is_text(call.args[0], func):
                    found.append((path.name, func.name, callee, call.lineno))
            elif not _coded_helper(tree, callee):  # e.g. raise _error(code, template, ...): its own message()
                found.append((path.name, func.name, callee, call.lineno))
    for func, body in _functions(tree):
        for node in body:
            texts: list[ast.expr] = []
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and node.func.attr in ("append", "extend") and _name(node.func.value) == "problems":
                texts = list(node.args)
            elif isinstance(node, ast.AugAssign) and _name(node.target) == "problems":
                texts = [node.value]
            elif isinstance(node, ast.Return | ast.Yield) and "problems" in func.name and node.value is not None:
                texts = [node.value]
            for value in texts:
                items = value.elts if isinstance(value, ast.List | ast.Tuple) else (
                    [value.elt] if isinstance(value, ast.ListComp | ast.GeneratorExp) else [value])
                if any(_is_text(item, func) for item in items):
                    found.append((path.name, func.name, "problems", getattr(node, "lineno", 0)))
    return found


def test_every_refusal_and_warning_of_the_domain_is_a_coded_message() -> None:
    found = [hit for path in _sources() for hit in _plain_texts(path)]
    plain = [hit for hit in found if hit[:3] not in PLAIN_ON_PURPOSE]
    assert plain == [], "use message(code, English template, **params) (npctrial.messages) for:\n" + "\n".join(
        f"  {file}:{line} {function}(): {callee}" for file, function, callee, line in plain)
    assert {hit[:3] for hit in found} == set(PLAIN_ON_PURPOSE), "an allowed plain text is gone: drop it from the list"


def test_the_guard_sees_plain_texts(tmp_path: Path) -> None:
    source = tmp_path / "sample.py"
    source.write_text(
        "import warnings\n"
        "def a(x):\n    raise ValidationError(f'x is {x!r}', field='x')\n"
        "def b(x):\n    text = 'x is ' + repr(x)\n    raise ValidationError(text)\n"
        "def c():\n    warnings.warn('careful', ClinicalWarning, stacklevel=2)\n"
        "def d():\n    warnings.warn(ClinicalWarning('; '.join(['a', 'b'])))\n"
        "def e(x):\n    raise ValidationError(message('x.bad', 'x is %(x)s', x=repr(x)), field='x')\n"
        "def f():\n    warnings.warn(ClinicalWarning(message('x.odd', 'odd')), stacklevel=2)\n"
        "def _error(code, template):\n    return ValidationError(message(code, template))\n"
        "def g():\n    raise _error('x.code', 'template')\n"
        "def h():\n    raise _plain()\n"
        "def _plain():\n    return ValidationError('plain')\n"
        "def i_problems(data):\n    problems = []\n    problems.append(f'x: {data!r} is odd')\n"
        "    problems.append(message('x.odd', '%(path)s: odd', path='x'))\n    return [f'y: {data}' for _ in data]\n",
        encoding="utf-8")
    assert sorted((fn, callee) for _file, fn, callee, _line in _plain_texts(source)) == [
        ("a", "ValidationError"), ("b", "ValidationError"), ("c", "warn"), ("d", "ClinicalWarning"), ("h", "_plain"),
        ("i_problems", "problems"), ("i_problems", "problems")]


def _message_calls() -> Iterator[tuple[str, ast.Call]]:
    """Every call the catalogue extracts (``make messages``: ``-kmessage:1c,2 -k_error:1c,2``)."""
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and _name(node.func) in ("message", "_error"):
                yield f"{path.name}:{node.lineno}", node


def _literal(node: ast.expr) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def test_codes_and_templates_are_literal_and_a_code_has_one_template() -> None:
    templates: dict[str, set[str]] = {}
    for where, call in _message_calls():
        if len(call.args) < 2 or _literal(call.args[0]) is None or _literal(call.args[1]) is None:
            if _name(call.func) == "message" and all(isinstance(a, ast.Name) for a in call.args[:2]):
                continue  # the body of a helper such as _error(code, template, ...): its callers are checked
            pytest.fail(f"{where}: the code and the English template must be literal strings (make messages)")
        code, template = _literal(call.args[0]), _literal(call.args[1])
        assert code is not None and template is not None
        assert re.fullmatch(r"[a-z][a-z0-9_]*(\.[a-z0-9_]+)+", code), f"{where}: code {code!r} is not dotted"
        templates.setdefault(code, set()).add(template)
        if _name(call.func) == "message" and not any(k.arg is None for k in call.keywords):
            placeholders = set(re.findall(r"%\((\w+)\)s", template))
            given = {k.arg for k in call.keywords}
            assert placeholders == given, f"{where}: {code} has placeholders {placeholders}, parameters {given}"
            assert "%" not in re.sub(r"%\(\w+\)s", "", template), f"{where}: a bare % in {code}"
    assert {c: t for c, t in templates.items() if len(t) > 1} == {}
    assert len(templates) > 250


def _refusal(call: Callable[[], Any]) -> ValidationError:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ClinicalWarning)
        with pytest.raises(ValidationError) as info:
            call()
    return info.value


REFUSALS: list[tuple[str, Callable[[], Any], str, str, str]] = [
    ("staging unknown prefix", lambda: staging.normalize_category("zzT1", "T"), "staging.unknown_prefix",
     "t has an unknown prefix 'zz' in 'zzT1'", "t 的前缀 'zz' 无法识别（'zzT1'）"),
    ("staging N3a in the 8th edition", lambda: staging.normalize_category("N3a", "N", 8),
     "staging.not_in_edition_single_n3",
     "n 'N3a' is not a category of the AJCC/UICC 8th edition for nasopharynx; expected one of "
     "['N0', 'N1', 'N2', 'N3', 'NX'] (the 8th edition has a single N3)",
     "n 'N3a' 不是 AJCC/UICC 第 8 版鼻咽癌分期中的类别；应为以下之一：'N0'、'N1'、'N2'、'N3'、'NX'（第 8 版 N3 不再细分）"),
    ("staging TNM text", lambda: staging.parse_tnm("T3 N2"), "staging.tnm_format",
     "tnm must look like 'cT3N2M0' (T: X/0/is/1-4, N: X/0-3, M: 0/1), got 'T3 N2'",
     "TNM 分期格式须如 'cT3N2M0'（T：X/0/is/1-4，N：X/0-3，M：0/1），实际为 'T3 N2'"),
    ("staging node size in mm",
     lambda: staging.derive_n_category(staging.NodalFindings(cervical="unilateral", greatest_dimension_cm=35)),
     "staging.node_size_not_cm", "greatest_dimension_cm must be in cm (<= 20), got 35; millimetres by mistake?",
     "淋巴结最大径（greatest_dimension_cm）须以 cm 为单位（<= 20），实际为 35；是否误填为毫米？"),
    ("dose height in metres", lambda: dosing.body_surface_area(1.7, 70), "dose.height_in_metres",
     "height_cm must be in centimetres, got 1.7 (metres by mistake? 1.7 m = 170 cm)",
     "身高（height_cm）须以厘米为单位，实际为 1.7（是否误填为米？1.7 m = 170 cm）"),
    ("dose height out of range", lambda: dosing.body_surface_area(300, 70), "dose.height_out_of_range",
     "height_cm must be between 30 and 272 cm, got 300", "身高（height_cm）须在 30 至 272 cm 之间，实际为 300"),
    ("dose weight out of range", lambda: dosing.body_surface_area(170, 500), "weight.out_of_range",
     "weight_kg must be between 1 and 400 kg, got 500", "weight_kg 须在 1 至 400 kg 之间，实际为 500"),
    ("dose band overlap", lambda: dosing.BandTable("t", "S-1", (dosing.DoseBand(None, True, 1.25, True, 40),
                                                               dosing.DoseBand(1.25, True, None, False, 50))),
     "dose.bands_both_include", "bands of 't': bands 0 and 1 both include the boundary 1.25",
     "剂量分档表 't'：第 0 档与第 1 档均包含边界值 1.25"),
    ("rtog onset before RT", lambda: rtog.classify_onset("2024-01-05", "2024-01-10", "2024-02-20"),
     "rtog.onset_before_rt", "onset (2024-01-05) is before the start of radiotherapy (2024-01-10)",
     "发生日期（2024-01-05）早于放疗开始（2024-01-10）"),
    ("rtog unknown scale", lambda: rtog.rtog_organs("early"), "rtog.unknown_scale",
     "scale must be 'acute' or 'late', got 'early'",
     "RTOG 量表（scale）须为 'acute'（急性）或 'late'（晚期），实际为 'early'"),
    ("recist nadir above baseline",
     lambda: recist.target_response([recist.TargetMeasurement("a", False, 5)], baseline_sum_mm=10, nadir_sum_mm=20),
     "recist.nadir_above_baseline", "nadir_sum_mm (20) cannot exceed baseline_sum_mm (10)",
     "最小径总和 nadir_sum_mm（20）不能超过基线径总和 baseline_sum_mm（10）"),
    ("recist unknown category", lambda: recist.timepoint_response("XX", None, False), "recist.unknown_category",
     "target must be one of CR, PR, SD, PD, NE or None, got 'XX'",
     "target 须为 CR、PR、SD、PD、NE 之一或 None，实际为 'XX'"),
    ("recist two timepoints a day", lambda: recist.best_overall_response([(42, "PR"), (42, "SD")]),
     "recist.timepoints_same_day", "two timepoints on the same day", "两个评估时间点在同一天"),
    ("rule unknown field", lambda: rules.parse_rule("hb >= 100", known_fields={"age"}), "rule.unknown_field",
     "unknown field 'hb'", "未知字段 'hb'"),
    ("rule nested too deeply", lambda: rules.parse_rule("not " * 40 + "x"), "rule.too_deep",
     "rule is nested too deeply (at most 30 levels)", "规则嵌套层数过多（最多 30 层）"),
    ("rule not allowed", lambda: rules.parse_rule("age.real > 1"), "rule.not_allowed",
     "'age.real' (Attribute) is not allowed in a rule", "规则中不允许使用 'age.real'（Attribute）"),
    ("protocol field", lambda: protocol.load_protocol("imrt-s1").field("weight"), "protocol.no_field",
     "protocol 'imrt-s1' has no field 'weight'", "研究方案 'imrt-s1' 没有字段 'weight'"),
    ("protocol unknown", lambda: protocol.load_protocol("imrt-s9"), "protocol.unknown",
     "unknown protocol 'imrt-s9' (available: ccrt-nimotuzumab, imrt-s1)",
     "未知研究方案 'imrt-s9'（可用：ccrt-nimotuzumab、imrt-s1）"),
]


@pytest.mark.parametrize(("call", "code", "english", "chinese"), [r[1:] for r in REFUSALS], ids=[r[0] for r in REFUSALS])
def test_refusals_read_in_english_as_before_and_in_chinese(call: Callable[[], Any], code: str, english: str,
                                                           chinese: str) -> None:
    err = _refusal(call)
    assert err.code == code and err.message is not None
    assert str(err) == english == err.message.render("en")
    assert err.message.render("zh-hans") == chinese


def test_a_protocol_error_is_coded_and_keeps_its_english_problem_list() -> None:
    with pytest.raises(ProtocolError) as info:
        protocol.parse_protocol(["not", "a", "mapping"])
    err = info.value
    assert err.code == "protocol.not_a_mapping" and err.errors == ["protocol: a protocol must be a mapping, got list"]
    assert err.message is not None and err.message.render("zh") == "protocol：研究方案须为映射，实际为 list"


def load_bundled_text(name: str) -> str:
    return resources.files("npctrial.domain").joinpath("protocols", f"{name}.yaml").read_text(encoding="utf-8")


def _protocol_problems(change: dict[str, Any]) -> ProtocolError:
    data = yaml.safe_load(load_bundled_text("imrt-s1"))
    data.update(change)
    with pytest.raises(ProtocolError) as info:
        protocol.parse_protocol(data, origin="imrt-s1")
    return info.value


def test_the_problems_of_a_protocol_document_are_coded_and_read_in_chinese() -> None:
    data = yaml.safe_load(load_bundled_text("imrt-s1"))
    criteria = [dict(c) for c in data["criteria"]]
    criteria[1]["id"] = criteria[0]["id"]
    criteria[2]["rule"] = "ki67 > 40"
    err = _protocol_problems({"criteria": criteria, "subject_id_pattern": "IMRT-{site}"})
    first, second = criteria[0]["id"], 2
    assert [p.code for p in err.problems] == ["protocol.duplicate_criterion", "document.problem_at",
                                              "protocol.subject_id_needs_seq"]
    assert err.errors == [str(p) for p in err.problems] == [
        f"criteria[1].id: duplicate criterion id {first!r}", f"criteria[{second}].rule: unknown field 'ki67'",
        "subject_id_pattern: needs {seq} (IDs within a site are numbered)"]
    assert str(err) == "imrt-s1: 3 problem(s): " + "; ".join(err.errors)
    assert [p.render("zh") for p in err.problems] == [
        f"criteria[1].id：入选/排除标准 id {first!r} 重复", f"criteria[{second}].rule：未知字段 'ki67'",
        "subject_id_pattern：须包含 {seq}（同一研究中心内的受试者按序编号）"]
    assert err.message is not None and err.message.render("zh") == "imrt-s1：3 个问题：" + "；".join(
        p.render("zh") for p in err.problems)


def test_a_schema_refusal_of_a_protocol_reads_in_chinese() -> None:
    data = yaml.safe_load(load_bundled_text("imrt-s1"))
    endpoints = [dict(e) for e in data["endpoints"]]
    endpoints[0] = {**endpoints[0], "kind": "time_to_event", "events": []}
    err = _protocol_problems({"endpoints": endpoints})
    (problem,) = err.problems
    assert str(problem) == "endpoints[0]: Value error, a time_to_event endpoint needs 'events'"
    assert problem.render("zh") == "endpoints[0]：time_to_event（事件时间）终点须填写 'events'（事件）"


def test_a_schema_refusal_keeps_its_message_inside_the_pydantic_error() -> None:
    with pytest.raises(PydanticValidationError) as info:
        protocol.EndpointSpec.model_validate({"name": "OS", "label": "Overall survival", "kind": "time_to_event"})
    (error,) = info.value.errors()
    assert error["msg"] == "Value error, a time_to_event endpoint needs 'events'"
    coded = error["ctx"]["error"].args[0]
    assert isinstance(coded, Message) and coded.code == "protocol.endpoint_needs_events"
    assert coded.render("zh") == "time_to_event（事件时间）终点须填写 'events'（事件）"


WARNINGS: list[tuple[str, Callable[[], Any], str, str]] = [
    ("staging parotid in the 7th edition",
     lambda: staging.derive_t_category(staging.PrimaryFindings(parotid=True), edition=7),
     "staging.parotid_not_t4_in_7th", "腮腺受侵不是第 7 版 T4 标准；T 分期按其他所见推导"),
    ("staging T0 without EBV status",
     lambda: staging.derive_t_category(staging.PrimaryFindings(primary_detected=False), edition=8),
     "staging.t0_ebv_unknown", "第 8 版 T0 要求淋巴结 EBV 阳性；未记录 EBV 状态"),
    ("usual range of a protocol field", lambda: protocol.load_protocol("imrt-s1").field("hb").coerce(240),
     "field.outside_usual_range", "血红蛋白 240 g/L 超出常见范围 60-200 g/L：请核对数值及其单位"),
]


@pytest.mark.parametrize(("call", "code", "chinese"), [w[1:] for w in WARNINGS], ids=[w[0] for w in WARNINGS])
def test_clinical_warnings_are_coded(call: Callable[[], Any], code: str, chinese: str) -> None:
    with pytest.warns(ClinicalWarning) as caught:
        call()
    coded = caught[0].message.args[0]  # type: ignore[union-attr]
    assert isinstance(coded, Message) and coded.code == code
    assert str(caught[0].message) == coded.render("en") and coded.render("zh") == chinese


def test_a_date_refusal_names_the_field_in_chinese() -> None:
    from npctrial.domain.screening_identity import compute_age

    err = _refusal(lambda: compute_age(dt.date(2020, 5, 1), dt.date(2019, 5, 1)))
    assert err.code == "age.birth_date_later" and str(err) == "age on 2019-05-01: birth date 2020-05-01 is later"
