"""`pip install` of the package into a fresh virtual environment (README's command), then the
README's Python example run there, from a directory where the source tree is not on sys.path."""
import os
import re
import shutil
import subprocess
import sys
import time

from conftest import ROOT

INSTALL = "/usr/bin/python3 -m venv --system-site-packages .venv && .venv/bin/pip install --no-build-isolation ."


def readme_python_section():
    text = (ROOT / "README.md").read_text()
    section = text[text.index("### Python\n"):]
    return section[:section.index("\n### ", 1)]


def test_readme_install_command_and_example_work_in_a_fresh_venv(files, tmp_path):
    section = readme_python_section()
    blocks = re.findall(r"```(\w+)\n(.*?)```", section, flags=re.S)
    assert blocks[0] == ("sh", INSTALL + "\n"), "the Python section starts with the install command"
    example = next(code for lang, code in blocks if lang == "python")

    venv = tmp_path / ".venv"
    # No network: pip must find everything it needs on this machine (PIP_NO_INDEX), and builds
    # the wheel afresh (PIP_NO_CACHE_DIR).
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path), "PIP_NO_INDEX": "1",
           "PIP_NO_CACHE_DIR": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1", "CMAKE_BUILD_PARALLEL_LEVEL": "2",
           "MPLBACKEND": "Agg"}
    started = time.monotonic()
    subprocess.run(["/usr/bin/python3", "-m", "venv", "--system-site-packages", str(venv)], check=True, env=env)
    made = time.monotonic()
    install = subprocess.run([str(venv / "bin/pip"), "install", "--no-build-isolation", "."], cwd=ROOT, env=env,
                             capture_output=True, text=True)
    assert install.returncode == 0, install.stdout + install.stderr
    installed = time.monotonic()
    print(f"venv {made - started:.1f} s, pip install {installed - made:.1f} s")

    # The README's example, run by the venv's interpreter in isolated mode (-I: no PYTHONPATH,
    # no script directory) from a directory holding only the results files and the experiments.
    work = tmp_path / "work"
    (work / "results").mkdir(parents=True)
    # Every results file the example opens (results/NAME.h5), made by conftest's `files`.
    for name in sorted(set(re.findall(r"results/(\w+)\.h5", example))):
        assert name in files, f"the README's example opens results/{name}.h5, which conftest does not make"
        shutil.copy(files[name], work / f"results/{name}.h5")
    (work / "experiments").symlink_to(ROOT / "experiments")
    # Then where the package and its engine module were imported from.
    (work / "example.py").write_text(example + "\nimport sys\nprint(wedge.__file__)\nprint(wedge._core.__file__)"
                                     "\nprint(sys.path)\n")
    python = str(venv / "bin/python")
    result = subprocess.run([python, "-I", "example.py"], cwd=work, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    where = result.stdout.splitlines()[-3:]
    site = str(venv / "lib")
    assert where[0].startswith(site) and where[1].startswith(site), where
    assert str(ROOT / "python") not in where[2]
    package = venv / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages" / "wedge"
    assert (package / "py.typed").is_file()

    usage = subprocess.run([python, "-I", "-m", "wedge", "--help"], cwd=work, env=env, capture_output=True,
                           text=True, check=True).stdout
    assert "report" in usage and "SUBCOMMAND" in usage
