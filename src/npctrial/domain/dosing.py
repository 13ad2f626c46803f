"""Chemotherapy dosing: body-surface area, BSA-banded flat doses and mg/m2 doses.

Carboplatin (Cockcroft-Gault and Calvert) is in :mod:`npctrial.domain.carboplatin`.

Every result is a frozen object that records its inputs, the formula and the rounding rule.
Doses, bands and caps are protocol data; nothing here hard-codes a protocol's numbers except
the packaged band tables in ``data/dose_bands.yaml`` (with their source wording).

References: Mosteller RD, NEJM 1987;317:1098; DuBois D & DuBois EF, Arch Intern Med 1916;17:863;
Haycock GB et al., J Pediatr 1978;93:62; Gehan EA & George SL, Cancer Chemother Rep 1970;54:225;
Boyd E, The Growth of the Surface Area of the Human Body, 1935; Griggs JJ et al., JCO 2012.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from npctrial.domain._inputs import check_number, check_positive, check_weight_kg
from npctrial.domain._tables import read_rule_table
from npctrial.errors import ClinicalWarning, ValidationError
from npctrial.messages import message

BSAFormula = Literal["mosteller", "dubois", "haycock", "gehan_george", "boyd"]

#: Formula name -> (published expression, reference).
BSA_FORMULAS: dict[str, tuple[str, str]] = {
    "mosteller": ("sqrt(H * W / 3600)", "Mosteller RD, NEJM 1987"),
    "dubois": ("0.007184 * W^0.425 * H^0.725", "DuBois D & DuBois EF, Arch Intern Med 1916"),
    "haycock": ("0.024265 * W^0.5378 * H^0.3964", "Haycock GB et al., J Pediatr 1978"),
    "gehan_george": ("0.0235 * W^0.51456 * H^0.42246", "Gehan EA & George SL, Cancer Chemother Rep 1970"),
    "boyd": ("0.0003207 * H^0.3 * Wg^(0.7285 - 0.0188 * log10(Wg)), Wg = weight in g",
             "Boyd E, 1935"),
}
_ALIASES = {"du_bois": "dubois", "gehan-george": "gehan_george", "gehan": "gehan_george"}

HEIGHT_RANGE_CM = (30.0, 272.0)
#: BSA above which a ClinicalWarning is given (plausible but unusual in adults).
BSA_WARN_ABOVE_M2 = 2.5


def round_to_step(value: float, step: float) -> float:
    """Round half up to a multiple of ``step`` (e.g. 1 mg, 10 mg, 0.01 m2)."""
    q = value / step
    return round(math.floor(q + 0.5 + 1e-9) * step, 10)


def _check_height(height_cm: Any) -> float:
    h = check_positive(height_cm, "height_cm")
    if h < 3:
        raise ValidationError(message("dose.height_in_metres", "height_cm must be in centimetres, got %(value)s "
                                      "(metres by mistake? %(metres)s m = %(cm)s cm)", value=repr(height_cm),
                                      metres=h, cm=h * 100), field="height_cm")
    lo, hi = HEIGHT_RANGE_CM
    if not lo <= h <= hi:
        raise ValidationError(message("dose.height_out_of_range", "height_cm must be between %(low)s and %(high)s cm, "
                                      "got %(value)s", low=lo, high=hi, value=repr(height_cm)), field="height_cm")
    return h


def _bsa_raw(h: float, w: float, formula: str) -> float:
    if formula == "mosteller":
        return math.sqrt(h * w / 3600.0)
    if formula == "dubois":
        return 0.007184 * w**0.425 * h**0.725
    if formula == "haycock":
        return 0.024265 * w**0.5378 * h**0.3964
    if formula == "gehan_george":
        return 0.0235 * w**0.51456 * h**0.42246
    wg = 1000.0 * w  # Boyd: weight in grams, log base 10
    return 0.0003207 * h**0.3 * wg ** (0.7285 - 0.0188 * math.log10(wg))


@dataclass(frozen=True)
class BSAResult:
    """A body-surface area with everything needed to reproduce it.

    ``bsa_raw_m2`` is the formula value; ``bsa_m2`` is the value to dose with: capped at
    ``cap_m2`` (if any) and then rounded to ``decimals`` (None = not rounded).
    """

    height_cm: float
    weight_kg: float
    formula: str
    bsa_raw_m2: float
    cap_m2: float | None
    decimals: int | None
    bsa_m2: float

    @property
    def capped(self) -> bool:
        return self.cap_m2 is not None and self.bsa_raw_m2 > self.cap_m2

    @property
    def rounding(self) -> str:
        return "not rounded" if self.decimals is None else f"rounded half up to {self.decimals} dp after capping"

    def summary(self) -> str:
        expr, ref = BSA_FORMULAS[self.formula]
        cap = "no cap" if self.cap_m2 is None else f"cap {self.cap_m2:g} m2" + (" (applied)" if self.capped else "")
        return (f"BSA {self.bsa_m2:.4g} m2 ({self.formula}: {expr}; {ref}); height {self.height_cm:g} cm, "
                f"weight {self.weight_kg:g} kg; raw {self.bsa_raw_m2:.4f} m2; {cap}; {self.rounding}")


def body_surface_area(
    height_cm: float,
    weight_kg: float,
    formula: BSAFormula | str = "mosteller",
    cap: float | None = None,
    decimals: int | None = None,
) -> BSAResult:
    """Body-surface area (m2) from height (cm) and weight (kg).

    Steps:
      1. Validate: height in cm (a value < 3 is taken as metres by mistake and rejected),
         weight in kg, formula one of :data:`BSA_FORMULAS`, cap > 0 or None.
      2. Apply the published formula (Boyd uses weight in grams and log10).
      3. ClinicalWarning when the raw BSA exceeds 2.5 m2.
      4. Dosing BSA = min(raw, cap) (cap None = ASCO full weight-based dosing), then rounded
         half up to ``decimals`` if given.
    """
    h, w = _check_height(height_cm), check_weight_kg(weight_kg)
    if not isinstance(formula, str):
        raise ValidationError(message("dose.formula_not_text", "formula must be a string, got %(value)s",
                                      value=repr(formula)), field="formula")
    key = formula.strip().lower().replace(" ", "_")
    key = _ALIASES.get(key, key)
    if key not in BSA_FORMULAS:
        raise ValidationError(message("dose.unknown_formula", "formula must be one of [%(formulas)s], got %(value)s",
                                      formulas=tuple(repr(f) for f in sorted(BSA_FORMULAS)), value=repr(formula)),
                              field="formula")
    cap_m2 = None if cap is None else check_positive(cap, "cap")
    if decimals is not None and (isinstance(decimals, bool) or not isinstance(decimals, int)
                                 or not 0 <= decimals <= 6):
        raise ValidationError(message("dose.decimals_invalid", "decimals must be an integer 0-6 or None, got %(value)s",
                                      value=repr(decimals)), field="decimals")
    raw = _bsa_raw(h, w, key)
    if raw > BSA_WARN_ABOVE_M2:
        text = (message("dose.bsa_above_limit", "BSA %(bsa)s m2 is above %(limit)s m2: check height and weight",
                        bsa=f"{raw:.2f}", limit=BSA_WARN_ABOVE_M2) if cap_m2 is None else
                message("dose.bsa_above_limit_capped",
                        "BSA %(bsa)s m2 is above %(limit)s m2: check height and weight; capped at %(cap)s m2",
                        bsa=f"{raw:.2f}", limit=BSA_WARN_ABOVE_M2, cap=f"{cap_m2:g}"))
        warnings.warn(ClinicalWarning(text), stacklevel=2)
    value = raw if cap_m2 is None else min(raw, cap_m2)
    if decimals is not None:
        value = round_to_step(value, 10.0**-decimals)
    return BSAResult(h, w, key, raw, cap_m2, decimals, value)


def _bsa_value(bsa: BSAResult | float, field: str = "bsa") -> float:
    if isinstance(bsa, BSAResult):
        return bsa.bsa_m2
    value = check_positive(bsa, field)
    if value > 5:
        raise ValidationError(message("dose.bsa_not_m2", "%(field)s must be in m2 (<= 5), got %(value)s", field=field,
                                      value=repr(bsa)), field=field)
    return value


# --------------------------------------------------------------------------- banded doses


@dataclass(frozen=True)
class DoseBand:
    """One BSA band: [lower, upper] with explicit inclusivity (None = unbounded)."""

    lower: float | None
    lower_inclusive: bool
    upper: float | None
    upper_inclusive: bool
    mg_per_dose: float
    wording: str = ""

    def contains(self, value: float) -> bool:
        if self.lower is not None:
            if value < self.lower or (value == self.lower and not self.lower_inclusive):
                return False
        if self.upper is not None:
            if value > self.upper or (value == self.upper and not self.upper_inclusive):
                return False
        return True

    def describe(self) -> str:
        left = "(-inf" if self.lower is None else ("[" if self.lower_inclusive else "(") + f"{self.lower:g}"
        right = "inf)" if self.upper is None else f"{self.upper:g}" + ("]" if self.upper_inclusive else ")")
        return f"{left}, {right}"


@dataclass(frozen=True)
class BandTable:
    """A protocol's dose bands, with the source wording and the boundaries it leaves ambiguous."""

    name: str
    drug: str
    bands: tuple[DoseBand, ...]
    doses_per_day: int = 1
    ambiguous_bounds: tuple[float, ...] = ()
    source: str = ""
    interpretation: str = ""

    def __post_init__(self) -> None:
        _check_bands(self.bands, self.name)


