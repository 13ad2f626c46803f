import npctrial.stats as stats

EXPECTED = [
    "ChiSquareResult",
    "FisherResult",
    "MantelHaenszelResult",
    "ProportionCI",
    "TestResult",
    "as_count_table",
    "chi_square_test",
    "cochran_armitage_trend",
    "fisher_exact",
    "format_p",
    "mantel_haenszel",
    "mcnemar",
    "proportion_ci",
]


def test_all_is_locked() -> None:
    assert sorted(stats.__all__) == EXPECTED


def test_every_name_importable() -> None:
    for name in stats.__all__:
        assert getattr(stats, name) is not None
