"""npctrial.cohort: from a cohort file to the tables and figures of an outcome study.

Public API is listed in ``__all__`` and locked by ``tests/cohort/test_public_api.py``.
"""

from npctrial.cohort.config import (
    AssociationSpec,
    ColumnSpec,
    CompetingRiskSpec,
    CoxSpec,
    DerivedSpec,
    FrequencySpec,
    LandmarkSpec,
    StudyConfig,
    SurvivalSpec,
    TimeDependentSpec,
    ToxicitySpec,
    dump_config,
    load_config,
)
from npctrial.cohort.cox_table import CoxTable, cox_table
from npctrial.cohort.demo import make_demo_cohort, solve_t_by_n
from npctrial.cohort.derive import derive_variable, derive_variables
from npctrial.cohort.immortal_time import (
    LandmarkAnalysis,
    TimeDependentCox,
    find_immortal_time,
    landmark_analysis,
    time_dependent_cox,
)
from npctrial.cohort.inference import infer_config
from npctrial.cohort.loading import RawCohort, load_cohort, read_cohort
from npctrial.cohort.pipeline import prepare_cohort, run_analysis
from npctrial.cohort.report import CohortReport, ReportFigure, ReportTable
from npctrial.cohort.survival_tables import (
    CompetingRiskAnalysis,
    SurvivalAnalysis,
    competing_risk_analysis,
    compute_median_follow_up,
    survival_analysis,
)
from npctrial.cohort.table_one import AssociationTable, association_table
from npctrial.cohort.tables import FrequencyTable, ToxicityTable, frequency_table, toxicity_table
from npctrial.cohort.validation import Problem, ValidationReport, validate_cohort

__all__ = [
    "AssociationSpec",
    "AssociationTable",
    "CohortReport",
    "ColumnSpec",
    "CompetingRiskAnalysis",
    "CompetingRiskSpec",
    "CoxSpec",
    "CoxTable",
    "DerivedSpec",
    "FrequencySpec",
    "FrequencyTable",
    "LandmarkAnalysis",
    "LandmarkSpec",
    "Problem",
    "RawCohort",
    "ReportFigure",
    "ReportTable",
    "StudyConfig",
    "SurvivalAnalysis",
    "SurvivalSpec",
    "TimeDependentCox",
    "TimeDependentSpec",
    "ToxicitySpec",
    "ToxicityTable",
    "ValidationReport",
    "association_table",
    "competing_risk_analysis",
    "compute_median_follow_up",
    "cox_table",
    "derive_variable",
    "derive_variables",
    "dump_config",
    "find_immortal_time",
    "frequency_table",
    "infer_config",
    "landmark_analysis",
    "load_cohort",
    "load_config",
    "make_demo_cohort",
    "prepare_cohort",
    "read_cohort",
    "run_analysis",
    "solve_t_by_n",
    "survival_analysis",
    "time_dependent_cox",
    "toxicity_table",
    "validate_cohort",
]
