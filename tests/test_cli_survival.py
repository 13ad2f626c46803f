"""The survival CLI: `npctrial survival km|logrank|rmst|cox|cuminc|finegray FILE ...` on the R reference data."""

from __future__ import annotations

from pathlib import Path

import pytest

from npctrial import cli
from npctrial.survival import logrank_test
from tests.conftest import REFS, load_ref

LUNG = REFS / "data" / "lung.csv"


def _run(capsys: pytest.CaptureFixture[str], argv: list[str], code: int = 0) -> tuple[str, str]:
    assert cli.main(["survival", *argv]) == code
    captured = capsys.readouterr()
    return captured.out, captured.err


def test_km_prints_table_times_and_writes_plot(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    png = tmp_path / "km.png"
    out, _ = _run(
        capsys,
        [
            "km", str(LUNG), "--time", "time", "--event", "status", "--group", "sex",
            "--status-coding", "r", "--times", "180,365", "--plot", str(png),
        ],
    )
    assert "sex=1" in out and "sex=2" in out and "median" in out
    assert "180" in out and "365" in out
    assert png.is_file() and png.stat().st_size > 10_000


def test_logrank_matches_the_library(capsys: pytest.CaptureFixture[str]) -> None:
    out, _ = _run(
        capsys,
        ["logrank", str(LUNG), "--time", "time", "--event", "status", "--group", "sex", "--status-coding", "r",
         "--pairwise", "holm"],
    )
    import pandas as pd

    df = pd.read_csv(LUNG)
    res = logrank_test(df["time"], df["status"], df["sex"], status_coding="r")
    assert f"Chisq= {res.chisq:.4g}" in out
    assert "Pairwise comparisons (p-value adjustment: holm)" in out


def test_rmst_two_groups(capsys: pytest.CaptureFixture[str]) -> None:
    out, _ = _run(
        capsys,
        ["rmst", str(LUNG), "--time", "time", "--event", "status", "--group", "sex", "--status-coding", "r",
         "--tau", "365"],
    )
    assert "difference (sex=2 - sex=1)" in out


def test_bad_input_is_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    _, err = _run(capsys, ["km", str(LUNG), "--time", "nope", "--event", "status"], code=2)
    assert err.startswith("error:") and "'nope' not found" in err
    _, err = _run(capsys, ["km", str(LUNG), "--time", "time", "--event", "status"], code=2)
    assert "status_coding='r'" in err
    _, err = _run(capsys, ["km", "missing.csv", "--time", "t", "--event", "e"], code=2)
    assert "does not exist" in err


# --------------------------------------------------------------------------------------------
# cox, cuminc, finegray: printed numbers against the R references at the printed precision
# --------------------------------------------------------------------------------------------

MGUS2 = REFS / "data" / "mgus2.csv"


def _close_at_printed_precision(token: str, ref: float) -> bool:
    """Whether the printed ``token`` equals ``ref`` rounded to the digits that were printed."""
    mantissa, _, exponent = token.lower().partition("e")
    decimals = len(mantissa.partition(".")[2])
    half_ulp = 0.5 * 10.0 ** (int(exponent or 0) - decimals)
    return abs(float(token) - ref) <= half_ulp * (1 + 1e-9) + 1e-15 * abs(ref)


def _table_rows(out: str, header_word: str) -> list[list[str]]:
    """Token rows of the first table whose header contains ``header_word`` (up to a blank line)."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if header_word in line.split())
    rows = []
    for line in lines[start + 1:]:
        if not line.strip():
            break
        if line.split() == ["term"]:
            continue
        rows.append(line.split())
    return rows


def _cox_cases() -> list[tuple[str, str, list[str]]]:
    """(data, id, CLI options) for every coxph analysis in lung.json and mgus2.json."""
    cases = []
    for name, time, event, extra in (("lung", "time", "status", ["--status-coding", "r"]),
                                     ("mgus2", "futime", "death", [])):
        for a in load_ref(name)["analyses"]:
            if a["type"] != "coxph":
                continue
            rhs = a["formula"].split("~")[1]
            covs, cats, opts = [], [], list(extra)
            for term in (t.strip() for t in rhs.split("+")):
                if term.startswith("strata("):
                    opts += ["--strata", term[7:-1]]
                elif term.startswith("cluster("):
                    opts += ["--cluster", term[8:-1]]
                elif term.startswith("factor("):
                    covs.append(term[7:-1])
                    cats.append(term[7:-1])
                else:
                    covs.append(term)
                    if term == "sex" and name == "mgus2":  # "F"/"M": a factor in R
                        cats.append(term)
            opts += ["--time", time, "--event", event, "--covariates", ",".join(covs), "--ties", a["ties"]]
            if cats:
                opts += ["--categorical", ",".join(cats)]
            cases.append((name, a["id"], opts))
    return cases


@pytest.mark.parametrize(("name", "analysis_id", "opts"), _cox_cases(), ids=[c[1] for c in _cox_cases()])
def test_cox_prints_r_coefficients_and_zph(
    capsys: pytest.CaptureFixture[str], name: str, analysis_id: str, opts: list[str]
) -> None:
    ref = next(a for a in load_ref(name)["analyses"] if a["id"] == analysis_id)
    out, _ = _run(capsys, ["cox", str(REFS / "data" / f"{name}.csv"), *opts, "--zph"])
    rows = _table_rows(out, "coef")
    assert len(rows) == len(ref["terms"])
    for row, coef, se in zip(rows, ref["coef"], ref["se_coef"], strict=True):
        assert _close_at_printed_precision(row[1], coef), (row, coef)
        assert _close_at_printed_precision(row[3], se), (row, se)
    zph = ref["cox_zph"]
    zrows = _table_rows(out, "chisq")
    assert [r[0] for r in zrows][-1] == "GLOBAL" and len(zrows) == len(zph["rows"])
    for row, chisq, p in zip(zrows, zph["chisq"], zph["p"], strict=True):
        assert _close_at_printed_precision(row[1], chisq), (row, chisq)
        assert _close_at_printed_precision(row[3], p), (row, p)


def test_cox_lung_efron_coefficient_as_printed(capsys: pytest.CaptureFixture[str]) -> None:
    ref = next(a for a in load_ref("lung")["analyses"] if a["id"] == "cox_efron")
    out, _ = _run(capsys, ["cox", str(LUNG), "--time", "time", "--event", "status", "--status-coding", "r",
                           "--covariates", "age,sex,ph.ecog"])
    printed = {row[0]: row[1] for row in _table_rows(out, "coef")}
    assert list(printed) == ref["terms"]
    for term, coef in zip(ref["terms"], ref["coef"], strict=True):
        assert _close_at_printed_precision(printed[term], coef), (term, printed[term], coef)


def test_cox_reference_level_and_cluster(capsys: pytest.CaptureFixture[str]) -> None:
    out, _ = _run(capsys, ["cox", str(LUNG), "--time", "time", "--event", "status", "--status-coding", "r",
                           "--covariates", "age,sex,ph.ecog", "--categorical", "ph.ecog",
                           "--reference", "ph.ecog=1", "--cluster", "inst"])
    terms = [row[0] for row in _table_rows(out, "coef")]
    assert terms == ["age", "sex", "ph.ecog0", "ph.ecog2", "ph.ecog3"]
    assert "robust" in out


def _competing_csv(tmp_path: Path) -> Path:
    """mgus2 with the compete-vignette coding (mgus2.json notes): etime and event 0/1 (pcm)/2 (death)."""
    import pandas as pd

    df = pd.read_csv(MGUS2)
    pcm = df["pstat"] == 1
    df["etime"] = df["ptime"].where(pcm, df["futime"])
    df["event"] = (2 * df["death"]).where(~pcm, 1)
    path = tmp_path / "mgus2_cr.csv"
    df.to_csv(path, index=False)
    return path


def test_cuminc_prints_grays_test_and_estimates(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    ref = next(a for a in load_ref("mgus2")["analyses"] if a["type"] == "cuminc")
    times = ref["at_times"]["times"]
    out, _ = _run(capsys, ["cuminc", str(_competing_csv(tmp_path)), "--time", "etime", "--event", "event",
                           "--group", "sex", "--censor-code", "0", "--times", ",".join(str(t) for t in times)])
    gray = ref["grays_test"]
    tests = {row[0]: row for row in _table_rows(out, "stat")}
    assert sorted(tests) == sorted(gray["cause"])
    for cause, stat, p in zip(gray["cause"], gray["stat"], gray["p"], strict=True):
        assert _close_at_printed_precision(tests[cause][1], stat)
        assert _close_at_printed_precision(tests[cause][2], p)
    for block, key in (("Estimates:", "est"), ("Variances:", "var")):
        lines = out.split(block, 1)[1].strip().splitlines()
        assert [float(v) for v in lines[0].split()] == [float(t) for t in times]
        printed = {" ".join(line.split()[:2]): line.split()[2:] for line in lines[1:5]}
        table = ref["at_times"][key]
        for rowname, values in zip(table["rownames"], table["values"], strict=True):
            for token, value in zip(printed[rowname], values, strict=True):
                assert _close_at_printed_precision(token, value), (key, rowname, token, value)


@pytest.mark.parametrize("analysis_id", ["crr_pcm", "crr_death"])
def test_finegray_prints_crr_coefficients(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, analysis_id: str
) -> None:
    ref = next(a for a in load_ref("mgus2")["analyses"] if a["id"] == analysis_id)
    out, _ = _run(capsys, ["finegray", str(_competing_csv(tmp_path)), "--time", "etime", "--event", "event",
                           "--covariates", "age,sex", "--categorical", "sex", "--cause", str(ref["failcode"])])
    rows = _table_rows(out, "coef")
    assert [r[0] for r in rows] == ["age", "sexM"]  # sexM is R's male = (sex == "M")
    for row, coef, se in zip(rows, ref["coef"], ref["se_coef"], strict=True):
        assert _close_at_printed_precision(row[1], coef), (row, coef)
        assert _close_at_printed_precision(row[3], se), (row, se)


@pytest.mark.parametrize(
    ("argv", "field", "message"),
    [
        (["cox", str(LUNG), "--time", "time", "--event", "status", "--covariates", "age,nope"],
         "--covariates", "'nope' not found"),
        (["cox", str(LUNG), "--time", "time", "--event", "status", "--covariates", "age,ph.ecog",
          "--categorical", "ph.ecog", "--reference", "ph.ecog=7"], "--reference", "level '7' not found"),
        (["cox", str(LUNG), "--time", "time", "--event", "status", "--covariates", "age",
          "--ties", "average"], "--ties", "efron, breslow or exact"),
        (["cox", str(LUNG), "--time", "time", "--event", "status", "--covariates", "age",
          "--strata", "nope"], "--strata", "'nope' not found"),
        (["cuminc", str(MGUS2), "--time", "futime", "--event", "death", "--group", "nope"],
         "--group", "'nope' not found"),
        (["finegray", str(MGUS2), "--time", "futime", "--event", "death", "--covariates", "age",
          "--cause", "5"], "--cause", "'5' does not occur"),
    ],
)
def test_cox_cuminc_finegray_bad_input_is_one_line_error(
    capsys: pytest.CaptureFixture[str], argv: list[str], field: str, message: str
) -> None:
    out, err = _run(capsys, argv, code=2)
    assert out == ""
    assert err.startswith("error:") and err.count("\n") == 1
    assert field in err and message in err
