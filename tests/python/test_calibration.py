"""wedge.calibrate: the same document as `wedge calibrate --json`, histories given as dicts, the
tables against the document's own numbers, errors, and the posterior plots."""
import json

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import wedge  # noqa: E402
from wedge import plots  # noqa: E402
from wedge.calibration import history_text  # noqa: E402

from conftest import ROOT, cli_options, wedge as run_wedge  # noqa: E402

EXAMPLE = ROOT / "experiments" / "calibrate" / "history_1956.toml"
SMALL = dict(points=24, runs=400, refine=1, refine_points=16, draws=30, top=5)


@pytest.fixture(scope="module")
def cal():
    return wedge.calibrate(EXAMPLE, threads=2, **SMALL)


def _comparable(document):
    d = dict(document)
    d.pop("seconds")
    d.pop("experiment")
    return d


def test_python_and_command_line_agree(cal):
    out = run_wedge("calibrate", EXAMPLE, *cli_options(SMALL), "--threads", 1, "--json")
    assert out.stderr == ""
    assert _comparable(json.loads(out.stdout)) == _comparable(cal.document)


def test_history_as_dict_equals_the_default_and_the_command_line_syntax():
    assert history_text(wedge.HISTORY_1956) == ("format=declaration,islands_promised=2,islands_transferred=0,"
                                                "okinawa=residual,threat_round!=0,alliance=intact")
    assert history_text({"format": ["declaration", "treaty"], "alignment": {"min": 0.45}, "crisis": True}) == \
        "format=declaration|treaty,alignment=0.45..,crisis=1"
    small = dict(points=8, runs=100, draws=20)
    by_dict = wedge.calibrate(EXAMPLE, history=wedge.HISTORY_1956, **small)
    by_text = wedge.calibrate(EXAMPLE, history=history_text(wedge.HISTORY_1956), **small)
    assert _comparable(by_dict.document) == _comparable(by_text.document)
    # Two observations of different outcomes: both kept, with their counts.
    two = wedge.calibrate(EXAMPLE, history=[{"format": "treaty"}, {"format": "none"}, {"format": "treaty"}], **small)
    assert two.histories == [("format = treaty", 2), ("format = none", 1)]
    assert isinstance(two.points["matches"].iloc[0], list)


def test_tables_follow_the_document(cal):
    pts = cal.points
    assert len(pts) == 24 + 16
    assert list(pts["stage"].unique()) == [0, 1]
    p = pts["matches"] / pts["runs"]
    np.testing.assert_allclose(pts["likelihood"], p)
    np.testing.assert_allclose(pts["se"], np.sqrt(p * (1 - p) / pts["runs"]))
    w = pts["weight"].to_numpy()
    assert w.sum() == pytest.approx(1.0)
    # Weights are likelihood / proposal, normalised.
    np.testing.assert_allclose(w, (pts["likelihood"] / pts["proposal"]) / (pts["likelihood"] / pts["proposal"]).sum())
    for key in cal.keys:
        assert cal.posterior.loc[key, "mean"] == pytest.approx(float((w * pts[key]).sum()))
        assert cal.posterior.loc[key, "mean_low"] <= cal.posterior.loc[key, "mean_high"]
        m = cal.marginal(key)
        assert m["mass"].sum() == pytest.approx(1.0)
        edges = np.append(m["low"].to_numpy(), m["high"].iloc[-1])
        hist, _ = np.histogram(pts[key], bins=edges, weights=w)
        np.testing.assert_allclose(m["mass"], hist, atol=1e-12)
    assert cal.ess[0] == pytest.approx(1.0 / float((w ** 2).sum()))
    assert cal.evidence[0] == pytest.approx(float((pts["likelihood"] / pts["proposal"]).mean()))
    best = cal.best()
    assert len(best) == 5
    assert best["likelihood"].is_monotonic_decreasing
    assert best["likelihood"].iloc[0] == pts["likelihood"].max()
    draws = cal.sample(50)
    assert draws.shape == (50, len(cal.keys))


def test_errors_name_the_problem():
    with pytest.raises(ValueError, match=r"unknown outcome field 'formt' \(did you mean 'format'"):
        wedge.calibrate(EXAMPLE, history={"formt": "declaration"}, points=4, runs=10)
    with pytest.raises(ValueError, match="format has no category 'peace'"):
        wedge.calibrate(EXAMPLE, history="format=peace", points=4, runs=10)
    with pytest.raises(ValueError, match=r"calibrate needs a \[sweep\]"):
        wedge.calibrate({"dulles": {"tact": 0.5}}, points=4, runs=10)
    with pytest.raises(ValueError, match=r"^points = 1: must be an integer in \[2, 100000\]$"):
        wedge.calibrate(EXAMPLE, points=1, runs=10)
    with pytest.raises(TypeError, match="unknown field"):
        history_text({"format": {"nor": "treaty"}})
    with pytest.raises(KeyError, match="not a calibrated key"):
        wedge.calibrate(EXAMPLE, points=4, runs=10, draws=20).marginal("dulles.tact")


def test_dict_experiment_with_an_integer_and_a_boolean_key():
    experiment = {"run": {"seed": 3},
                  "sweep": {"design": "lhs", "points": 4,
                            "keys": {"negotiation.rounds": {"min": 2, "max": 6}, "soviet.straits_clause": {}}}}
    c = wedge.calibrate(experiment, history={"format": "declaration"}, points=16, runs=200, draws=20)
    assert c.keys == ["negotiation.rounds", "soviet.straits_clause"]
    assert set(c.points["soviet.straits_clause"]) <= {0.0, 1.0}
    assert (c.points["negotiation.rounds"] == c.points["negotiation.rounds"].round()).all()
    assert list(c.marginal("negotiation.rounds")["low"]) == [1.5, 2.5, 3.5, 4.5, 5.5]


def test_plots(cal):
    fig = plots.posterior_marginals(cal)
    assert sum(ax.get_visible() for ax in fig.axes) == len(cal.keys)
    fig = plots.posterior_pairs(cal, keys=cal.keys[:3])
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 6  # 3 diagonal + 3 pairs below it
    # The diagonal's bars carry the posterior mass of the key's marginal.
    bars = visible[0].patches
    assert sum(b.get_height() for b in bars) == pytest.approx(1.0)
