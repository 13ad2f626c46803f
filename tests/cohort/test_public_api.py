import npctrial.cohort as cohort

EXPECTED = [
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


def test_all_is_locked() -> None:
    assert sorted(cohort.__all__) == EXPECTED


def test_every_name_importable() -> None:
    for name in cohort.__all__:
        assert getattr(cohort, name) is not None
