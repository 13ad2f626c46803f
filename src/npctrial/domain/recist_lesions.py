"""RECIST 1.1 baseline: lesion classification and target-lesion selection.

Reference: Eisenhauer EA et al., "New response evaluation criteria in solid tumours: revised
RECIST guideline (version 1.1)", Eur J Cancer 2009;45:228-247 (sections 3.1-3.3), and the RECIST
working group FAQ; summarised in shared/domain/recist.md.

Contents
- :func:`classify_lesion`: measurable / non-measurable / normal at baseline (nodes by short
  axis: >= 15 mm measurable, 10 to < 15 mm pathological but non-measurable, < 10 mm normal).
- :class:`Lesion`: one baseline lesion with its organ group (all lymph nodes form one organ).
- :func:`select_target_lesions` / :func:`check_target_lesions`: at most 5 targets, at most 2
  per organ; all lymph nodes together count as one organ (RECIST FAQ).

Response assessment at follow-up is in :mod:`npctrial.domain.recist`, which re-exports these names.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from npctrial.errors import ValidationError
from npctrial.messages import message

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "Lesion",
    "TargetSelection",
    "check_target_lesions",
    "classify_lesion",
    "select_target_lesions",
]

NODE_ORGAN = "lymph node"
LesionClass = Literal["measurable", "non_measurable", "normal"]
Method = Literal["ct", "mri", "caliper", "xray"]


def _size(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value == value:
        raise ValidationError(message("recist.size_not_a_number", "%(field)s must be a number of millimetres, got "
                                      "%(value)s", field=name, value=repr(value)), field=name)
    if value < 0:
        raise ValidationError(message("recist.size_negative", "%(field)s must be >= 0 mm, got %(value)s", field=name,
                                      value=repr(value)), field=name)
    return float(value)


def classify_lesion(
    size_mm: float, *, nodal: bool, method: Method = "ct", slice_thickness_mm: float | None = None
) -> LesionClass:
    """Baseline class of a lesion (RECIST 1.1 section 3.1).

    ``size_mm`` is the short axis for lymph nodes and the longest diameter otherwise.
    Non-nodal: CT/MRI >= 10 mm (>= 2 x slice thickness when slices are thicker than 5 mm),
    calipers >= 10 mm, chest X-ray >= 20 mm. Nodal (CT/MRI): >= 15 mm measurable,
    10 to < 15 mm non-measurable, < 10 mm normal.
    """
    size = _size(size_mm, "size_mm")
    if method not in ("ct", "mri", "caliper", "xray"):
        raise ValidationError(message("recist.unknown_method", "method must be ct, mri, caliper or xray, got "
                                      "%(value)s", value=repr(method)), field="method")
    if nodal:
        if method not in ("ct", "mri"):
            raise ValidationError(message("recist.node_method", "lymph nodes are measured by CT or MRI short axis"),
                                  field="method")
        if size >= 15:
            return "measurable"
        return "non_measurable" if size >= 10 else "normal"
    if method == "xray":
        threshold = 20.0
    elif method == "caliper":
        threshold = 10.0
    else:
        threshold = 10.0
        if slice_thickness_mm is not None:
            thickness = _size(slice_thickness_mm, "slice_thickness_mm")
            if thickness > 5:
                threshold = 2 * thickness
    return "measurable" if size >= threshold else "non_measurable"


@dataclass(frozen=True)
class Lesion:
    """A baseline lesion: id, organ, nodal flag and size (SA for nodes, LD otherwise)."""

    lesion_id: str
    organ: str
    nodal: bool
    size_mm: float
    method: Method = "ct"
    slice_thickness_mm: float | None = None

    @property
    def organ_group(self) -> str:
        """Organ for the per-organ cap: every lymph node is one organ."""
        return NODE_ORGAN if self.nodal else self.organ.strip().lower()

    @property
    def classification(self) -> LesionClass:
        return classify_lesion(
            self.size_mm,
            nodal=self.nodal,
            method=self.method,
            slice_thickness_mm=self.slice_thickness_mm,
        )


@dataclass(frozen=True)
class TargetSelection:
    """Baseline lesions split into targets, non-targets and normal (non-pathological) nodes."""

    targets: tuple[Lesion, ...]
    non_targets: tuple[Lesion, ...]
    normal: tuple[Lesion, ...]

    @property
    def baseline_sum_mm(self) -> float:
        return sum(lesion.size_mm for lesion in self.targets)

    def to_frame(self) -> pd.DataFrame:
        """One row per lesion: id, organ, nodal, size_mm, classification, role."""
        rows = [
            {"lesion_id": lesion.lesion_id, "organ": lesion.organ, "nodal": lesion.nodal,
             "size_mm": lesion.size_mm, "classification": lesion.classification, "role": role}
            for role, group in (("target", self.targets), ("non_target", self.non_targets),
                                ("normal", self.normal))
            for lesion in group
        ]
        columns = ["lesion_id", "organ", "nodal", "size_mm", "classification", "role"]
        import pandas as pd  # imported when used: the CLI and the EDC start without pandas

        return pd.DataFrame(rows, columns=columns)

    def summary(self) -> str:
        ids = ", ".join(lesion.lesion_id for lesion in self.targets) or "none"
        return (f"{len(self.targets)} target lesion(s) ({ids}), baseline sum of diameters "
                f"{self.baseline_sum_mm:g} mm; {len(self.non_targets)} non-target lesion(s); "
                f"{len(self.normal)} normal node(s) (short axis < 10 mm)")


def check_target_lesions(
    targets: Sequence[Lesion], *, max_total: int = 5, max_per_organ: int = 2
) -> None:
    """Raise :class:`ValidationError` unless ``targets`` obey RECIST 1.1 (measurable, <= 5, <= 2/organ)."""
    if len(targets) > max_total:
        raise ValidationError(message("recist.too_many_targets", "at most %(limit)s target lesions, got %(count)s",
                                      limit=max_total, count=len(targets)), field="targets")
    ids = Counter(t.lesion_id for t in targets)
    dup = [i for i, c in ids.items() if c > 1]
    if dup:
        raise ValidationError(message("recist.target_listed_twice", "target lesion %(lesion)s listed twice",
                                      lesion=repr(dup[0])), field="targets")
    for t in targets:
        if t.classification != "measurable":
            params = {"lesion": repr(t.lesion_id), "size": f"{t.size_mm:g}"}
            raise ValidationError(message("recist.nodal_target_not_measurable", "target lesion %(lesion)s (%(size)s mm, "
                                          "nodal) is not measurable", **params) if t.nodal else
                                  message("recist.target_not_measurable", "target lesion %(lesion)s (%(size)s mm, "
                                          "non-nodal) is not measurable", **params), field="targets")
    per_organ = Counter(t.organ_group for t in targets)
    for organ, count in per_organ.items():
        if count > max_per_organ:
            raise ValidationError(message("recist.too_many_targets_in_organ", "at most %(limit)s target lesions per "
                                          "organ, got %(count)s in %(organ)s", limit=max_per_organ, count=count,
                                          organ=repr(organ)), field="targets")


def select_target_lesions(
    lesions: Sequence[Lesion], *, max_total: int = 5, max_per_organ: int = 2
) -> TargetSelection:
    """Choose targets: largest measurable lesions first, within the total and per-organ caps.

    Measurable lesions not chosen and pathological nodes (10 to < 15 mm) become non-targets;
    nodes < 10 mm are normal. Reproducibility and representativeness are clinical judgements
    that this ordering cannot make: review the choice.
    """
    targets: list[Lesion] = []
    non_targets: list[Lesion] = []
    normal: list[Lesion] = []
    per_organ: Counter[str] = Counter()
    for lesion in sorted(lesions, key=lambda item: -item.size_mm):
        cls = lesion.classification
        if cls == "normal":
            normal.append(lesion)
        elif (
            cls == "measurable"
            and len(targets) < max_total
            and per_organ[lesion.organ_group] < max_per_organ
        ):
            targets.append(lesion)
            per_organ[lesion.organ_group] += 1
        else:
            non_targets.append(lesion)
    return TargetSelection(tuple(targets), tuple(non_targets), tuple(normal))
