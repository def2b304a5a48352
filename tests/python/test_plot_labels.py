"""Issue 16 item 7: plots.tornado takes Results (it computes the sensitivity table) as well as a
table; results without a description get a legend label from the file name or "baseline"."""
import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import wedge  # noqa: E402
from wedge import plots  # noqa: E402


def bars(fig):
    """(tick labels top to bottom... as drawn, bar widths) of a tornado figure's first axes."""
    ax = fig.axes[0]
    return [t.get_text() for t in ax.get_yticklabels()], [p.get_width() for p in ax.patches]


def test_tornado_of_a_saltelli_results_equals_tornado_of_its_sobol_table(files):
    with wedge.open(files["saltelli"]) as r:
        from_results = plots.tornado(r, outcome="alliance", category="intact")
        from_table = plots.tornado(wedge.sobol_indices(r, "alliance", "intact"), "ST")
        labels_r, widths_r = bars(from_results)
        labels_t, widths_t = bars(from_table)
        assert labels_r == labels_t and len(labels_r) == 3
        np.testing.assert_array_equal(widths_r, widths_t)
        title = from_results.axes[0].get_title()
        assert "P(alliance = intact)" in title and "Saltelli: US binding strategies" in title
        # value="S1" from Results too; eta2 asks for main effects.
        s1 = bars(plots.tornado(r, "S1", outcome="alliance", category="intact"))[1]
        table = wedge.sobol_indices(r, "alliance", "intact")
        np.testing.assert_array_equal(sorted(s1), sorted(table["S1"]))
    matplotlib.pyplot.close("all")


def test_tornado_of_a_grid_results_uses_main_effects(files):
    with wedge.open(files["grid"]) as r:
        fig = plots.tornado(r)  # format = treaty by default; not a Saltelli design: eta2
        effects = wedge.main_effects(r, "format", "treaty").groupby("key", sort=False).first()
        np.testing.assert_array_equal(sorted(bars(fig)[1]), sorted(effects["eta2"]))
        assert fig.axes[0].get_xlabel() == "eta2"
    with wedge.open(files["baseline"]) as r, pytest.raises(ValueError, match="single scenario; sensitivity needs a sweep"):
        plots.tornado(r)
    with wedge.open(files["saltelli"]) as r, pytest.raises(KeyError, match="no column 'S3'"):
        plots.tornado(wedge.sobol_indices(r), "S3")
    matplotlib.pyplot.close("all")


def test_compare_labels_results_without_a_description(files, tmp_path):
    with wedge.open(files["baseline"]) as base, wedge.open(files["grid"]) as grid:
        assert base.description == ""  # `wedge run` of the built-in baseline has none
        fig = plots.compare([base, grid])
        legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
        assert legend[0] == "baseline"  # from the file's name, baseline.h5
        assert legend[1].startswith(grid.description + ": ")  # a sweep: the point's values follow
        assert all(legend)
        fig = plots.compare([base, grid], ["", "grid"])  # an empty label falls back the same way
        legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
        assert legend[0] == "baseline" and legend[1].startswith("grid: ")
        with pytest.raises(ValueError, match="1 labels for 2 results"):
            plots.compare([base, grid], ["only one"])
    # A file named otherwise is labelled by its name.
    import shutil

    other = tmp_path / "no_threat_run.h5"
    shutil.copy(files["baseline"], other)
    with wedge.open(other) as r:
        legend = [t.get_text() for t in plots.compare([r]).axes[0].get_legend().get_texts()]
        assert legend == ["no_threat_run"]
    matplotlib.pyplot.close("all")


def test_compare_table_labels_dicts_and_none_as_baseline(monkeypatch):
    """wedge.compare's A and B labels: the description, else the file's name, else (a dict) what
    it changes, else "baseline"."""
    from conftest import ROOT

    monkeypatch.chdir(ROOT)  # the dict's extends below is relative to the working directory
    t = wedge.compare(None, {"dulles": {"threat_strength": 0.0}}, runs=500)
    assert t.attrs["a"] == "baseline" and t.attrs["b"] == "dulles.threat_strength=0.0"
    t = wedge.compare(None, {"run": {"runs": 9}}, runs=500)  # a dict that changes no parameter
    assert t.attrs["b"] == "baseline"
    t = wedge.compare(None, {"extends": "experiments/scenarios/c2_no_okinawa_threat.toml"}, runs=500)
    assert t.attrs["b"] == "C2: no Okinawa threat (rewards only)"  # a description inherited
    same = wedge.compare(None, ROOT / "experiments" / "scenarios" / "c2_no_okinawa_threat.toml", runs=500)
    assert list(t["diff"]) == list(same["diff"])
    t = wedge.compare(None, {"extends": "c2_no_okinawa_threat.toml"}, runs=500,
                      base=ROOT / "experiments" / "scenarios")
    assert list(t["diff"]) == list(same["diff"])
    t = wedge.compare(None, {"description": "no threat", "dulles": {"threat_strength": 0.0}}, runs=500)
    assert t.attrs["b"] == "no threat"
