"""Every packaged rule table loaded at once: what a long-running process (the EDC server's master
before it forks its workers) loads before its first request instead of during it.

Each table (``npctrial/domain/data/*.yaml``) is parsed on first use and kept by its own module
(CTCAE v4.03 grading and terms, lab analytes and panels, RTOG scales, AJCC staging, dose bands,
edit checks, the Chinese term labels); :func:`load_rule_tables` makes that first use now. The
results are the same objects later calls return: loading changes no rule.
"""

from __future__ import annotations

__all__ = ["load_rule_tables"]


def load_rule_tables() -> tuple[str, ...]:
    """Load every packaged rule table and the indexes built from them; returns what was loaded."""
    from npctrial.domain.ctcae import clinical_terms, ctcae_table, lab_terms, other_specify_socs
    from npctrial.domain.dosing import band_table_names, load_band_table
    from npctrial.domain.edit_checks import generic_edit_checks
    from npctrial.domain.lab_analytes import lab_analytes
    from npctrial.domain.lab_panels import lab_panels
    from npctrial.domain.rtog import rtog_table
    from npctrial.domain.staging import staging_table
    from npctrial.domain.term_labels import _english_names, _zh_tables

    loaded = {
        "ctcae_v4_03": (ctcae_table(), lab_terms(), clinical_terms(), other_specify_socs()),
        "lab_analytes": lab_analytes(),
        "lab_panels": lab_panels(),
        "rtog": rtog_table(),
        "staging_ajcc": staging_table(),
        "dose_bands": [load_band_table(name) for name in band_table_names()],
        "edit_checks": generic_edit_checks(),
        "term_labels": (_english_names(), _zh_tables()),
    }
    return tuple(loaded)
