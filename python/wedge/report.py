"""``python3 -m wedge report results.h5 --out DIR``: PNG figures and an index.html."""
from __future__ import annotations

import argparse
import html
import pathlib
import sys

import matplotlib

matplotlib.use("Agg")  # files only, never a window
import matplotlib.pyplot as plt  # noqa: E402

from . import plots, sensitivity  # noqa: E402
from .results import Results, ResultsError  # noqa: E402


def _save(fig, path: pathlib.Path) -> str:
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path.name


def write_report(results: Results, out: pathlib.Path) -> pathlib.Path:
    """Writes the figures and index.html for any results file; returns the index path."""
    out.mkdir(parents=True, exist_ok=True)
    figures = []
    keys = results.swept_keys
    for field in ("format", "alliance", "okinawa"):
        if field in results.fields:
            figures.append((f"{field} at point 0", _save(plots.outcome_distribution(results, field), out / f"{field}.png")))
    if keys:
        for key in keys[:4]:
            name = f"format_vs_{key.replace('.', '_')}.png"
            figures.append((f"format against {key}", _save(plots.probability_vs_key(results, key, "format"), out / name)))
        if len(keys) >= 2:
            figures.append((f"P(treaty) over {keys[0]} and {keys[1]}",
                            _save(plots.heatmap(results, keys[0], keys[1]), out / "heatmap_treaty.png")))
        if results.attrs["design"] == "saltelli":
            table = sensitivity.sobol_indices(results, "format", "treaty", n_bootstrap=200)
            figures.append(("total Sobol indices of P(treaty)",
                            _save(plots.tornado(table, "ST", title="P(treaty): total Sobol indices"), out / "tornado.png")))
        else:
            effects = sensitivity.main_effects(results, "format", "treaty")
            figures.append(("main effects on P(treaty) (eta squared)",
                            _save(plots.tornado(effects, "eta2", title="P(treaty): correlation ratio"), out / "tornado.png")))
    table = results.summary(["format", "alliance", "okinawa"])
    if len(table) > 600:
        table = table.head(600)
    attrs = results.attrs
    rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(f'{v:.4f}' if isinstance(v, float) else str(v))}</td>" for v in row) + "</tr>"
        for row in table.itertuples(index=False))
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in table.columns)
    images = "".join(f'<figure><img src="{html.escape(src)}" alt="{html.escape(title)}"><figcaption>{html.escape(title)}</figcaption></figure>'
                     for title, src in figures)
    experiment = html.escape(attrs["experiment"])
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>wedge report: {html.escape(results.path.name)}</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:1100px}} table{{border-collapse:collapse;font-size:12px}}
td,th{{border:1px solid #ccc;padding:2px 6px;text-align:right}} figure{{display:inline-block;margin:8px}}
img{{max-width:520px}} pre{{background:#f4f4f4;padding:8px;max-height:300px;overflow:auto}}</style></head>
<body><h1>{html.escape(results.description or results.path.name)}</h1>
<p>{html.escape(results.path.name)}: model {html.escape(str(attrs['model']))} v{html.escape(str(attrs['model_version']))},
{attrs['points']} design point(s) ({html.escape(str(attrs['design']))}), {attrs['runs_done']} runs, seed {attrs['seed']},
{'complete' if results.complete else 'PARTIAL'}; wedge {html.escape(str(attrs['engine_version']))} (git {html.escape(str(attrs['git_commit']))}), created {html.escape(str(attrs['created']))}.</p>
{images}
<h2>Summary (probabilities with 95% Wilson intervals)</h2>
<table><tr>{head}</tr>{rows}</table>
<h2>Experiment</h2><pre>{experiment}</pre>
</body></html>
"""
    index = out / "index.html"
    index.write_text(page, encoding="utf-8")
    return index


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m wedge", description="wedge results tools")
    sub = parser.add_subparsers(dest="command", required=True)
    rep = sub.add_parser("report", help="write PNG figures and index.html for a results file")
    rep.add_argument("results", help="results file (.h5)")
    rep.add_argument("--out", required=True, help="output directory")
    rep.add_argument("--allow-partial", action="store_true", help="accept an interrupted run's file")
    args = parser.parse_args(argv)
    try:
        with Results(args.results, allow_partial=args.allow_partial) as results:
            index = write_report(results, pathlib.Path(args.out))
    except (ResultsError, FileNotFoundError, KeyError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"wrote {index}")
    return 0
