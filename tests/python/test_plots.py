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


def test_heatmap_cells_show_digits_suited_to_their_range():
    # A rare outcome: P up to 0.00028. Two decimals printed "0.00" in every cell.
    import numpy as np
    import pandas as pd

    class Small:
        fields = {"alliance": ["intact", "rupture_realign"]}

        def summary(self, fields=None):
            rows = [{"point": i, "dulles.tact": a, "dulles.threat_strength": b, "category": "rupture_realign",
                     "p": p} for i, (a, b, p) in enumerate([(0.0, 0.0, 0.00028), (0.0, 1.0, 0.0001),
                                                            (1.0, 0.0, 0.0), (1.0, 1.0, 0.00004)])]
            return pd.DataFrame(rows)

        def category(self, field, cat):
            return cat

    fig = plots.heatmap(Small(), "dulles.tact", "dulles.threat_strength", "alliance", "rupture_realign")
    texts = {t.get_text() for t in fig.axes[0].texts}
    assert texts == {"0.00028", "0.00010", "0.00000", "0.00004"}, texts
    assert plots.cell_decimals([0.62, 0.1]) == 2 and plots.cell_decimals([np.nan]) == 2
