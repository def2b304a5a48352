import subprocess
import sys

from conftest import ROOT


def test_an_older_python_is_told_it_needs_3_11():
    code = "import sys; sys.version_info = (3, 10, 12); import wedge"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={"PYTHONPATH": str(ROOT / "python")})
    assert proc.returncode != 0
    assert "wedge needs Python 3.11 or newer (it uses tomllib)" in proc.stderr
