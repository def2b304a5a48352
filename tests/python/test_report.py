import os
import pathlib
import subprocess
import sys
import tempfile
import warnings

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from conftest import ROOT  # noqa: E402

import wedge  # noqa: E402
from wedge import plots  # noqa: E402
from wedge.report import write_report  # noqa: E402

CHROMIUM = pathlib.Path("/usr/bin/chromium")
CHROMEDRIVER = pathlib.Path("/usr/bin/chromedriver")
ENV = {"PYTHONPATH": str(ROOT / "python"), "MPLBACKEND": "Agg", "PATH": "/usr/bin:/bin"}


def run_report(path, out):
    return subprocess.run([sys.executable, "-m", "wedge", "report", str(path), "--out", str(out)],
                          capture_output=True, text=True, env=ENV)


@pytest.fixture(scope="module")
def reports(files, tmp_path_factory):
    """index.html of each kind of file, written through the command line."""
    out, procs = {}, {}
    for name in ("baseline", "grid", "lhs", "saltelli"):  # two at a time: make test runs on 2 cores
        d = tmp_path_factory.mktemp(f"report-{name}")
        procs[name] = (d, subprocess.Popen([sys.executable, "-m", "wedge", "report", str(files[name]), "--out", str(d)],
                                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV))
        if len(procs) % 2 == 0:
            for n in list(procs)[-2:]:
                procs[n][1].wait()
    for name, (d, proc) in procs.items():
        stdout, stderr = proc.communicate()
        assert proc.returncode == 0, stderr
        assert stdout.strip() == f"wrote {d / 'index.html'}"
        out[name] = d / "index.html"
    return out


def test_report_writes_figures_and_index(reports):
    for name, index in reports.items():
        page = index.read_text()
        assert "<img" in page and "Summary" in page and 'id="findings"' in page
        pngs = list(index.parent.glob("*.png"))
        for img in pngs:
            assert f'src="{img.name}"' in page
        assert len(pngs) >= {"baseline": 3, "grid": 9, "lhs": 6, "saltelli": 9}[name]
    grid = reports["grid"].read_text()
    assert "Grid: threat strength x reward power" in grid
    # Format, alliance and Okinawa are analysed, not only the treaty.
    for name in ("grid", "lhs", "saltelli"):
        page = reports[name].read_text()
        for field in ("format", "alliance", "okinawa"):
            assert f"{field}_vs_keys.png" in page and f"effects_{field}.png" in page
            assert f"P({field} = " in page
    assert "sobol_alliance.png" in reports["saltelli"].read_text()
    assert 'id="sobol"' in reports["saltelli"].read_text() and 'id="sobol"' not in reports["lhs"].read_text()


def test_report_opening_paragraph_follows_the_numbers(files, reports):
    page = reports["lhs"].read_text()
    with wedge.open(files["lhs"]) as r:
        table = wedge.main_effects_table(r)
    treaty = table[(table["outcome"] == "format") & (table["category"] == "treaty")].sort_values("eta2", ascending=False)
    top = treaty.iloc[0]
    # The key that matters most for P(treaty) is named first, with its eta² and reference.
    assert (f"P(format = treaty) ({treaty['noise_share'].iloc[0]:.1%} of its variance over the design is Monte "
            f"Carlo noise): depends most on {top['key']} (eta² {top['eta2']:.2f}; a key with no effect scores up "
            f"to {top['eta2_ref']:.2f})") in page
    for key in treaty[treaty["below_noise"]]["key"]:
        assert key in page.split("P(format = treaty)")[1].split("</li>")[0]
    salt = reports["saltelli"].read_text()
    assert "P(alliance = intact) (" in salt and "ST " in salt and "Monte Carlo noise" in salt


