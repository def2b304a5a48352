"""A missed precision target is never silent: the command line warns (even with --quiet), the
JSON document, the results file (wedge.open(...).precision) and wedge.simulate() record it."""
import json
import warnings

import wedge
from conftest import wedge as run_wedge


def test_a_missed_target_is_recorded_in_the_file_and_the_json(tmp_path):
    out = tmp_path / "missed.h5"
    p = run_wedge("run", "--precision", "0.001", "--max-runs", "5000", "--quiet", "--json", "--out", out)
    assert p.returncode == 0  # the results are valid
    assert p.stderr.startswith("warning: precision 0.001 not reached")
    document = json.loads(p.stdout)
    with wedge.open(out) as r:
        recorded = r.precision
        runs = int(r.summary(["format"])["count"].sum())
    assert recorded == document["precision"]
    assert recorded["reached"] is False and recorded["target"] == 0.001 and recorded["max_runs"] == 5000
    assert runs == 5000
    # The widest 95% half-width at 5000 runs, p(1-p) <= 1/4: about 1.96 * 0.5 / sqrt(5000) = 0.0139 at most.
    assert 0.001 < recorded["widest_half_width"] <= 0.0139


def test_a_reached_target_is_recorded_too_and_fixed_runs_have_none(tmp_path):
    out = tmp_path / "met.h5"
    run_wedge("run", "--precision", "0.05", "--quiet", "--out", out)
    with wedge.open(out) as r:
        assert r.precision["reached"] is True and r.precision["widest_half_width"] <= 0.05
    run_wedge("run", "--runs", "1000", "--quiet", "--out", tmp_path / "fixed.h5")
    with wedge.open(tmp_path / "fixed.h5") as r:
        assert r.precision is None


def test_simulate_warns_and_records_a_missed_target():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = wedge.simulate({"run": {"max_runs": 5000}}, precision=0.001)
    assert any("precision 0.001 not reached" in str(w.message) for w in caught)
    assert out["precision"]["reached"] is False and out["precision"]["max_runs"] == 5000
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a reached target: no warning
        met = wedge.simulate(precision=0.05)
    assert met["precision"]["reached"] is True
