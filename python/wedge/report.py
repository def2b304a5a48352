"""``python3 -m wedge report results.h5 --out DIR``: PNG figures and an index.html.

The page opens with what the numbers say (which keys matter most for which outcome, with their
uncertainty), then figures for format, alliance and Okinawa, the sensitivity tables (Sobol indices
with intervals and noise share for saltelli sweeps; main effects with their no-effect reference for
every sweep), any warnings the analysis raised, the summary table and the experiment.
"""
from __future__ import annotations

import argparse
import html
import pathlib
import sys
import warnings

import matplotlib

matplotlib.use("Agg")  # files only, never a window
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from . import plots, sensitivity  # noqa: E402
from .registry import describe  # noqa: E402
from .results import Results, ResultsError, ResultsPartialError  # noqa: E402

OUTCOMES = ("format", "alliance", "okinawa")
#: Rows of the summary table shown in the page (the rest stay in the file).
MAX_SUMMARY_ROWS = 2000


def _save(fig, path: pathlib.Path) -> str:
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path.name


def _esc(value) -> str:
    return html.escape(str(value))


def _num(value, digits: int = 4) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return "" if not np.isfinite(value) else f"{value:.{digits}f}"
    return str(value)


def _table(frame: pd.DataFrame, table_id: str, formats: dict | None = None) -> str:
    """An HTML table with id ``table_id``; ``formats`` maps a column to a function of the row."""
    formats = formats or {}
    head = "".join(f"<th>{_esc(c)}</th>" for c in frame.columns)
    body = []
    for _, row in frame.iterrows():
        cells = []
        for c in frame.columns:
            text = formats[c](row) if c in formats else _num(row[c])
            cells.append(f"<td>{_esc(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f'<table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def _interval(name):
    return lambda r: f"{r[name]:.3f} [{r[name + '_low']:.3f}, {r[name + '_high']:.3f}]" if np.isfinite(r[name]) else "undefined"


def _report_categories(results, outcome):
    """Categories worth a sentence: all of them, except one of a two-category field (complements)."""
    cats = results.fields[outcome]
    return cats[-1:] if len(cats) == 2 else cats


def _noise_phrase(share) -> str:
    """How much of an outcome's variance over the design is Monte Carlo noise, in words."""
    if not np.isfinite(share):
        return ""
    if share >= 1:
        return "its variance over the design is no larger than its Monte Carlo noise"
    return f"{share:.1%} of its variance over the design is Monte Carlo noise"


def _findings_sobol(results, table: pd.DataFrame) -> list[str]:
    items = []
    for outcome in OUTCOMES:
        if outcome not in set(table["outcome"]):
            continue
        for cat in _report_categories(results, outcome):
            rows = table[(table["outcome"] == outcome) & (table["category"] == cat)]
            label = f"P({outcome} = {cat})"
            if rows["ST"].isna().all():
                items.append(f"{label}: does not vary beyond Monte Carlo noise over the design; no index.")
                continue
            rows = rows.sort_values("ST", ascending=False)
            share = rows["noise_share"].iloc[0]
            if rows["ST_unreliable"].all() and rows["S1_unreliable"].all():
                items.append(f"{label} ({_noise_phrase(share)}): too rare or too saturated for this design "
                             f"(its variance rests on about {rows['effective_base_points'].iloc[0]:.1f} base points); "
                             "its Sobol indices are unreliable (see the warnings).")
                continue
            matter = rows[~rows["ST_noise"]]

            def index(r, name):
                if r[f"{name}_unreliable"]:
                    return f"{name} {r[name]:.2f}, unreliable"
                return f"{name} {r[name]:.2f} [{r[name + '_low']:.2f}, {r[name + '_high']:.2f}]"
            parts = [f"{r['key']} ({index(r, 'ST')}, {index(r, 'S1')})" for _, r in matter.iterrows()]
            noise = list(rows[rows["ST_noise"]]["key"])
            text = f"{label} ({_noise_phrase(share)}): "
            text += ("most sensitive to " + ", then ".join(parts)) if parts else "no key can be told from noise"
            if noise and parts:
                text += f"; {', '.join(noise)} cannot be told from noise (ST interval reaches 0)"
            items.append(text + ".")
    return items


def _findings_effects(results, table: pd.DataFrame) -> list[str]:
    items = []
    for outcome in OUTCOMES:
        if outcome not in set(table["outcome"]):
            continue
        for cat in _report_categories(results, outcome):
            rows = table[(table["outcome"] == outcome) & (table["category"] == cat)].sort_values("eta2", ascending=False)
            label = f"P({outcome} = {cat})"
            share = rows["noise_share"].iloc[0]
            matter = rows[~rows["below_noise"]]
            under = list(rows[rows["below_noise"]]["key"])
            parts = [f"{r['key']} (eta² {r['eta2']:.2f}; a key with no effect scores up to {r['eta2_ref']:.2f})"
                     for _, r in matter.iterrows()]
            noise = _noise_phrase(share)
            text = f"{label}{f' ({noise})' if noise else ''}: "
            text += ("depends most on " + ", then ".join(parts)) if parts else \
                "no key's main effect rises above the no-effect reference"
            if under and parts:
                text += f"; {', '.join(under)} under the no-effect reference"
            items.append(text + ".")
    return items


def _findings_single(results) -> list[str]:
    table = results.summary([f for f in OUTCOMES if f in results.fields])
    items = []
    for outcome in OUTCOMES:
        rows = table[table["field"] == outcome]
        if rows.empty:
            continue
        top = rows.sort_values("p", ascending=False).iloc[0]
        items.append(f"most likely {outcome}: {top['category']}, P = {top['p']:.3f} "
                     f"[{top['ci_low']:.3f}, {top['ci_high']:.3f}] over {int(rows['count'].sum())} runs.")
    return items


class _CachedSummaries:
    """A results file whose summary(fields) is read once per set of fields (the report's figures
    and tables ask for the same summaries many times); everything else passes through."""

    def __init__(self, results):
        self._results = results
        self._summaries = {}

    def summary(self, fields=None):
        key = None if fields is None else tuple(fields)
        if key not in self._summaries:
            self._summaries[key] = self._results.summary(fields)
        return self._summaries[key].copy()

    def __getattr__(self, name):
        return getattr(self._results, name)


def write_report(results: Results, out: pathlib.Path, n_bootstrap: int = sensitivity.N_BOOTSTRAP,
                 seed: int = 0) -> pathlib.Path:
    """Writes the figures and index.html for any results file into ``out`` (created if needed);
    returns the index path. Sensitivity warnings raised on the way are listed in the page.

    The Sobol indices and main effects are those of :func:`wedge.sobol_table` and
    :func:`wedge.main_effects_table` with their defaults (``wedge.sensitivity.N_BOOTSTRAP``
    resamples, seed 0), so the page shows the numbers the API prints.

    Grid sweeps get heatmaps over their first two keys; other designs get scatter plots with
    binned means (``wedge.plots.heatmap`` bins them too, on request)."""
    results = _CachedSummaries(results)
    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    figures: list[tuple[str, str, str]] = []  # (section, caption, file)
    keys = results.swept_keys
    design_name = results.attrs["design"]
    outcomes = [f for f in OUTCOMES if f in results.fields]
    sections, findings = [], []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", sensitivity.SensitivityWarning)
        sobol = effects = None
        if keys:
            effects = sensitivity.main_effects_table(results, outcomes, seed=seed)
            if design_name == "saltelli":
                sobol = sensitivity.sobol_table(results, outcomes, n_bootstrap=n_bootstrap, seed=seed)
    messages = list(dict.fromkeys(str(w.message) for w in caught
                                  if issubclass(w.category, sensitivity.SensitivityWarning)))

    if not keys:
        findings = _findings_single(results)
        for field in outcomes:
            figures.append(("Outcomes", f"P({field}) at {plots.point_label(results, 0)}, with 95% intervals",
                            _save(plots.outcome_distribution(results, field, 0), out / f"{field}.png")))
    else:
        findings = _findings_sobol(results, sobol) if sobol is not None else _findings_effects(results, effects)
        for field in outcomes:
            figures.append((f"P({field})", f"P({field}) against each swept key",
                            _save(plots.probability_panels(results, field), out / f"{field}_vs_keys.png")))
            if len(keys) >= 2 and design_name == "grid":
                figures.append((f"P({field})", f"P({field}) over {keys[0]} and {keys[1]}",
                                _save(plots.heatmaps(results, keys[0], keys[1], field), out / f"{field}_heatmap.png")))
        if sobol is not None:
            for field in outcomes:
                figures.append(("Sobol indices", f"Sobol indices of P({field})",
                                _save(plots.sobol_bars(sobol, field), out / f"sobol_{field}.png")))
        for field in outcomes:
            cats = _report_categories(results, field)
            cols = min(2, len(cats))
            nrows = -(-len(cats) // cols)
            fig, axes = plt.subplots(nrows, cols, figsize=(6.2 * cols, (1.4 + 0.5 * len(keys)) * nrows), squeeze=False)
            for ax in axes.ravel()[len(cats):]:
                ax.set_visible(False)
            for ax, cat in zip(axes.ravel(), cats):
                me = effects[(effects["outcome"] == field) & (effects["category"] == cat)]
                plots.tornado(me, "eta2", title=f"P({field} = {cat}): eta²", ax=ax)
            fig.tight_layout()
            figures.append(("Main effects", f"eta² of each key for P({field}), with the no-effect reference",
                            _save(fig, out / f"effects_{field}.png")))

    attrs = results.attrs
    parts = []
    if findings:
        parts.append('<section id="findings"><h2>What the numbers say</h2><ul>'
                     + "".join(f"<li>{_esc(f)}</li>" for f in findings) + "</ul>"
                     + ("<p>Sobol indices: S1 is the share of the variance of the probability over the design "
                        "that a key explains alone, ST with its interactions; intervals are 95% bootstrap "
                        "intervals over base points, and the indices are corrected for the Monte Carlo noise "
                        "of each point's probability.</p>" if sobol is not None else
                        "<p>eta² is the share of the variance of the probability over the design explained by a "
                        "key's main effect. "
                        + ("In a balanced grid a key with no effect differs between its levels by Monte Carlo "
                           "noise only: the reference is the 95% quantile of its eta² under redrawn noise.</p>"
                           if design_name == "grid" else
                           "A key with no effect still scores about (bins − 1)/(points − 1) on this design: the "
                           "reference is the 95% quantile of its eta² under random permutation.</p>")
                        if keys else "")
                     + "</section>")
    if keys:
        design = results.design
        swept = pd.DataFrame({"key": keys, "meaning": [describe(k).partition(" — ")[2] for k in keys],
                              "min": [design[k].min() for k in keys], "max": [design[k].max() for k in keys],
                              "distinct values": [design[k].nunique() for k in keys]})
        parts.append("<h2>Swept keys</h2>" + _table(swept, "keys", {"min": lambda r: f"{r['min']:.6g}",
                                                                     "max": lambda r: f"{r['max']:.6g}"}))
    if messages:
        parts.append('<section id="warnings"><h2>Warnings</h2><ul>'
                     + "".join(f"<li>{_esc(m)}</li>" for m in messages) + "</ul></section>")
    current = None
    for section, caption, src in figures:
        if section != current:
            parts.append(f"<h2>{_esc(section)}</h2>")
            current = section
        parts.append(f'<figure><img src="{_esc(src)}" alt="{_esc(caption)}"><figcaption>{_esc(caption)}'
                     "</figcaption></figure>")
    if sobol is not None:
        shown = sobol[["outcome", "category", "key", "S1", "S1_low", "S1_high", "ST", "ST_low", "ST_high",
                       "S1_uncorrected", "ST_uncorrected", "noise_share", "S1_noise", "ST_noise",
                       "S1_unreliable", "ST_unreliable"]].copy()
        parts.append("<h2>Sobol indices</h2><p>Corrected for replicate noise; 95% bootstrap intervals over "
                     f"{int(results.attrs['points']) // (len(keys) + 2)} base points; noise share = the share of "
                     "Var(P) over the design that is Monte Carlo noise; *_noise = the index cannot be told from "
                     "noise (its interval reaches 0); *_unreliable = the index and its interval cannot be read as an "
                     "estimate (an outcome too rare or saturated for the design, an interval wider than 1, or an "
                     "estimate above 1 by more than its standard error; see wedge.sobol_from_outputs).</p>"
                     + _table(shown, "sobol", {"noise_share": lambda r: f"{r['noise_share']:.4f}"}))
    if effects is not None:
        shown = effects[["outcome", "category", "key", "eta2", "eta2_null", "eta2_ref", "below_noise",
                         "reference", "noise_share"]]
        parts.append("<h2>Main effects</h2><p>eta² = Var(E[P | key]) / Var(P) over the design; eta2_null and "
                     "eta2_ref: the mean and 95% quantile of what a key with no effect scores (reference: "
                     "'permutation' of the outputs for random designs, redrawn replicate 'noise' for grids; "
                     "seeded); below_noise: eta² under the reference; noise_share: the share of Var(P) that "
                     "is Monte Carlo noise.</p>" + _table(shown, "effects"))
    table = results.summary(outcomes)
    note = ""
    if len(table) > MAX_SUMMARY_ROWS:
        note = f" (the first {MAX_SUMMARY_ROWS} of {len(table)} rows; all are in the file)"
        table = table.head(MAX_SUMMARY_ROWS)
    key_formats = {k: (lambda r, k=k: f"{r[k]:.6g}") for k in keys}
    parts.append(f"<h2>Summary</h2><p>Probabilities with 95% Wilson intervals{_esc(note)}.</p>"
                 + _table(table, "summary", key_formats))
    parts.append(f"<h2>Experiment</h2><pre>{_esc(attrs['experiment'])}</pre>")
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>wedge report: {_esc(results.path.name)}</title>
<link rel="icon" href="data:,">
<style>body{{font-family:sans-serif;margin:2em;max-width:1200px}} table{{border-collapse:collapse;font-size:12px;margin-bottom:1em}}
td,th{{border:1px solid #ccc;padding:2px 6px;text-align:right}} figure{{display:inline-block;margin:8px;vertical-align:top}}
img{{max-width:1100px}} pre{{background:#f4f4f4;padding:8px;max-height:300px;overflow:auto}}
#warnings li{{color:#8a3a00}}</style></head>
<body><h1>{_esc(results.description or results.path.name)}</h1>
<p>{_esc(results.path.name)}: model {_esc(attrs['model'])} v{_esc(attrs['model_version'])},
{attrs['points']} design point(s) ({_esc(design_name)}), {attrs['runs_done']} runs, seed {attrs['seed']},
{'complete' if results.complete else 'PARTIAL'}; wedge {_esc(attrs['engine_version'])} (git {_esc(attrs['git_commit'])}), created {_esc(attrs['created'])}.</p>
{''.join(parts)}
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
    except ResultsPartialError as err:
        # The message names wedge.open's argument; this command's is --allow-partial.
        print(f"error: {str(err).replace('allow_partial=True', '--allow-partial')}", file=sys.stderr)
        return 2
    except (ResultsError, FileNotFoundError, KeyError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"wrote {index}")
    return 0
