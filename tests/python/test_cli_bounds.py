"""Every parameter's range, at both ends (issue 19, item 4): for every key the registry lists
(`wedge params --json`), the bounds MODEL.md section 4 states are accepted and the nearest value
outside them (the next double, the next integer, a value outside {0, 2, 4}, infinity for an
unbounded key) is refused with exit code 2 and a one-line error naming the key, both on the
command line (--set) and, for the accepted ends, in an experiment file.

A boundary value that the constraints between keys make impossible on its own (e.g.
alliance.rupture_below = 1 needs strained_below > 1) must be refused by that constraint, naming the
other key, never by the key's own range.
"""
import concurrent.futures
import json
import math
import sys

import pytest

from conftest import ROOT, wedge

sys.path.insert(0, str(ROOT / "tests" / "spec"))
import model_spec  # noqa: E402

BASELINE = ROOT / "experiments" / "scenarios" / "baseline.toml"


def _text(p, v):
    """The value as written on the command line or in TOML (a bad value stays bad: 2 for a boolean
    is "2", 1.5 for an integer is "1.5")."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int) or (p.type == "integer" and float(v).is_integer()):
        return str(int(v))
    return repr(float(v))


def _solve(spec, assignments):
    """Completes `assignments` (key -> value, pinned) with values of the other keys of the
    constraints so that every constraint holds, or returns None if the pinned values make that
    impossible within the keys' ranges (MODEL.md: realign_below <= rupture_below < strained_below,
    credibility_min <= credibility_max)."""
    values = dict(assignments)
    pinned = set(assignments)
    for _ in range(10):
        changed = False
        for c in spec.constraints:
            a = values.get(c.key, spec.params[c.key].default)
            b = values.get(c.other, spec.params[c.other].default)
            holds = {"<": a < b, "<=": a <= b, ">=": a >= b, ">": a > b}[c.op]
            if holds:
                continue
            if c.other not in pinned:
                key = c.other
                new = {"<": math.nextafter(a, math.inf), "<=": a, ">=": a, ">": math.nextafter(a, -math.inf)}[c.op]
            elif c.key not in pinned:
                key = c.key
                new = {"<": math.nextafter(b, -math.inf), "<=": b, ">=": b, ">": math.nextafter(b, math.inf)}[c.op]
            else:
                return None
            p = spec.params[key]
            lo = p.min if p.min is not None else -math.inf
            if new < lo or (p.max is not None and new > p.max):
                return None
            values[key] = new
            pinned.add(key)
            changed = True
        if not changed:
            return values
    return None


def _cases(spec, key):
    """(value, accepted) pairs at both ends of the key's range."""
    p = spec.params[key]
    if p.type == "boolean":
        return [(True, True), (False, True), (2, False)]
    if p.allowed is not None:
        return [(v, v in p.allowed) for v in range(int(p.min) - 1, int(p.max) + 2)]
    if p.type == "integer":
        return [(p.min, True), (p.min - 1, False), (p.max, True), (p.max + 1, False), (p.min + 0.5, False)]
    lo = p.min
    if lo is None:  # bounded below by another key (credibility_max >= credibility_min >= 0)
        (c,) = [c for c in p.constraints if c.op in (">=", ">")]
        lo = spec.params[c.other].min
    cases = [(math.nextafter(lo, -math.inf), False)]
    if p.min_exclusive:
        cases += [(lo, False), (math.nextafter(lo, math.inf), True)]
    else:
        cases += [(lo, True)]
    if p.max is None:
        cases += [(sys.float_info.max, True), (math.inf, False)]
    else:
        cases += [(p.max, True), (math.nextafter(p.max, math.inf), False)]
    if key == "dulles.tact":  # NaN passes every comparison-based check; one key shows it is refused
        cases.append((math.nan, False))
    return cases


def _set_args(spec, assignments):
    args = []
    for k, v in assignments.items():
        args += ["--set", f"{k}={_text(spec.params[k], v)}"]
    return args


@pytest.fixture(scope="module")
def spec():
    return model_spec.load()


@pytest.fixture(scope="module")
def keys(spec):
    registry = [p["key"] for p in json.loads(wedge("params", "--json").stdout)]
    unknown = [k for k in registry if k not in spec.params]
    assert not unknown, f"keys without a range in MODEL.md: {unknown}"
    return registry