def test_report_of_a_bad_file_is_a_clear_error(files, tmp_path):
    result = run_report(files["foreign"], tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and "not a wedge results file" in result.stderr


def test_report_of_a_partial_file_suggests_its_own_option(files, tmp_path):
    # The advice names what `python3 -m wedge report` accepts (it named wedge.open's
    # allow_partial=True, which the command does not take).
    result = run_report(files["partial"], tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and "interrupted" in result.stderr
    assert "--allow-partial" in result.stderr and "allow_partial" not in result.stderr


def test_unordered_sweeps_get_scatter_not_lines(files):
    def lines_through_points(fig):
        return [line for ax in fig.axes for line in ax.lines
                if len(line.get_xdata()) > 2 and line.get_linestyle() not in ("None", "none", "")]

    with wedge.open(files["lhs"]) as r:
        fig = plots.probability_vs_key(r, "dulles.tact", "alliance")
        assert lines_through_points(fig) == []
        assert len(fig.axes[0].collections) >= 4  # one scatter per category
        # A binned heatmap: 6 x 6 cells with the bin centres as ticks, not 64 x 64.
        heat = plots.heatmap(r, "dulles.threat_strength", "dulles.tact", "format", "treaty")
        ticks = heat.axes[0].get_xticklabels()
        assert len(ticks) == 6 and all(float(t.get_text()) > 0 for t in ticks)
        # Axes name the key's meaning from the registry.
        assert fig.axes[0].get_xlabel().replace("\n", " ") == wedge.describe("dulles.tact")
        assert "fully staffed" in fig.axes[0].get_xlabel()
    with wedge.open(files["grid"]) as r:
        fig = plots.probability_vs_key(r, "dulles.threat_strength", "format")
        assert len(lines_through_points(fig)) == 3  # a grid's values are ordered: lines over them
        heat = plots.heatmap(r, "dulles.threat_strength", "dulles.reward_power")
        assert [t.get_text() for t in heat.axes[0].get_xticklabels()] == ["0", "1", "2"]
        # A chart of one point names its parameter values.
        design = r.design
        fig = plots.outcome_distribution(r, "alliance", 5)
        title = fig.axes[0].get_title()
        for key in design.columns:
            assert f"{key} = {design.loc[5, key]:.4g}" in title
    for f in (fig, heat):
        matplotlib.pyplot.close(f)


def test_parameters_registry():
    table = wedge.parameters()
    assert "dulles.threat_strength" in table.index
    row = table.loc["dulles.threat_strength"]
    assert row["meaning"].startswith("kappa, strength of the Okinawa threat")
    assert (row["min"], row["max"], row["type"]) == (0.0, 5.0, "real")
    assert table.loc["negotiation.rounds", "type"] == "integer"
    assert wedge.describe("dulles.tact") == "dulles.tact — " + table.loc["dulles.tact", "meaning"]
    assert wedge.describe("not.a.key") == "not.a.key"
    # The registry is the one `wedge params` prints.
    listing = subprocess.run([str(ROOT / "build" / "release" / "wedge"), "params"], capture_output=True,
                             text=True, check=True).stdout
    for key, meaning in table["meaning"].items():
        assert key in listing and meaning in listing


# -- in a real browser ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def browser():
    for path in (CHROMIUM, CHROMEDRIVER):
        if not path.exists():
            pytest.fail(f"{path} is missing: run scripts/install-deps.sh (chromium, chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="wedge-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
                "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--window-size=1400,1000"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER), log_output=os.devnull), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def table_rows(driver, table_id):
    """The rendered table's header and rows, as the browser's DOM holds them."""
    rows = driver.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0] + ' tr'))"
        ".map(r => Array.from(r.cells).map(c => c.textContent));", f"#{table_id}")
    assert rows, f"no table #{table_id}"
    return rows[0], rows[1:]


def open_page(driver, index):
    driver.get_log("browser")  # drop anything logged before
    driver.get(index.as_uri())
    driver.execute_script("return document.readyState")
    images = driver.execute_script(
        "return Array.from(document.images).map(i => [i.getAttribute('src'), i.complete, i.naturalWidth]);")
    assert images, f"{index}: no image"
    for src, complete, width in images:
        assert complete and width > 0, f"{index}: image {src} did not load"
    logs = driver.get_log("browser")
    assert logs == [], f"{index}: the browser logged {logs}"
    return images


def test_report_in_a_browser(files, reports, browser):
    for name in ("baseline", "grid", "lhs", "saltelli"):
        images = open_page(browser, reports[name])
        assert len(images) == len(list(reports[name].parent.glob("*.png")))
        with wedge.open(files[name]) as r:
            summary = r.summary(["format", "alliance", "okinawa"])
            head, rows = table_rows(browser, "summary")
            assert head == list(summary.columns)
            assert len(rows) == len(summary)
            shown = pd.DataFrame(rows, columns=head)
            assert (shown["point"].astype(int).to_numpy() == summary["point"].to_numpy()).all()
            assert (shown["field"].to_numpy() == summary["field"].to_numpy()).all()
            assert (shown["category"].to_numpy() == summary["category"].to_numpy()).all()
            assert (shown["count"].astype(int).to_numpy() == summary["count"].to_numpy()).all()
            for col in ("p", "ci_low", "ci_high"):  # 4 decimals on the page
                assert np.abs(shown[col].astype(float).to_numpy() - summary[col].to_numpy()).max() <= 5e-5 + 1e-12
            for key in r.swept_keys:  # 6 significant digits
                assert np.allclose(shown[key].astype(float), summary[key], rtol=1e-5, atol=0)
            if name == "baseline":
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", wedge.SensitivityWarning)
                effects = wedge.main_effects_table(r)
                sobol = wedge.sobol_table(r, ("format", "alliance", "okinawa")) \
                    if name == "saltelli" else None
        head, rows = table_rows(browser, "effects")
        shown = pd.DataFrame(rows, columns=head)
        assert list(shown["key"]) == list(effects["key"]) and list(shown["category"]) == list(effects["category"])
        for col in ("eta2", "eta2_null", "eta2_ref"):
            assert np.abs(shown[col].astype(float).to_numpy() - effects[col].to_numpy()).max() <= 5e-5 + 1e-12
        assert list(shown["below_noise"]) == ["yes" if b else "no" for b in effects["below_noise"]]
        if sobol is not None:
            head, rows = table_rows(browser, "sobol")
            shown = pd.DataFrame(rows, columns=head)
            assert len(shown) == len(sobol) == 3 * (3 + 4 + 2)
            for col in ("S1", "S1_low", "S1_high", "ST", "ST_low", "ST_high", "noise_share"):
                values = shown[col].replace("", "nan").astype(float).to_numpy()
                assert np.allclose(values, sobol[col].to_numpy(), atol=5e-5 + 1e-12, rtol=0, equal_nan=True), col
