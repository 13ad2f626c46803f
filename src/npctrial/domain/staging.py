"""TNM staging of nasopharyngeal carcinoma, AJCC/UICC 7th (2010) and 8th (2017) editions.

The category wording and the stage-group tables are data (``data/staging_ajcc.yaml``); this
module parses categories, looks a (T, N, M) triple up in the table of an edition, and derives
T and N categories from recorded anatomical findings so that a patient staged with the 7th
edition can be restaged with the 8th.

References: Amin MB et al., AJCC Cancer Staging Manual 8th ed. (Springer 2017); Edge SB et al.,
AJCC Cancer Staging Manual 7th ed. (Springer 2010); Pan JJ et al., Cancer 2016;122:546-558.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields
from functools import cache
from typing import TYPE_CHECKING, Any, Literal

from npctrial.domain._tables import read_rule_table
from npctrial.errors import ClinicalWarning, ValidationError
from npctrial.messages import message

if TYPE_CHECKING:
    import pandas as pd

EDITIONS: tuple[int, ...] = (7, 8)
STAGE_ORDER: tuple[str, ...] = ("0", "I", "II", "III", "IVA", "IVB", "IVC")
_PREFIXES = ("", "c", "p", "yc", "yp", "r", "rc", "rp", "a")
_AXES = ("T", "N", "M")

#: Largest plausible node greatest dimension; larger values are taken as millimetres by mistake.
MAX_NODE_CM = 20.0


@cache
def staging_table() -> dict[str, Any]:
    """The packaged staging data (categories with wording, stage groups, sources) per edition."""
    return read_rule_table("staging_ajcc.yaml")


def _edition_data(edition: int) -> dict[str, Any]:
    if isinstance(edition, bool) or edition not in EDITIONS:
        raise ValidationError(message("staging.unknown_edition", "edition must be one of (%(editions)s), got %(value)s",
                                      editions=EDITIONS, value=repr(edition)), field="edition")
    return staging_table()["editions"][int(edition)]


def categories(axis: Literal["T", "N", "M"], edition: int = 8) -> dict[str, str]:
    """Valid categories of one axis in an edition, mapped to their published wording."""
    if axis not in _AXES:
        raise ValidationError(message("staging.unknown_axis", "axis must be one of (%(axes)s), got %(value)s",
                                      axes=tuple(repr(a) for a in _AXES), value=repr(axis)), field="axis")
    return dict(_edition_data(edition)[axis])


_CAT_RE = re.compile(r"^(?P<prefix>[a-z]{0,2})(?P<axis>[TNM])(?P<code>.*)$", re.IGNORECASE)


def _split_category(value: str, axis: str) -> tuple[str, str]:
    """Return (prefix, canonical category) for a text such as 'cT3', 't3', 'Tis', 'N3a'."""
    text = value.strip()
    if re.fullmatch(r"is|x|[0-4][ab]?", text, flags=re.IGNORECASE):
        text = axis + text  # a bare code such as "3" or "3a" for this axis
    m = _CAT_RE.match(text)
    if not m or m.group("axis").upper() != axis:
        raise ValidationError(message("staging.not_a_category", "%(field)s must be a %(axis)s category such as "
                                      "'%(axis)s1', got %(value)s", field=axis.lower(), axis=axis, value=repr(value)),
                              field=axis.lower())
    prefix = m.group("prefix").lower()
    if prefix not in _PREFIXES:
        raise ValidationError(message("staging.unknown_prefix", "%(field)s has an unknown prefix %(prefix)s in %(value)s",
                                      field=axis.lower(), prefix=repr(prefix), value=repr(value)), field=axis.lower())
    code = m.group("code")
    code = "is" if code.lower() == "is" else code.upper() if code.lower() == "x" else code.lower()
    return prefix, f"{axis}{code}"


def normalize_category(value: str, axis: Literal["T", "N", "M"], edition: int = 8) -> str:
    """Canonical category ('T3', 'Tis', 'N3a', 'M0') or ValidationError if the edition lacks it.

    Accepts prefixes ('cT3', 'ypN1'), any case, and bare codes for the axis ('3' -> 'T3').
    """
    if not isinstance(value, str):
        raise ValidationError(message("staging.category_not_text", "%(field)s must be a string such as '%(axis)s1', "
                                      "got %(value)s", field=axis.lower(), axis=axis, value=repr(value)),
                              field=axis.lower())
    prefix, cat = _split_category(value, axis)
    if cat == "M0" and prefix == "p":
        raise ValidationError(message("staging.pm0", "m %(value)s: pM0 is not a valid category (AJCC: use cM0)",
                                      value=repr(value)), field="m")
    valid = categories(axis, edition)
    if cat not in valid:
        params = {"field": axis.lower(), "value": repr(value), "edition": edition,
                  "expected": tuple(repr(c) for c in sorted(valid))}
        if cat in ("N3a", "N3b") and edition == 8:
            text = message("staging.not_in_edition_single_n3", "%(field)s %(value)s is not a category of the "
                           "AJCC/UICC %(edition)sth edition for nasopharynx; expected one of [%(expected)s] "
                           "(the 8th edition has a single N3)", **params)
        elif cat == "MX":
            text = message("staging.not_in_edition_mx", "%(field)s %(value)s is not a category of the AJCC/UICC "
                           "%(edition)sth edition for nasopharynx; expected one of [%(expected)s] (MX is not a "
                           "valid category; use M0 when there is no evidence of metastasis)", **params)
        else:
            text = message("staging.not_in_edition", "%(field)s %(value)s is not a category of the AJCC/UICC "
                           "%(edition)sth edition for nasopharynx; expected one of [%(expected)s]", **params)
        raise ValidationError(text, field=axis.lower())
    return cat


def stage_group(t: str, n: str, m: str, edition: int = 8) -> str | None:
    """Anatomic stage group of NPC for the given categories.

    Steps:
      1. Normalise each category ('cT3' -> 'T3'); an unknown category raises ValidationError.
      2. Return the stage of the first row of the edition's stage table whose T, N and M lists
         contain the categories ("any" matches every category of the axis).
      3. Return None when no row matches (e.g. T0 N0, TX N1 M0, 7th-edition T0 N1).
    """
    cats = (normalize_category(t, "T", edition), normalize_category(n, "N", edition),
            normalize_category(m, "M", edition))
    for row in _edition_data(edition)["stage_groups"]:
        if all(row[axis] == "any" or cat in row[axis] for axis, cat in zip(_AXES, cats, strict=True)):
            return str(row["stage"])
    return None


def stage_rank(stage: str | None) -> int:
    """Position of a stage group in the ordering 0 < I < II < III < IVA < IVB < IVC (None = -1)."""
    if stage is None:
        return -1
    if stage not in STAGE_ORDER:
        raise ValidationError(message("staging.unknown_stage", "stage must be one of (%(stages)s), got %(value)s",
                                      stages=tuple(repr(s) for s in STAGE_ORDER), value=repr(stage)), field="stage")
    return STAGE_ORDER.index(stage)


@dataclass(frozen=True)
class TNM:
    """A parsed TNM triple. Categories are canonical ('T3'); prefixes keep 'c', 'p', 'yp', ..."""

    t: str
    n: str
    m: str
    t_prefix: str = ""
    n_prefix: str = ""
    m_prefix: str = ""

    def stage(self, edition: int = 8) -> str | None:
        """Stage group of this TNM in ``edition`` (see :func:`stage_group`)."""
        return stage_group(self.t, self.n, self.m, edition=edition)

    def __str__(self) -> str:
        return f"{self.t_prefix}{self.t}{self.n_prefix}{self.n}{self.m_prefix}{self.m}"


_TNM_RE = re.compile(
    r"^\s*(?P<t>[a-z]{0,2}T(?:is|x|[0-4]))\s*(?P<n>[a-z]{0,2}N(?:x|[0-3][ab]?))\s*"
    r"(?P<m>[a-z]{0,2}M(?:x|[01]))\s*$",
    re.IGNORECASE,
)


def parse_tnm(text: str, edition: int | None = None) -> TNM:
    """Parse 'cT3N2M0', 'T3 N2 M0', 'ypT2N1cM0' into a :class:`TNM`.

    With ``edition`` given, each category must exist in that edition (N3a is 7th only).
    """
    if not isinstance(text, str):
        raise ValidationError(message("staging.tnm_not_text", "tnm must be a string such as 'cT3N2M0', got %(value)s",
                                      value=repr(text)), field="tnm")
    match = _TNM_RE.match(text)
    if match is None:
        raise ValidationError(message("staging.tnm_format", "tnm must look like 'cT3N2M0' (T: X/0/is/1-4, "
                                      "N: X/0-3, M: 0/1), got %(value)s", value=repr(text)), field="tnm")
    parts = {axis: _split_category(match.group(axis.lower()), axis) for axis in _AXES}
    if edition is not None:
        for axis in _AXES:
            normalize_category(parts[axis][1], axis, edition)  # type: ignore[arg-type]
    return TNM(t=parts["T"][1], n=parts["N"][1], m=parts["M"][1],
               t_prefix=parts["T"][0], n_prefix=parts["N"][0], m_prefix=parts["M"][0])


# --------------------------------------------------------------------------- findings


@dataclass(frozen=True)
class PrimaryFindings:
    """Anatomical extent of the primary tumour (True = involved on endoscopy/MRI/CT).

    Vocabulary (each a boolean unless stated):
      assessable            False -> TX.
      primary_detected      False -> T0 (8th: requires EBV-positive cervical nodes).
      ebv_positive_nodes    EBV status of the nodes when no primary is found (None = unknown).
      in_situ               carcinoma in situ with no invasive extension -> Tis.
      oropharynx, nasal_cavity                       T1 extensions.
      parapharyngeal_space                            T2 (both editions).
      medial_pterygoid, lateral_pterygoid             8th T2; 7th T4 (masticator space).
      prevertebral_muscle                             8th T2; 7th read as T2 (see below).
      skull_base, paranasal_sinus                     T3 (both editions).
      cervical_vertebra, pterygoid_structures         8th T3; 7th read as bony structures (T3).
      intracranial, cranial_nerve, hypopharynx, orbit T4 (both editions).
      parotid                                         8th T4; not named by the 7th.
      beyond_lateral_pterygoid  soft tissue beyond the lateral surface of the lateral
                            pterygoid muscle: 8th T4; 7th T4 (infratemporal fossa).
      masticator_space      7th "infratemporal fossa/masticator space" (T4) recorded without
                            the detail above; cannot be restaged to the 8th on its own.

    Readings not spelled out by the 7th-edition table (documented choices): prevertebral
    muscle involvement is read as parapharyngeal (posterolateral) extension, T2; cervical
    vertebra and pterygoid structures (pterygoid plates, pterygomaxillary fissure,
    pterygopalatine fossa) are read as bony structures of the skull base, T3 -- the 8th
    edition (Pan 2016) made both explicit. Parotid involvement alone is not a 7th T4 criterion;
    a ClinicalWarning is given when it is the only T4 finding.
    """

    assessable: bool = True
    primary_detected: bool = True
    ebv_positive_nodes: bool | None = None
    in_situ: bool = False
    oropharynx: bool = False
    nasal_cavity: bool = False
    parapharyngeal_space: bool = False
    medial_pterygoid: bool = False
    lateral_pterygoid: bool = False
    prevertebral_muscle: bool = False
    skull_base: bool = False
    cervical_vertebra: bool = False
    pterygoid_structures: bool = False
    paranasal_sinus: bool = False
    intracranial: bool = False
    cranial_nerve: bool = False
    hypopharynx: bool = False
    orbit: bool = False
    parotid: bool = False
    beyond_lateral_pterygoid: bool = False
    masticator_space: bool = False


_SITE_FIELDS: tuple[str, ...] = tuple(
    f.name for f in fields(PrimaryFindings)
    if f.name not in ("assessable", "primary_detected", "ebv_positive_nodes", "in_situ"))

CervicalLaterality = Literal["none", "unilateral", "bilateral"]


@dataclass(frozen=True)
class NodalFindings:
    """Regional node findings.

    Vocabulary:
      assessable              False -> NX.
      cervical                'none', 'unilateral' or 'bilateral' cervical (non-retropharyngeal)
                              nodes; midline nodes count as ipsilateral.
      retropharyngeal         retropharyngeal node(s), uni- or bilateral.
      greatest_dimension_cm   greatest dimension of the largest involved node (cm); required
                              when any node is involved. 6.0 cm is "6 cm or less".
      below_caudal_cricoid    involved node(s) below the caudal border of the cricoid (8th).
      supraclavicular_fossa   involved node(s) in the supraclavicular fossa / Ho's triangle
                              (7th); such nodes are also below the cricoid (every 7th N3 is 8th N3).
    """

    assessable: bool = True
    cervical: CervicalLaterality = "none"
    retropharyngeal: bool = False
    greatest_dimension_cm: float | None = None
    below_caudal_cricoid: bool = False
    supraclavicular_fossa: bool = False


@dataclass(frozen=True)
class StagingFindings:
    """Everything needed to stage a patient in either edition."""

    primary: PrimaryFindings
    nodes: NodalFindings
    distant_metastasis: bool


def _from_mapping(cls: type[Any], data: Any, where: str) -> Any:
    if not isinstance(data, Mapping):
        raise ValidationError(message("staging.findings_group_not_mapping", "%(field)s must be a mapping of findings, "
                                      "got %(value)s", field=where, value=repr(data)), field=where)
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise ValidationError(message("staging.unknown_finding", "%(field)s is not a recorded finding; expected one "
                                      "of [%(expected)s]", field=f"{where}.{unknown[0]}",
                                      expected=tuple(repr(k) for k in sorted(known))), field=f"{where}.{unknown[0]}")
    for name, value in data.items():
        if name == "greatest_dimension_cm":
            ok = value is None or (isinstance(value, int | float) and not isinstance(value, bool))
        elif name == "cervical":
            ok = value in ("none", "unilateral", "bilateral")
        elif name == "ebv_positive_nodes":
            ok = value is None or isinstance(value, bool)
        else:
            ok = isinstance(value, bool)
        if not ok:
            raise ValidationError(message("staging.invalid_finding", "%(field)s has an invalid value %(value)s",
                                          field=f"{where}.{name}", value=repr(value)), field=f"{where}.{name}")
    return cls(**data)


def findings_from_mapping(data: Mapping[str, Any]) -> StagingFindings:
    """Build :class:`StagingFindings` from ``{"primary": {...}, "nodes": {...},
    "distant_metastasis": bool}`` (e.g. a patient YAML), naming any unknown or invalid finding."""
    if not isinstance(data, Mapping):
        raise ValidationError(message("staging.findings_not_mapping", "findings must be a mapping, got %(value)s",
                                      value=repr(data)), field="findings")
    unknown = sorted(set(data) - {"primary", "nodes", "distant_metastasis"})
    if unknown:
        raise ValidationError(message("staging.unknown_findings_key", "%(field)s is unknown; expected primary, nodes, "
                                      "distant_metastasis", field=f"findings.{unknown[0]}"), field=f"findings.{unknown[0]}")
    dm = data.get("distant_metastasis", False)
    if not isinstance(dm, bool):
        raise ValidationError(message("staging.distant_metastasis_not_bool", "findings.distant_metastasis must be "
                                      "true or false, got %(value)s", value=repr(dm)), field="findings.distant_metastasis")
    return StagingFindings(primary=_from_mapping(PrimaryFindings, data.get("primary", {}), "primary"),
                           nodes=_from_mapping(NodalFindings, data.get("nodes", {}), "nodes"),
                           distant_metastasis=dm)


@dataclass(frozen=True)
class StageResult:
    """Categories and stage group derived in one edition."""

    edition: int
    t: str
    n: str
    m: str
    stage: str | None

    def summary(self) -> str:
        return f"AJCC/UICC {self.edition}th: {self.t} {self.n} {self.m} -> stage {self.stage or 'none'}"


def _check_edition(edition: int) -> int:
    _edition_data(edition)
    return int(edition)


def derive_t_category(findings: PrimaryFindings, edition: int = 8) -> str:
    """T category from primary-tumour findings.

    Steps (highest category whose criterion is met wins):
      1. Not assessable -> TX. No primary detected -> T0 (8th: needs EBV-positive nodes;
         ValidationError if they are EBV-negative, ClinicalWarning if unknown).
      2. T4 sites (edition-specific, see :class:`PrimaryFindings`).
      3. T3 bone sites, 4. T2 soft-tissue sites, 5. in situ only -> Tis, otherwise T1.
    """
    if not isinstance(findings, PrimaryFindings):
        raise ValidationError(message("staging.findings_type", "findings must be a %(type)s", type="PrimaryFindings"),
                              field="findings")
    edition = _check_edition(edition)
    f = findings
    if not f.assessable:
        return "TX"
    if not f.primary_detected:
        sites = [name for name in _SITE_FIELDS if getattr(f, name)]
        if sites or f.in_situ:
            raise ValidationError(message("staging.findings_without_primary", "primary_detected is false but primary "
                                          "findings are recorded (%(sites)s)", sites=tuple(sites) or ("in_situ",)),
                                  field="primary_detected")
        if edition == 8:
            if f.ebv_positive_nodes is False:
                raise ValidationError(message("staging.t0_ebv_negative", "ebv_positive_nodes: 8th-edition T0 requires "
                                              "EBV-positive cervical nodes; EBV-negative nodes with no primary are "
                                              "not staged as nasopharynx"), field="ebv_positive_nodes")
            if f.ebv_positive_nodes is None:
                warnings.warn(ClinicalWarning(message("staging.t0_ebv_unknown", "T0 in the 8th edition requires "
                                                      "EBV-positive nodes; EBV status not recorded")), stacklevel=2)
        return "T0"
    common_t4 = f.intracranial or f.cranial_nerve or f.hypopharynx or f.orbit
    if edition == 8:
        if f.masticator_space and not (f.medial_pterygoid or f.lateral_pterygoid
                                       or f.beyond_lateral_pterygoid):
            raise ValidationError(message(
                "staging.masticator_space_alone", "masticator_space: cannot derive the 8th-edition T category from "
                "'masticator space' alone; record medial_pterygoid / lateral_pterygoid / beyond_lateral_pterygoid"),
                field="masticator_space")
        if common_t4 or f.parotid or f.beyond_lateral_pterygoid:
            return "T4"
        if f.skull_base or f.cervical_vertebra or f.pterygoid_structures or f.paranasal_sinus:
            return "T3"
        if (f.parapharyngeal_space or f.medial_pterygoid or f.lateral_pterygoid
                or f.prevertebral_muscle):
            return "T2"
    else:
        if (common_t4 or f.masticator_space or f.medial_pterygoid or f.lateral_pterygoid
                or f.beyond_lateral_pterygoid):
            return "T4"
        if f.parotid:
            warnings.warn(ClinicalWarning(message("staging.parotid_not_t4_in_7th", "parotid involvement is not a "
                                                  "7th-edition T4 criterion; T is derived from the other findings")),
                          stacklevel=2)
        if f.skull_base or f.paranasal_sinus or f.cervical_vertebra or f.pterygoid_structures:
            return "T3"
        if f.parapharyngeal_space or f.prevertebral_muscle:
            return "T2"
    if f.in_situ and not (f.oropharynx or f.nasal_cavity):
        return "Tis"
    return "T1"


def derive_n_category(findings: NodalFindings, edition: int = 8) -> str:
    """N category from nodal findings.

    Steps:
      1. Not assessable -> NX; no cervical and no retropharyngeal node -> N0.
      2. Node > 6 cm (greatest dimension) or the lower-neck landmark (8th: below the caudal
         border of the cricoid, which includes the supraclavicular fossa; 7th: supraclavicular
         fossa) -> N3. The 7th edition sub-codes N3a (> 6 cm) and N3b (fossa); a node meeting
         both is returned as plain N3 (the table gives no rule; both facts stay in the findings).
      3. Bilateral cervical -> N2; unilateral cervical and/or retropharyngeal -> N1.
    """
    if not isinstance(findings, NodalFindings):
        raise ValidationError(message("staging.findings_type", "findings must be a %(type)s", type="NodalFindings"),
                              field="findings")
    edition = _check_edition(edition)
    f = findings
    if f.cervical not in ("none", "unilateral", "bilateral"):
        raise ValidationError(message("staging.cervical_invalid", "cervical must be 'none', 'unilateral' or "
                                      "'bilateral', got %(value)s", value=repr(f.cervical)), field="cervical")
    if not f.assessable:
        return "NX"
    involved = f.cervical != "none" or f.retropharyngeal
    size = f.greatest_dimension_cm
    if size is not None:
        if isinstance(size, bool) or not isinstance(size, int | float) or not size > 0:
            raise ValidationError(message("number.not_positive", "%(field)s must be > 0, got %(value)s",
                                          field="greatest_dimension_cm", value=repr(size)),
                                  field="greatest_dimension_cm")
        if size > MAX_NODE_CM:
            raise ValidationError(message("staging.node_size_not_cm", "greatest_dimension_cm must be in cm "
                                          "(<= %(limit)s), got %(value)s; millimetres by mistake?",
                                          limit=MAX_NODE_CM, value=repr(size)), field="greatest_dimension_cm")
    if not involved:
        if size is not None or f.below_caudal_cricoid or f.supraclavicular_fossa:
            raise ValidationError(message("staging.node_details_without_node", "cervical: node size or level recorded "
                                          "but no involved node (cervical='none', retropharyngeal=False)"),
                                  field="cervical")
        return "N0"
    if size is None:
        raise ValidationError(message("staging.node_size_required", "greatest_dimension_cm is required when nodes "
                                      "are involved (needed to rule out N3)"), field="greatest_dimension_cm")
    large = size > 6.0
    if edition == 8:
        if large or f.below_caudal_cricoid or f.supraclavicular_fossa:
            return "N3"
    else:
        if large and f.supraclavicular_fossa:
            return "N3"
        if large:
            return "N3a"
        if f.supraclavicular_fossa:
            return "N3b"
    if f.cervical == "bilateral":
        return "N2"
    return "N1"


def stage_findings(findings: StagingFindings, edition: int = 8) -> StageResult:
    """Derive T, N, M and the stage group of ``findings`` in one edition."""
    if not isinstance(findings, StagingFindings):
        raise ValidationError(message("staging.findings_type", "findings must be a %(type)s", type="StagingFindings"),
                              field="findings")
    t = derive_t_category(findings.primary, edition)
    n = derive_n_category(findings.nodes, edition)
    m = "M1" if findings.distant_metastasis else "M0"
    return StageResult(edition=int(edition), t=t, n=n, m=m, stage=stage_group(t, n, m, edition))


@dataclass(frozen=True)
class Restaging:
    """The same findings staged with the 7th and the 8th edition."""

    seventh: StageResult
    eighth: StageResult

    def __iter__(self) -> Iterator[StageResult]:
        """Unpack as ``seventh, eighth = restage(findings)``."""
        return iter((self.seventh, self.eighth))

    @property
    def changed(self) -> bool:
        return self.seventh.stage != self.eighth.stage

    def summary(self) -> str:
        return f"{self.seventh.summary()}\n{self.eighth.summary()}"

    def to_frame(self) -> pd.DataFrame:
        """One row per edition: edition, t, n, m, stage."""
        import pandas as pd

        return pd.DataFrame([{"edition": r.edition, "t": r.t, "n": r.n, "m": r.m, "stage": r.stage}
                             for r in (self.seventh, self.eighth)])


def restage(findings: StagingFindings) -> Restaging:
    """Stage recorded findings with both editions (7th -> 8th restaging)."""
    return Restaging(seventh=stage_findings(findings, 7), eighth=stage_findings(findings, 8))


__all__ = [
    "EDITIONS",
    "NodalFindings",
    "PrimaryFindings",
    "Restaging",
    "STAGE_ORDER",
    "StageResult",
    "StagingFindings",
    "TNM",
    "categories",
    "derive_n_category",
    "derive_t_category",
    "findings_from_mapping",
    "normalize_category",
    "parse_tnm",
    "restage",
    "stage_findings",
    "stage_group",
    "stage_rank",
    "staging_table",
]
