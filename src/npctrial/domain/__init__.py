"""npctrial.domain (public API is listed in __all__ and locked by tests/domain/test_public_api.py)."""

from npctrial.domain.staging import (
    TNM,
    NodalFindings,
    PrimaryFindings,
    Restaging,
    StageResult,
    StagingFindings,
    derive_n_category,
    derive_t_category,
    parse_tnm,
    restage,
    stage_findings,
    stage_group,
)

__all__: list[str] = [
    # staging
    "NodalFindings",
    "PrimaryFindings",
    "Restaging",
    "StageResult",
    "StagingFindings",
    "TNM",
    "derive_n_category",
    "derive_t_category",
    "parse_tnm",
    "restage",
    "stage_findings",
    "stage_group",
]
