"""Every dataset of a results file's /summary holds what docs/output-format.md says, checked from
the file itself against the same run's --json counts and statistics (the Python package recomputes
probabilities and intervals from the counts, so without this test nothing reads the stored ones)."""
import h5py
import numpy as np

import wedge
from conftest import SWEEPS, cli_json, wedge as wedge_cli


def test_summary_datasets_are_what_the_format_says(tmp_path):
    grid = SWEEPS / "threat_rewards_grid.toml"
    out = tmp_path / "grid.h5"
    wedge_cli("run", grid, "--runs", 3000, "--out", out, "--quiet")
    doc = cli_json(grid, "--runs", 3000)
    with h5py.File(out) as f:
        s = f["summary"]
        runs = s["runs"][()]
        assert runs.tolist() == [p["runs"] for p in doc["points"]]
        for field in doc["points"][0]["counts"]:
            g = s[field]
            categories = [c.decode() if isinstance(c, bytes) else str(c) for c in g.attrs["categories"]]
            wanted = list(doc["points"][0]["counts"][field])
            counts = g["counts"][()][:, [categories.index(c) for c in wanted]]
            assert counts.tolist() == [list(p["counts"][field].values()) for p in doc["points"]], field
            # p = counts / runs exactly; the interval is the 95% Wilson interval.
            assert np.array_equal(g["p"][()], g["counts"][()] / runs[:, None]), field
            low, high = wedge.wilson(g["counts"][()], runs[:, None])
            assert np.allclose(g["ci_low"][()], low, rtol=1e-12, atol=1e-15), field
            assert np.allclose(g["ci_high"][()], high, rtol=1e-12, atol=1e-15), field
        for field in doc["points"][0]["stats"]:
            g = s[field]
            assert g["n"][()].tolist() == runs.tolist()
            for i, p in enumerate(doc["points"]):
                st = p["stats"][field]
                assert np.isclose(g["mean"][i], st["mean"], rtol=1e-12, atol=0)
                assert np.isclose(np.sqrt(g["variance"][i]), st["sd"], rtol=1e-12, atol=0)
                assert (g["min"][i], g["max"][i]) == (st["min"], st["max"])
            assert np.allclose(g["variance"][()], g["m2"][()] / (runs - 1), rtol=1e-15, atol=0)
            assert (g["histogram"][()].sum(axis=1) == runs).all()
