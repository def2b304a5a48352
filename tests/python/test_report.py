import subprocess
import sys

from conftest import ROOT


def test_report_writes_figures_and_index(files, tmp_path):
    for name in ("baseline", "grid", "saltelli"):
        out = tmp_path / name
        result = subprocess.run([sys.executable, "-m", "wedge", "report", str(files[name]), "--out", str(out)],
                                capture_output=True, text=True, env={"PYTHONPATH": str(ROOT / "python"),
                                                                     "MPLBACKEND": "Agg", "PATH": "/usr/bin:/bin"})
        assert result.returncode == 0, result.stderr
        index = (out / "index.html").read_text()
        assert "<img" in index and "Summary" in index
        for img in out.glob("*.png"):
            assert img.name in index
        assert len(list(out.glob("*.png"))) >= (3 if name == "baseline" else 5)
    grid_index = (tmp_path / "grid" / "index.html").read_text()
    assert "Grid: threat strength x reward power" in grid_index


def test_report_of_a_bad_file_is_a_clear_error(files, tmp_path):
    result = subprocess.run([sys.executable, "-m", "wedge", "report", str(files["foreign"]), "--out", str(tmp_path)],
                            capture_output=True, text=True, env={"PYTHONPATH": str(ROOT / "python"), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and "not a wedge results file" in result.stderr
