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
    "Problem",
    "RawCohort",
    "ReportFigure",
    "ReportTable",
    "StudyConfig",
    "SurvivalAnalysis",
    "SurvivalSpec",
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
    "frequency_table",
    "infer_config",
    "load_cohort",
    "load_config",
    "make_demo_cohort",
    "prepare_cohort",
    "read_cohort",
    "run_analysis",
    "solve_t_by_n",
    "survival_analysis",
    "toxicity_table",
    "validate_cohort",
]


def test_all_is_locked() -> None:
    assert sorted(cohort.__all__) == EXPECTED


def test_every_name_importable() -> None:
    for name in cohort.__all__:
        assert getattr(cohort, name) is not None