def test_every_range_is_enforced_at_both_ends(spec, keys):
    """One command per refused value; accepted bounds are checked here only for the keys in a
    constraint (the others all at once, by the next test)."""
    constrained = {k for c in spec.constraints for k in (c.key, c.other)}
    jobs = []  # (description, args, accepted, partners)
    for key in keys:
        for value, accepted in _cases(spec, key):
            what = f"{key} = {_text(spec.params[key], value)}"
            if accepted and key not in constrained and spec.params[key].allowed is None:
                continue
            if accepted:
                solved = _solve(spec, {key: value})
                if solved is None:
                    # In range, but impossible with the other keys: refused by the constraint.
                    partners = {c.other if c.key == key else c.key for c in spec.constraints
                                if key in (c.key, c.other)}
                    jobs.append((what + " (impossible with the constraints)", _set_args(spec, {key: value}), False, partners))
                else:
                    jobs.append((what, _set_args(spec, {key: value, **solved}), True, None))
            else:
                jobs.append((what, _set_args(spec, {key: value}), False, {key}))

    def run(job):
        return job, wedge("validate", BASELINE, *job[1], check=False)

    failures = []
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        for (what, _args, accepted, names), r in pool.map(run, jobs):
            if accepted:
                if r.returncode != 0:
                    failures.append(f"{what}: refused (exit {r.returncode}): {r.stderr.strip()}")
            elif r.returncode != 2:
                failures.append(f"{what}: exit {r.returncode}, expected 2 (refused)")
            elif not (r.stderr.startswith("error: ") and r.stderr.count("\n") == 1 and r.stdout == ""
                      and any(n in r.stderr for n in names)):
                failures.append(f"{what}: refused, but the error does not name {sorted(names)} on one line: {r.stderr!r}")
    assert len(jobs) > 2 * len(keys)
    assert not failures, f"{len(failures)} of {len(jobs)} cases:\n" + "\n".join(failures)


@pytest.mark.parametrize("end", ["min", "max"])
def test_every_key_at_the_same_end_in_one_experiment_file(spec, keys, tmp_path, end):
    """All keys at their lower (upper) bound at once, written in an experiment file (the loader's
    own path) and on the command line; constrained keys take the nearest values that satisfy
    the constraints."""
    values = {}
    for key in keys:
        p = spec.params[key]
        if p.type == "boolean":
            values[key] = end == "max"
        elif p.allowed is not None:
            values[key] = min(p.allowed) if end == "min" else max(p.allowed)
        elif end == "min":
            lo = p.min if p.min is not None else 0.0
            values[key] = math.nextafter(lo, math.inf) if p.min_exclusive else lo
            if key.endswith(".weight") and not any(k.endswith(".weight") and v > 0 for k, v in values.items()):
                values[key] = 5e-324  # the weights must sum to more than 0: one takes the least positive
        else:
            values[key] = p.max if p.max is not None else sys.float_info.max
    # The chain realign <= rupture < strained cannot sit at one end: strained_below = 0 or
    # rupture_below = 1 is impossible. Keep the chain satisfiable next to that end.
    chain = {"min": {"alliance.realign_below": 0.0, "alliance.rupture_below": 0.0,
                     "alliance.strained_below": 5e-324},
             "max": {"alliance.realign_below": math.nextafter(1.0, 0.0), "alliance.rupture_below": math.nextafter(1.0, 0.0),
                     "alliance.strained_below": 1.0}}[end]
    values.update(chain)
    assert _solve(spec, values) == values
    lines = [f'extends = "{BASELINE}"']
    for key, v in values.items():
        section, name = key.rsplit(".", 1)
        lines.append(f"{section}.{name} = {_text(spec.params[key], v)}")
    path = tmp_path / f"all_{end}.toml"
    path.write_text("\n".join(lines) + "\n")
    r = wedge("validate", path, check=False)
    assert r.returncode == 0, r.stderr
    r = wedge("validate", BASELINE, *_set_args(spec, values), check=False)
    assert r.returncode == 0, r.stderr
    # One key just outside its range in the file: refused, naming file, line and key.
    key = "dulles.tact"
    p = spec.params[key]
    bad = math.nextafter(p.max, math.inf) if end == "max" else math.nextafter(p.min, -math.inf)
    path.write_text(f'extends = "{BASELINE}"\n[dulles]\ntact = {bad!r}\n')
    r = wedge("validate", path, check=False)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.startswith(f"error: {path}:3:") and f"dulles.tact = {bad!r}: must be [0, 1]" in r.stderr, r.stderr
