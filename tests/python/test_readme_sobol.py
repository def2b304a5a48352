"""The README's Sobol example: the figures it quotes for the shipped binding_saltelli.toml (32 base
points, 10,000 runs per point; about 3 s) are what wedge.sobol_indices gives. (The 256-point table
beside them takes half a minute and is checked by hand: see the README.)"""
import re

import pytest
from conftest import ROOT, wedge as cli

import wedge


@pytest.fixture(scope="module")
def shipped(tmp_path_factory):
    out = tmp_path_factory.mktemp("readme") / "saltelli.h5"
    cli("run", ROOT / "experiments" / "sweeps" / "binding_saltelli.toml", "--out", out, "--quiet")
    with wedge.open(out) as r:
        assert r.experiment["run"]["runs"] == 10_000 and len(r.design) == 160
        # Too few base points to read, as the README says: the package warns so too.
        with pytest.warns(wedge.SensitivityWarning, match="too wide to read"):
            table = wedge.sobol_indices(r, "alliance", "intact")
        yield table.round(2)


def quoted(text, name):
    """(value, low, high) the README quotes as `NAME v [lo, hi]` (with − for minus)."""
    m = re.search(re.escape(name) + r" (−?[0-9.]+) \[(−?[0-9.]+), (−?[0-9.]+)\]", text.replace("\n", " "))
    assert m, f"the README no longer quotes {name!r}"
    return tuple(float(g.replace("−", "-")) for g in m.groups())


def test_the_readmes_32_point_figures_hold(shipped):
    readme = (ROOT / "README.md").read_text()
    t = shipped
    threat, tact = t.loc["dulles.threat_strength"], t.loc["dulles.tact"]
    assert quoted(readme, "S1 of threat_strength") == (threat.S1, threat.S1_low, threat.S1_high)
    assert quoted(readme, "ST of tact") == (tact.ST, tact.ST_low, tact.ST_high)
    assert f"below threat_strength's ({threat.ST:.2f})" in readme.replace("\n", " ")
    assert tact.ST < threat.ST  # what the README says about ranking at 32 base points
