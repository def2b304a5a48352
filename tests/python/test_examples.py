import subprocess
import sys

from conftest import ROOT


def test_the_counterfactuals_example_runs(tmp_path):
    result = subprocess.run([sys.executable, str(ROOT / "examples/counterfactuals.py"), "--runs", "20000",
                             "--out", str(tmp_path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    lines = [l for l in result.stdout.splitlines() if "P(treaty)" in l]
    assert len(lines) == 3
    treaty = {l.split()[0]: float(l.split()[3]) for l in lines}
    assert treaty["c2"] > treaty["baseline"] > treaty["c4"]  # MODEL.md C2 and C4, on 20,000 runs
    assert (tmp_path / "compare_format.png").stat().st_size > 2000
