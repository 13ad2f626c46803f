"""The curated public API of npctrial.survival (add names here when adding them to __all__)."""

import npctrial.survival as survival

EXPECTED = [
    "AalenJohansenCurve",
    "AalenJohansenResult",
    "BaselineHazard",
    "CIFCurve",
    "Concordance",
    "CoxResult",
    "CoxSurvivalCurve",
    "CoxSurvivalPrediction",
    "CoxTest",
    "CoxZphResult",
    "CumulativeIncidenceResult",
    "Factor",
    "FineGrayResult",
    "GrayTestResult",
    "KaplanMeierCurve",
    "KaplanMeierResult",
    "LandmarkData",
    "LogRankResult",
    "NelsonAalenCurve",
    "NelsonAalenResult",
    "PairwiseLogRankResult",
    "RMSTResult",
    "StepCurve",
    "SurvivalData",
    "SurvregResult",
    "TimeVaryingData",
    "aalen_johansen",
    "compute_concordance",
    "cox_ph",
    "cox_univariate",
    "cumulative_incidence",
    "fine_gray",
    "gray_test",
    "kaplan_meier",
    "landmark",
    "logrank_test",
    "nelson_aalen",
    "pairwise_logrank",
    "plot_survival",
    "plot_survival_svg",
    "rmst",
    "split_at",
    "survreg",
    "time_varying",
]


def test_all_is_locked() -> None:
    assert sorted(survival.__all__) == EXPECTED


def test_every_name_importable() -> None:
    for name in survival.__all__:
        assert getattr(survival, name) is not None
