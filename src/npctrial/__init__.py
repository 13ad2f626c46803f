"""npctrial: run, analyse and design clinical trials in nasopharyngeal carcinoma.

Layers (each a sub-package; lower layers never import higher ones):

* :mod:`npctrial.domain`   - pure clinical rules (staging, dosing, CTCAE, RTOG, RECIST, ...)
* :mod:`npctrial.survival` - survival engine (Kaplan-Meier, log-rank, Cox, competing risks)
* :mod:`npctrial.stats`    - contingency tables, proportions, exact intervals
* :mod:`npctrial.design`   - sample size, randomisation, simulation
* :mod:`npctrial.cohort`   - cohort files -> tables, figures, reports
* :mod:`npctrial.web`      - Django EDC (the only layer that imports Django)
"""

from npctrial.errors import (
    ConvergenceError,
    ConvergenceWarning,
    NpcTrialError,
    StatisticalWarning,
    ValidationError,
)

__version__ = "0.1.0"

__all__ = [
    "ConvergenceError",
    "ConvergenceWarning",
    "NpcTrialError",
    "StatisticalWarning",
    "ValidationError",
    "__version__",
]
