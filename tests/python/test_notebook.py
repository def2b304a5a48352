"""examples/tutorial.ipynb: stored without outputs, and executed top to bottom on a Jupyter kernel
(Debian's python3-nbclient and python3-ipykernel) without an error; the numbers it shows are the
package's."""
import os

import pytest
from conftest import ROOT

import wedge

NOTEBOOK = ROOT / "examples" / "tutorial.ipynb"


def read():
    import nbformat

    return nbformat.read(NOTEBOOK, as_version=4)


def test_notebook_is_stored_without_outputs():
    import nbformat

    nb = read()
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert len(code) >= 10
    for cell in code:
        assert cell.outputs == [] and cell.execution_count is None, cell.source[:60]
    assert nb.metadata.kernelspec.name == "python3"


def text_of(cell) -> str:
    out = []
    for o in cell.outputs:
        if o.output_type == "stream":
            out.append(o.text)
        elif o.output_type in ("execute_result", "display_data"):
            out.append(o.data.get("text/plain", ""))
    return "\n".join(out)


@pytest.fixture(scope="module")
def executed():
    from nbclient import NotebookClient

    nb = read()
    # The kernel is a new process: it finds the package through PYTHONPATH, made absolute because the
    # kernel runs in examples/.
    previous = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = str(ROOT / "python")
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    try:
        NotebookClient(nb, timeout=600, kernel_name="python3",
                       resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    finally:
        if previous is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = previous
    return nb


def test_notebook_runs_from_baseline_to_sensitivity(executed):
    code = [c for c in executed.cells if c.cell_type == "code"]
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert errors == []
    assert all(c.execution_count is not None for c in code)
    images = sum("image/png" in o.get("data", {}) for c in code for o in c.outputs)
    assert images >= 5  # distributions, counterfactual, paired differences, sweep, Sobol indices


def test_notebook_shows_the_packages_numbers(executed):
    tagged = {t: c for c in executed.cells for t in c.metadata.get("tags", [])}
    baseline = wedge.simulate(ROOT / "experiments" / "scenarios" / "baseline.toml", runs=20_000, seed=1)
    treaty = baseline["points"][0]["counts"]["format"]["treaty"] / 20_000
    line = next(l for l in text_of(tagged["baseline-table"]).splitlines() if " treaty " in l)
    assert f"{treaty:.4f}" in line.split()
    pairs = wedge.compare(ROOT / "experiments" / "scenarios" / "baseline.toml",
                          ROOT / "experiments" / "scenarios" / "c2_no_okinawa_threat.toml", runs=20_000, seed=1)
    row = pairs[(pairs.outcome == "format") & (pairs.category == "treaty")].iloc[0]
    line = next(l for l in text_of(tagged["paired-table"]).splitlines() if " treaty " in l)
    assert f"{row['diff']:.4f}" in line.split() and f"{row.paired_low:.4f}" in line.split()
