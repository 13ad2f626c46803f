"""Protocol-declared forms: the YAML model checked at load (errors name the path) and a submission
checked field by field (types, ranges, required only when shown, hidden empty, calculated values).

Expected values are computed by hand from the declared expressions, not taken from the code."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest
import yaml

from npctrial.domain import load_protocol
from npctrial.domain.declared_forms import DeclaredForm, check_form_values, preview_form
from npctrial.domain.localised_text import localise
from npctrial.domain.protocol import parse_protocol
from npctrial.domain.protocol_diff import compare_protocols
from npctrial.domain.rules import MISSING, parse_rule
from npctrial.domain.schedule import STANDARD_FORMS
from npctrial.errors import ProtocolError, ValidationError

BASE = {"baseline_weight_kg": 60.0, "baseline_height_cm": 170.0}


@pytest.fixture(scope="module")
def nutrition() -> DeclaredForm:
    return load_protocol("imrt-s1").form("nutrition")


@pytest.fixture(scope="module")
def ebv() -> DeclaredForm:
    return load_protocol("ccrt-nimotuzumab").form("ebv_dna")


def _entry(**over: Any) -> dict[str, Any]:
    values = {"assessment_date": "2026-01-12", "weight_kg": "57", "oral_intake": "reduced",
              "supplements": "no", "feeding_tube": "no"}
    values.update(over)
    return {k: v for k, v in values.items() if v is not ...}


def _field_error(form: DeclaredForm, values: dict[str, Any], context: Any = None) -> str:
    with pytest.raises(ValidationError) as info:
        check_form_values(form, values, BASE if context is None else context)
    return str(info.value.field)


# --------------------------------------------------------------------------- the shipped forms


def test_each_seed_protocol_ships_a_form_with_chinese_labels() -> None:
    imrt, ccrt = load_protocol("imrt-s1"), load_protocol("ccrt-nimotuzumab")
    assert [f.id for f in imrt.forms] == ["nutrition"] and [f.id for f in ccrt.forms] == ["ebv_dna"]
    for form in (*imrt.forms, *ccrt.forms):
        assert localise(form.label, "zh") != form.label
        for spec in form.fields:
            assert localise(spec.label, "zh") != spec.label, spec.name
            for code in spec.choices or ():
                assert localise(spec.choice_label(code), "zh") != spec.choice_label(code), code
    tube = imrt.form("nutrition").field("tube_type")
    assert localise(tube.choice_label("nasogastric"), "zh") == "鼻胃管"


def test_a_declared_form_survives_a_dump_and_reload() -> None:
    protocol = load_protocol("imrt-s1")
    again = parse_protocol(yaml.safe_load(protocol.model_dump_json()))
    tube = again.form("nutrition").field("tube_type")
    assert again.form("nutrition") == protocol.form("nutrition")
    assert localise(tube.choice_label("peg"), "zh") == "经皮内镜下胃造瘘（PEG）"
    assert again.form("nutrition").field("weight_kg").type == "number"


def test_an_unknown_form_is_an_error_naming_the_field() -> None:
    with pytest.raises(ValidationError) as info:
        load_protocol("imrt-s1").form("qol")
    assert info.value.field == "form"


# --------------------------------------------------------------------------- a submission


def test_a_complete_entry_gives_typed_values_and_the_calculations(nutrition: DeclaredForm) -> None:
    result = check_form_values(nutrition, _entry(weight_kg="54", oral_intake="Reduced"), BASE)
    assert result.values["assessment_date"] == dt.date(2026, 1, 12)
    assert result.values["weight_kg"] == 54.0 and result.values["oral_intake"] == "reduced"
    assert result.values["supplements"] is False and result.values["feeding_tube"] is False
    # (54 - 60) / 60 * 100 = -10.0 %; 54 / 1.70^2 = 18.685 -> 18.7 kg/m2
    assert result.calculated == {"weight_change_pct": -10.0, "weight_loss_5pct": True, "bmi": 18.7}
    assert set(result.hidden) == {"tube_type", "tube_date"}
    assert result.values["tube_type"] is None and result.values["notes"] is None
    values, calculated = result.as_json()
    assert values["assessment_date"] == "2026-01-12" and calculated["bmi"] == 18.7


@pytest.mark.parametrize(("weight", "change", "loss"), [
    ("57", -5.0, True),     # exactly 5 % below the baseline of 60 kg
    ("57.06", -4.9, False),  # (57.06 - 60) / 60 = -4.9 %
    ("66", 10.0, False),
])
def test_the_weight_loss_flag_at_its_5_percent_boundary(nutrition: DeclaredForm, weight: str, change: float,
                                                         loss: bool) -> None:
    result = check_form_values(nutrition, _entry(weight_kg=weight), BASE)
    assert (result.calculated["weight_change_pct"], result.calculated["weight_loss_5pct"]) == (change, loss)


def test_calculations_without_a_baseline_stay_empty(nutrition: DeclaredForm) -> None:
    result = check_form_values(nutrition, _entry(), {})
    assert result.calculated == {"weight_change_pct": None, "weight_loss_5pct": None, "bmi": None}
    only_height = check_form_values(nutrition, _entry(weight_kg="72.25"), {"baseline_height_cm": 170})
    assert only_height.calculated["bmi"] == 25.0 and only_height.calculated["weight_change_pct"] is None


def test_a_calculation_that_cannot_be_done_names_its_field(nutrition: DeclaredForm) -> None:
    assert _field_error(nutrition, _entry(), {"baseline_weight_kg": 0}) == "weight_change_pct"


@pytest.mark.parametrize(("weight", "ok"), [("25", True), ("24.99", False), ("250", True), ("250.01", False),
                                            ("abc", False), ("nan", False)])
def test_number_limits_are_inclusive(nutrition: DeclaredForm, weight: str, ok: bool) -> None:
    if ok:
        assert check_form_values(nutrition, _entry(weight_kg=weight), BASE).values["weight_kg"] == float(weight)
    else:
        assert _field_error(nutrition, _entry(weight_kg=weight)) == "weight_kg"


def test_outside_the_usual_range_is_kept_with_a_warning(nutrition: DeclaredForm) -> None:
    result = check_form_values(nutrition, _entry(weight_kg="30"), BASE)
    assert result.values["weight_kg"] == 30.0 and len(result.warnings) == 1 and "usual range" in result.warnings[0]


@pytest.mark.parametrize("name", ["assessment_date", "weight_kg", "oral_intake", "supplements", "feeding_tube"])
@pytest.mark.parametrize("empty", [None, "", "   "])
def test_every_required_field_that_is_shown_must_be_filled(nutrition: DeclaredForm, name: str, empty: Any) -> None:
    assert _field_error(nutrition, _entry(**{name: empty})) == name


def test_a_field_shown_by_its_condition_is_required_then(nutrition: DeclaredForm) -> None:
    assert _field_error(nutrition, _entry(feeding_tube="yes")) == "tube_type"
    result = check_form_values(nutrition, _entry(feeding_tube="yes", tube_type="PEG"), BASE)
    assert result.values["tube_type"] == "peg" and result.values["tube_date"] is None
    assert "tube_type" not in result.hidden


def test_every_refused_field_is_reported_at_once_in_field_order(nutrition: DeclaredForm) -> None:
    from npctrial.errors import FieldErrors

    with pytest.raises(FieldErrors) as info:  # weight below 25 kg, tube shown and required, notes with NUL
        check_form_values(nutrition, _entry(weight_kg="20", feeding_tube="yes", notes="a\x00b"), BASE)
    fields = [p.field for p in info.value.problems]
    assert fields == ["weight_kg", "tube_type", "notes"]
    assert info.value.field == "weight_kg"
    # the refused weight reads as missing: its calculations stay empty, not an extra error
    assert "weight_change_pct" not in fields and "bmi" not in fields


@pytest.mark.parametrize("hidden", [{"tube_type": "peg"}, {"tube_date": "2026-01-10"}])
def test_a_hidden_field_must_be_empty(nutrition: DeclaredForm, hidden: dict[str, str]) -> None:
    (name,) = hidden
    assert _field_error(nutrition, _entry(feeding_tube="no", **hidden)) == name
    assert check_form_values(nutrition, _entry(feeding_tube="no", **{name: ""}), BASE).values[name] is None


def test_an_undecided_condition_hides_the_field() -> None:
    """An optional answer left empty: the question it opens is not asked (and must stay empty)."""
    form = DeclaredForm.model_validate({**FORM, "fields": [
        *FORM["fields"], {"name": "smoker", "label": "Smoker", "type": "boolean"},
        {"name": "packs", "label": "Packs a day", "type": "number", "required": True, "show_if": "smoker"}]})
    result = check_form_values(form, {"qol_date": "2026-02-01"})
    assert result.hidden == ("packs",) and result.values["packs"] is None
    assert _field_error(form, {"qol_date": "2026-02-01", "packs": "1"}, {}) == "packs"
    assert _field_error(form, {"qol_date": "2026-02-01", "smoker": "yes"}, {}) == "packs"


def test_choices_and_booleans_are_read_as_the_catalogue_reads_them(nutrition: DeclaredForm) -> None:
    assert _field_error(nutrition, _entry(oral_intake="less")) == "oral_intake"
    assert _field_error(nutrition, _entry(supplements="maybe")) == "supplements"
    assert check_form_values(nutrition, _entry(supplements=True), BASE).values["supplements"] is True
    assert _field_error(nutrition, _entry(assessment_date="12/01/2026")) == "assessment_date"


@pytest.mark.parametrize(("notes", "ok"), [("x" * 300, True), ("x" * 301, False), ("a\x00b", False), (12, False)])
def test_text_length_limit_and_no_nul(nutrition: DeclaredForm, notes: Any, ok: bool) -> None:
    if ok:
        assert check_form_values(nutrition, _entry(notes=notes), BASE).values["notes"] == notes
    else:
        assert _field_error(nutrition, _entry(notes=notes)) == "notes"


def test_unknown_and_calculated_fields_cannot_be_submitted(nutrition: DeclaredForm) -> None:
    assert _field_error(nutrition, _entry(height_cm="170")) == "height_cm"
    assert _field_error(nutrition, _entry(bmi="22")) == "bmi"
    assert check_form_values(nutrition, _entry(bmi=""), BASE).calculated["bmi"] == 19.7  # 57 / 1.7^2 = 19.72
    with pytest.raises(ValidationError) as info:
        check_form_values(nutrition, ["weight_kg"], BASE)  # type: ignore[arg-type]
    assert info.value.field == "values"


@pytest.mark.parametrize(("rt_end", "days"), [("2026-03-01", 14), ("2026-03-15", 0), ("2026-03-20", -5), (None, None)])
def test_ebv_dna_days_after_the_end_of_radiotherapy(ebv: DeclaredForm, rt_end: str | None, days: int | None) -> None:
    context = {"rt_end": dt.date.fromisoformat(rt_end)} if rt_end else {}
    result = check_form_values(ebv, {"sample_date": "2026-03-15", "detectable": "yes", "copies_per_ml": "1",
                                     "assay_date": "2026-03-16", "lab": " Central lab "}, context)
    assert result.calculated["days_after_rt_end"] == days
    assert result.values["copies_per_ml"] == 1.0 and result.values["lab"] == "Central lab"


def test_ebv_dna_load_starts_at_one_copy_when_detectable(ebv: DeclaredForm) -> None:
    entry = {"sample_date": "2026-03-15", "detectable": "yes", "assay_date": "2026-03-16", "lab": "L"}
    assert _field_error(ebv, {**entry, "copies_per_ml": "0.5"}) == "copies_per_ml"
    undetected = check_form_values(ebv, {**entry, "detectable": "no"}, {})
    assert undetected.values["copies_per_ml"] is None and undetected.hidden == ("copies_per_ml",)


# --------------------------------------------------------------------------- load-time checks


def _protocol_with(form: dict[str, Any]) -> dict[str, Any]:
    data = yaml.safe_load(load_protocol("imrt-s1").model_dump_json())
    data["forms"] = [form]
    for event in data["schedule"]["events"]:  # the seed's own declared forms leave with it
        event["forms"] = [f for f in event["forms"] if f in STANDARD_FORMS]
    data["schedule"]["critical_fields"] = {k: v for k, v in data["schedule"]["critical_fields"].items()
                                           if k in STANDARD_FORMS}
    return data


FORM = {"id": "qol", "label": "Quality of life", "date_field": "qol_date",
        "fields": [{"name": "qol_date", "label": "Date", "type": "date", "required": True},
                   {"name": "score", "label": "Score", "type": "integer", "min": 0, "max": 100}]}


def _problems(form: dict[str, Any]) -> list[str]:
    with pytest.raises(ProtocolError) as info:
        parse_protocol(_protocol_with(form))
    return list(info.value.errors)


def _with_field(**spec: Any) -> dict[str, Any]:
    form = copy.deepcopy(FORM)
    form["fields"].append({"label": "X", **spec})
    return form


def test_a_well_formed_form_loads_with_integer_and_boolean_spellings() -> None:
    form = parse_protocol(_protocol_with(_with_field(name="ok", type="boolean"))).form("qol")
    assert [f.type for f in form.fields] == ["date", "int", "bool"]


@pytest.mark.parametrize(("spec", "expected"), [
    ({"name": "x", "type": "number", "show_if": "scor > 1"}, "forms[0].fields[2].show_if: unknown field 'scor'"),
    ({"name": "x", "type": "number", "calculate": "later + 1"}, "forms[0].fields[2].calculate: unknown field 'later'"),
    ({"name": "x", "type": "number", "calculate": "__import__('os')"}, "forms[0].fields[2]"),
    ({"name": "score", "type": "number"}, "forms[0].fields[2].name: duplicate field 'score'"),
    ({"name": "rt_end", "type": "date"}, "forms[0].fields[2].name: 'rt_end' is a subject context name"),
    ({"name": "x", "type": "text", "calculate": "score"}, "forms[0].fields[2]"),
    ({"name": "x", "type": "number", "calculate": "score * 2", "required": True}, "forms[0].fields[2]"),
    ({"name": "x", "type": "choice"}, "forms[0].fields[2]"),
    ({"name": "x", "type": "choice", "choices": ["a", {"code": "b", "label": "B"}]}, "forms[0].fields[2]"),
    ({"name": "x", "type": "float"}, "forms[0].fields[2].type"),
    ({"name": "x", "type": "number", "max_length": 3}, "forms[0].fields[2]"),
])
def test_a_bad_field_is_named_by_its_path(spec: dict[str, Any], expected: str) -> None:
    problems = _problems(_with_field(**spec))
    assert any(p.startswith(expected) for p in problems), problems


def test_an_expression_reads_only_fields_declared_before_it() -> None:
    form = copy.deepcopy(FORM)
    form["fields"][0]["show_if"] = "score > 1"
    assert any(p.startswith("forms[0].fields[0].show_if: unknown field 'score'") for p in _problems(form))


@pytest.mark.parametrize(("change", "expected"), [
    ({"id": "ae"}, "forms[0].id: 'ae' is a standard form of the EDC"),
    ({"date_field": "score"}, "forms[0].date_field: 'score' must be a required date field"),
    ({"date_field": "nope"}, "forms[0].date_field: 'nope' is not a field of the form"),
    ({"id": "Q L"}, "forms[0].id"),
    ({"fields": []}, "forms[0].fields"),
])
def test_a_bad_form_is_named_by_its_path(change: dict[str, Any], expected: str) -> None:
    problems = _problems({**copy.deepcopy(FORM), **change})
    assert any(p.startswith(expected) for p in problems), problems


def test_two_forms_with_one_id_are_refused() -> None:
    data = _protocol_with(FORM)
    data["forms"].append(copy.deepcopy(FORM))
    with pytest.raises(ProtocolError) as info:
        parse_protocol(data)
    assert "forms[1].id: duplicate form 'qol'" in info.value.errors


def test_the_schedule_and_critical_fields_may_name_a_declared_form() -> None:
    data = _protocol_with(FORM)
    data["schedule"]["events"][0]["forms"].append("qol")
    data["schedule"]["critical_fields"]["qol"] = ["score"]
    assert "qol" in parse_protocol(data).schedule.events[0].forms
    data["schedule"]["critical_fields"]["qol"] = ["scores"]
    with pytest.raises(ProtocolError, match="'scores' is not a field of form 'qol'"):
        parse_protocol(data)


def test_an_amended_form_is_a_protocol_change() -> None:
    old = load_protocol("imrt-s1")
    data = yaml.safe_load(old.model_dump_json())
    data["version"] = "1.1"
    data["forms"][0]["fields"][1]["max"] = 200
    diff = compare_protocols(old, parse_protocol(data))
    assert "forms" in diff.sections and diff.criteria == () and diff.fields == ()


# --------------------------------------------------------------------------- the rule language's values


@pytest.mark.parametrize(("text", "values", "expected"), [
    ("round(a / b * 100, 1)", {"a": 1, "b": 3}, 33.3),
    ("round(a, 0)", {"a": 2.5}, 2.0),  # half to even, as Python rounds
    ("a - b", {"a": 5}, MISSING),
    ("days_between(a, b)", {"a": dt.date(2026, 1, 1), "b": dt.date(2026, 1, 31)}, 30),
])
def test_an_expression_gives_a_value(text: str, values: dict[str, Any], expected: Any) -> None:
    assert parse_rule(text).compute(values) == expected or parse_rule(text).compute(values) is expected


@pytest.mark.parametrize("text", ["round(a, 7)", "round(a, b)", "round(c)"])
def test_round_takes_a_number_and_up_to_six_decimals(text: str) -> None:
    with pytest.raises(ValidationError):
        parse_rule(text).compute({"a": 1.0, "b": 1.5, "c": "x"})


# --------------------------------------------------------------------------- live preview


def test_the_preview_hides_and_calculates_as_the_check_would_and_never_raises() -> None:
    form = load_protocol("imrt-s1").form("nutrition")
    ctx = {"baseline_weight_kg": 62.0, "baseline_height_cm": 170.0}
    shown = preview_form(form, {"weight_kg": "58.9", "feeding_tube": "yes"}, ctx)
    # by hand: (58.9 - 62) / 62 x 100 = -5.0; 58.9 / 1.7^2 = 20.38 -> 20.4
    assert shown.hidden == () and shown.calculated == {"weight_change_pct": -5.0, "weight_loss_5pct": True,
                                                       "bmi": 20.4}
    hidden = preview_form(form, {"weight_kg": "heavy", "feeding_tube": "perhaps", "nosuch": 1}, ctx)
    assert hidden.hidden == ("tube_type", "tube_date")  # an unreadable value is missing: undecided hides
    assert hidden.calculated == {"weight_change_pct": None, "weight_loss_5pct": None, "bmi": None}
    assert preview_form(form, ["not", "a", "mapping"]).calculated["bmi"] is None  # type: ignore[arg-type]