def _check_bands(bands: Sequence[DoseBand], name: str) -> None:
    """Bands must be ordered, contiguous, non-overlapping and cover (0, inf)."""
    if not bands:
        raise ValidationError(message("dose.bands_empty", "bands of %(table)s must not be empty", table=repr(name)),
                              field="bands")
    if bands[0].lower is not None or bands[-1].upper is not None:
        raise ValidationError(message("dose.bands_not_open", "bands of %(table)s must start at -inf (lower=None) and "
                                      "end at +inf (upper=None)", table=repr(name)), field="bands")
    for i, (a, b) in enumerate(itertools.pairwise(bands)):
        if a.upper is None or b.lower is None or a.upper != b.lower:
            raise ValidationError(message("dose.bands_gap", "bands of %(table)s: band %(band)s ends at %(upper)s but "
                                          "band %(next)s starts at %(lower)s", table=repr(name), band=i,
                                          upper=str(a.upper), next=i + 1, lower=str(b.lower)), field="bands")
        if a.upper_inclusive == b.lower_inclusive:
            params = {"table": repr(name), "band": i, "next": i + 1, "bound": a.upper}
            raise ValidationError(message("dose.bands_both_include", "bands of %(table)s: bands %(band)s and %(next)s "
                                          "both include the boundary %(bound)s", **params)
                                  if a.upper_inclusive else
                                  message("dose.bands_neither_includes", "bands of %(table)s: bands %(band)s and "
                                          "%(next)s neither includes the boundary %(bound)s", **params), field="bands")
    for band in bands:
        check_positive(band.mg_per_dose, "mg_per_dose")


