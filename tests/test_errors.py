import npctrial
from npctrial import errors


def test_exception_tree():
    assert issubclass(errors.ValidationError, errors.NpcTrialError)
    assert issubclass(errors.ValidationError, ValueError)
    assert issubclass(errors.ProtocolError, errors.ValidationError)
    assert issubclass(errors.ConvergenceError, errors.NpcTrialError)
    assert issubclass(errors.ConvergenceWarning, errors.StatisticalWarning)
    assert issubclass(errors.SmallSampleWarning, errors.StatisticalWarning)
    err = errors.ValidationError("weight_kg must be positive, got -3", field="weight_kg")
    assert err.field == "weight_kg"
    assert issubclass(errors.FieldErrors, errors.ValidationError)
    both = errors.FieldErrors([err, errors.ValidationError("tube_type is required", field="tube_type")])
    assert (both.field, str(both), [p.field for p in both.problems]) == (
        "weight_kg", "weight_kg must be positive, got -3", ["weight_kg", "tube_type"])


def test_top_level_api_locked():
    assert sorted(npctrial.__all__) == sorted(
        ["ConvergenceError", "ConvergenceWarning", "NpcTrialError", "StatisticalWarning",
         "ValidationError", "__version__"]
    )
