import matplotlib

matplotlib.use("Agg")

import wedge  # noqa: E402
from wedge import plots  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"


def render(fig, path):
    fig.savefig(path)
    data = path.read_bytes()
    assert data.startswith(PNG) and len(data) > 2000


def test_every_plot_renders_to_png(files, tmp_path):
    with wedge.open(files["baseline"]) as base, wedge.open(files["grid"]) as grid, \
            wedge.open(files["saltelli"]) as salt:
        render(plots.outcome_distribution(base, "format"), tmp_path / "dist.png")
        render(plots.probability_vs_key(grid, "dulles.threat_strength", "format"), tmp_path / "vs.png")
        render(plots.heatmap(grid, "dulles.threat_strength", "dulles.reward_power"), tmp_path / "heat.png")
        render(plots.compare([base, grid], ["baseline", "grid point 0"], "alliance"), tmp_path / "cmp.png")
        render(plots.tornado(wedge.sobol_indices(salt, n_bootstrap=50), "ST"), tmp_path / "tornado.png")
        render(plots.tornado(wedge.main_effects(grid), "eta2"), tmp_path / "tornado2.png")