def band_table_from_dict(name: str, data: Mapping[str, Any]) -> BandTable:
    """Build a :class:`BandTable` from protocol data (the layout of ``data/dose_bands.yaml``)."""
    try:
        bands = tuple(
            DoseBand(
                lower=None if b.get("lower") is None else float(b["lower"]),
                lower_inclusive=bool(b["lower_inclusive"]),
                upper=None if b.get("upper") is None else float(b["upper"]),
                upper_inclusive=bool(b["upper_inclusive"]),
                mg_per_dose=float(b["mg_per_dose"]),
                wording=str(b.get("wording", "")),
            )
            for b in data["bands"]
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ValidationError(message("dose.band_incomplete", "bands of %(table)s: each band needs lower, "
                                      "lower_inclusive, upper, upper_inclusive and mg_per_dose (%(error)s)",
                                      table=repr(name), error=str(exc)), field="bands") from exc
    return BandTable(
        name=name,
        drug=str(data.get("drug", "")),
        bands=bands,
        doses_per_day=int(data.get("doses_per_day", 1)),
        ambiguous_bounds=tuple(float(x) for x in data.get("ambiguous_bounds", []) or []),
        source=str(data.get("source", "")).strip(),
        interpretation=str(data.get("interpretation", "")).strip(),
    )


@cache
def _band_data() -> dict[str, Any]:
    return read_rule_table("dose_bands.yaml")["tables"]


def band_table_names() -> list[str]:
    """Names of the packaged band tables."""
    return sorted(_band_data())


def load_band_table(name: str) -> BandTable:
    """A packaged band table: 's1-imrt-protocol' (30/40/50 mg) or 's1-japanese-label' (40/50/60 mg)."""
    tables = _band_data()
    if name not in tables:
        raise ValidationError(message("dose.unknown_band_table", "bands must name a packaged table, one of "
                                      "[%(tables)s]; got %(value)s", tables=tuple(repr(t) for t in sorted(tables)),
                                      value=repr(name)), field="bands")
    return band_table_from_dict(name, tables[name])


@dataclass(frozen=True)
class BandedDose:
    """The band a BSA falls in and the resulting flat dose."""

    bsa_m2: float
    table: str
    drug: str
    band: DoseBand
    mg_per_dose: float
    doses_per_day: int
    on_ambiguous_bound: bool

    @property
    def mg_per_day(self) -> float:
        return self.mg_per_dose * self.doses_per_day

    def summary(self) -> str:
        flag = " [boundary ambiguous in protocol: review]" if self.on_ambiguous_bound else ""
        return (f"{self.drug} {self.mg_per_dose:g} mg x {self.doses_per_day}/day "
                f"({self.mg_per_day:g} mg/day): BSA {self.bsa_m2:g} m2 in band {self.band.describe()} "
                f"'{self.band.wording}' of {self.table}{flag}")


def _coerce_table(bands: Any) -> BandTable:
    """A BandTable from a table, a packaged table name, a mapping, or a protocol dose table
    (any object with ``drug``, ``bands`` and optionally ``ambiguous_boundaries``)."""
    if isinstance(bands, BandTable):
        return bands
    if isinstance(bands, str):
        return load_band_table(bands)
    if isinstance(bands, Mapping):
        return band_table_from_dict(str(bands.get("name", "custom")), bands)
    if hasattr(bands, "bands") and hasattr(bands, "drug"):
        rows = [{k: getattr(b, k, None) for k in ("lower", "lower_inclusive", "upper",
                                                  "upper_inclusive", "mg_per_dose")}
                for b in bands.bands]
        per_day = {getattr(b, "doses_per_day", 1) for b in bands.bands}
        if len(per_day) != 1:
            raise ValidationError(message("dose.bands_doses_per_day", "bands: doses_per_day must be the same in "
                                          "every band"), field="bands")
        return band_table_from_dict(f"{bands.drug} protocol bands", {
            "drug": bands.drug, "bands": rows, "doses_per_day": per_day.pop(),
            "ambiguous_bounds": getattr(bands, "ambiguous_boundaries", ()),
            "source": getattr(bands, "wording", "") or ""})
    raise ValidationError(message("dose.bands_type", "bands must be a BandTable, a mapping, a protocol dose table or "
                                  "the name of a packaged table, got %(type)s", type=type(bands).__name__),
                          field="bands")


def banded_dose(bsa: BSAResult | float, bands: BandTable | str | Mapping[str, Any] | Any) -> BandedDose:
    """Flat dose from a BSA band table.

    Steps:
      1. Take the dosing BSA (capped/rounded value of a :class:`BSAResult`, or a number in m2).
      2. Find the single band containing it, honouring each bound's inclusivity.
      3. ClinicalWarning when the BSA lies exactly on a boundary the protocol left ambiguous.
    """
    table = _coerce_table(bands)
    value = _bsa_value(bsa)
    band = next(b for b in table.bands if b.contains(value))
    ambiguous = any(math.isclose(value, x, rel_tol=0, abs_tol=1e-9) for x in table.ambiguous_bounds)
    if ambiguous:
        params = {"bsa": f"{value:g}", "table": table.name, "mg": f"{band.mg_per_dose:g}"}
        text = (message("dose.bsa_on_ambiguous_boundary",
                        "BSA %(bsa)s m2 is exactly on the %(table)s boundary that the protocol wording leaves "
                        "ambiguous; assigned to '%(band)s' (%(mg)s mg): review", band=band.wording, **params)
                if band.wording else
                message("dose.bsa_on_ambiguous_boundary_band",
                        "BSA %(bsa)s m2 is exactly on the %(table)s boundary that the protocol wording leaves "
                        "ambiguous; assigned to band %(band)s m2 (%(mg)s mg): review", band=band.describe(), **params))
        warnings.warn(ClinicalWarning(text), stacklevel=2)
    return BandedDose(value, table.name, table.drug, band, band.mg_per_dose,
                      table.doses_per_day, ambiguous)


# --------------------------------------------------------------------------- mg/m2 doses


@dataclass(frozen=True)
class BSADose:
    """A mg/m2 dose: mg = mg_per_m2 x BSA, rounded half up to ``round_to_mg``."""

    drug: str
    mg_per_m2: float
    bsa_m2: float
    mg_exact: float
    round_to_mg: float | None
    mg: float

    def summary(self) -> str:
        rule = "not rounded" if self.round_to_mg is None else f"rounded to {self.round_to_mg:g} mg"
        return (f"{self.drug or 'dose'} {self.mg:g} mg = {self.mg_per_m2:g} mg/m2 x "
                f"{self.bsa_m2:g} m2 ({self.mg_exact:.2f} mg, {rule})")


def bsa_dose(bsa: BSAResult | float, mg_per_m2: float, *, drug: str = "",
             round_to_mg: float | None = 1.0) -> BSADose:
    """Dose (mg) of a drug prescribed in mg/m2."""
    value = _bsa_value(bsa)
    rate = check_positive(mg_per_m2, "mg_per_m2")
    step = None if round_to_mg is None else check_positive(round_to_mg, "round_to_mg")
    exact = rate * value
    return BSADose(drug, rate, value, exact, step, exact if step is None else round_to_step(exact, step))


def cisplatin_dose(bsa: BSAResult | float, mg_per_m2: float, *,
                   round_to_mg: float | None = 1.0) -> BSADose:
    """Cisplatin dose (mg) for ``mg_per_m2`` (e.g. 100 tri-weekly or 40 weekly with RT).

    A ClinicalWarning is given above 100 mg/m2 per administration (above every NPC schedule in
    CSCO/ASCO 2021).
    """
    rate = check_positive(mg_per_m2, "mg_per_m2")
    if rate > 100:
        warnings.warn(ClinicalWarning(message("dose.cisplatin_above_100",
                                              "cisplatin %(rate)s mg/m2 per administration is above 100 mg/m2",
                                              rate=f"{rate:g}")), stacklevel=2)
    return bsa_dose(bsa, rate, drug="cisplatin", round_to_mg=round_to_mg)


def compute_cumulative_dose_per_m2(
    administrations: Iterable[tuple[float, BSAResult | float]],
) -> float:
    """Cumulative mg/m2 = sum of (mg actually given / BSA used for that administration)."""
    total = 0.0
    for i, item in enumerate(administrations):
        try:
            mg, bsa = item
        except (TypeError, ValueError) as exc:
            raise ValidationError(message("dose.administration_not_pair", "administrations[%(row)s] must be "
                                          "(mg, bsa), got %(value)s", row=i, value=repr(item)),
                                  field="administrations", row=i) from exc
        given = check_number(mg, f"administrations[{i}].mg")
        if given < 0:
            raise ValidationError(message("lab.negative_value", "%(field)s must be >= 0, got %(value)s",
                                          field=f"administrations[{i}].mg", value=repr(mg)),
                                  field="administrations", row=i)
        total += given / _bsa_value(bsa, f"administrations[{i}].bsa")
    return total


def compute_weight_change_percent(baseline_kg: float, current_kg: float) -> float:
    """Percent change of body weight from the weight the dose was calculated with."""
    base, now = check_weight_kg(baseline_kg), check_weight_kg(current_kg)
    return (now - base) / base * 100.0


def requires_dose_recalculation(baseline_kg: float, current_kg: float,
                                threshold_percent: float = 10.0) -> bool:
    """True when weight has changed by at least ``threshold_percent`` (either direction).

    The 10 % default is a common site convention (dosing.md), a protocol setting.
    """
    limit = check_positive(threshold_percent, "threshold_percent")
    return abs(compute_weight_change_percent(baseline_kg, current_kg)) >= limit - 1e-9


__all__ = [
    "BSADose",
    "BSAResult",
    "BSA_FORMULAS",
    "BandTable",
    "BandedDose",
    "DoseBand",
    "band_table_from_dict",
    "band_table_names",
    "banded_dose",
    "body_surface_area",
    "bsa_dose",
    "cisplatin_dose",
    "compute_cumulative_dose_per_m2",
    "compute_weight_change_percent",
    "load_band_table",
    "requires_dose_recalculation",
    "round_to_step",
]
