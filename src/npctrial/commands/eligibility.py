"""CLI commands ``npctrial eligibility`` and ``npctrial demo`` (registered by commands.domain).

``eligibility PATIENT.yaml --protocol imrt-s1`` prints every criterion (met / not met / missing,
with the values used and the rule) and the overall verdict; it exits 0 for any report, even
"ineligible". ``demo`` runs the bundled demo patients through eligibility, staging, dosing and
the high-risk rule and prints one table each.
"""

from __future__ import annotations

import warnings
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.console import Console
from rich.table import Table

from npctrial.domain.dosing import banded_dose, body_surface_area
from npctrial.domain.eligibility import EligibilityReport, evaluate_eligibility
from npctrial.domain.protocol import Protocol, load_protocol
from npctrial.domain.risk import assess_high_risk
from npctrial.domain.staging import stage_group
from npctrial.errors import ValidationError

_STATUS_STYLE = {"met": "green", "not met": "red", "missing": "yellow"}
_VERDICT_STYLE = {"eligible": "bold green", "ineligible": "bold red", "incomplete": "bold yellow"}


def read_patient_file(path: Path) -> dict[str, Any]:
    """A patient record from YAML (a mapping of field -> value)."""
    if not path.is_file():
        raise ValidationError(f"patient file not found: {path}", field="patient")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        first = str(exc).splitlines()[0]
        raise ValidationError(f"{path}: not valid YAML ({first})", field="patient") from exc
    if not isinstance(data, dict):
        raise ValidationError(
            f"{path}: a patient file must be a mapping of field: value", field="patient"
        )
    return data


def _criteria_table(report: EligibilityReport) -> Table:
    table = Table(title=f"{report.protocol.id} v{report.protocol.version}", show_lines=False)
    for col in ("criterion", "kind", "status", "values", "rule"):
        table.add_column(col, overflow="fold")
    for r in report.results:
        style = _STATUS_STYLE[r.status]
        status = f"[{style}]{r.status}[/]" + (" [bold red](excludes)[/]" if r.excludes else "")
        table.add_row(r.criterion_id, r.kind, status, r.values_text(report.protocol), r.rule)
    return table


def eligibility(
    patient_file: Annotated[Path, typer.Argument(help="patient YAML file (field: value)")],
    protocol: Annotated[
        str | None,
        typer.Option(
            "--protocol",
            "-p",
            help="protocol name (e.g. imrt-s1) or YAML path; default: the file's 'protocol'",
        ),
    ] = None,
    wording: Annotated[
        bool, typer.Option("--wording", help="also print the published wording of each criterion")
    ] = False,
) -> None:
    """Check a patient against a protocol's eligibility criteria."""
    patient = read_patient_file(patient_file)
    name = protocol or patient.get("protocol")
    if not name:
        raise ValidationError(
            "no protocol: pass --protocol NAME or put 'protocol: NAME' in the patient file"
        )
    report = evaluate_eligibility(load_protocol(str(name)), patient)
    console = Console(width=max(Console().width, 120))
    console.print(_criteria_table(report))
    if wording:
        for r in report.results:
            console.print(f"{r.criterion_id}: {r.wording}", highlight=False)
    who = report.patient_id or patient_file.name
    console.print(
        f"{who}: [{_VERDICT_STYLE[report.verdict]}]{report.verdict.upper()}[/]"
        + (
            f" (not met/excluding: {', '.join(r.criterion_id for r in report.failed)})"
            if report.failed
            else ""
        )
        + (
            f" (missing data: {', '.join(r.criterion_id for r in report.missing)})"
            if report.missing
            else ""
        ),
        highlight=False,
    )
    if report.ignored_fields:
        console.print(
            f"ignored fields (not in the protocol): {', '.join(report.ignored_fields)}",
            highlight=False,
        )


def load_demo_patients() -> list[dict[str, Any]]:
    """The bundled fictitious demo patients."""
    text = resources.files("npctrial.domain").joinpath("data/demo_patients.yaml").read_text("utf-8")
    return list(yaml.safe_load(text)["patients"])


def demo() -> None:
    """Run the bundled demo patients through eligibility, staging, dosing and risk."""
    patients = load_demo_patients()
    protocols: dict[str, Protocol] = {}
    console = Console(width=max(Console().width, 120))

    elig = Table(title="Eligibility")
    for col in ("patient", "protocol", "verdict", "failing", "missing", "scenario"):
        elig.add_column(col, overflow="fold")
    staging = Table(title="Staging (AJCC/UICC 8th edition)")
    for col in ("patient", "T", "N", "M", "stage"):
        staging.add_column(col)
    dosing = Table(title="S-1 dosing by BSA (Mosteller; protocol bands)")
    for col in ("patient", "height cm", "weight kg", "BSA m2", "mg/dose", "mg/day", "band", "note"):
        dosing.add_column(col, overflow="fold")
    risk = Table(title="High risk after induction (EBV DNA > 0 copies/mL or SD/PD)")
    for col in ("patient", "EBV DNA copies/mL", "response", "risk"):
        risk.add_column(col)

    for patient in patients:
        pid, pname = str(patient["id"]), str(patient["protocol"])
        proto = protocols.setdefault(pname, load_protocol(pname))
        report = evaluate_eligibility(proto, patient)
        elig.add_row(
            pid,
            pname,
            f"[{_VERDICT_STYLE[report.verdict]}]{report.verdict}[/]",
            ", ".join(r.criterion_id for r in report.failed) or "-",
            ", ".join(r.criterion_id for r in report.missing) or "-",
            str(patient.get("note", "")),
        )
        values = proto.coerce_record(patient)
        t, n, m = values.get("t_category"), values.get("n_category"), values.get("m_category")
        stage = stage_group(t, n, m, edition=8) if t and n and m else None
        staging.add_row(pid, str(t), str(n), str(m), stage or "-")
        if any(table.drug == "S-1" for table in proto.dosing):
            bsa = body_surface_area(values["height_cm"], values["weight_kg"], decimals=2)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                dose = banded_dose(bsa, proto.dose_table("S-1"))
            note = "boundary ambiguous in protocol: review" if dose.on_ambiguous_bound else ""
            if caught and not note:
                note = str(caught[0].message)
            dosing.add_row(
                pid,
                f"{bsa.height_cm:g}",
                f"{bsa.weight_kg:g}",
                f"{bsa.bsa_m2:.2f}",
                f"{dose.mg_per_dose:g}",
                f"{dose.mg_per_day:g}",
                dose.band.describe(),
                note,
            )
        if "ebv_dna_post_induction" in values:
            assessment = assess_high_risk(
                values.get("ebv_dna_post_induction"), values.get("induction_response")
            )
            ebv = values.get("ebv_dna_post_induction")
            risk.add_row(
                pid,
                "-" if ebv is None else f"{ebv:g}",
                str(values.get("induction_response")),
                assessment.label,
            )

    for table in (elig, staging, dosing, risk):
        console.print(table)


def register(app: typer.Typer) -> None:
    """Add ``eligibility`` and ``demo`` to the CLI."""
    app.command("eligibility")(eligibility)
    app.command("demo")(demo)
