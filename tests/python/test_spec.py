"""MODEL.md section 4 is the oracle (issue 19, item 1): the parameter registry (`wedge params
--json`, i.e. the code's defaults and ranges) and experiments/scenarios/baseline.toml must both
agree with it, key by key. Before this test, baseline.toml was compared with the code and the code
with itself, so a default changed in both places (dulles.coerce_threshold 0.45 -> 0.55, P(treaty)
0.161 -> 0.186) passed every test.

MODEL.md is read by tests/spec/model_spec.py (../shared/MODEL.md, or the vendored copy
tests/spec/MODEL.md, which must equal it when both exist).
"""
import json
import math
import re
import sys
import tomllib

import pytest

from conftest import ROOT, cli_json, wedge

sys.path.insert(0, str(ROOT / "tests" / "spec"))
import model_spec  # noqa: E402

BASELINE = ROOT / "experiments" / "scenarios" / "baseline.toml"


@pytest.fixture(scope="module")
def spec():
    return model_spec.load()


@pytest.fixture(scope="module")
def registry():
    return {p["key"]: p for p in json.loads(wedge("params", "--json").stdout)}


def test_the_vendored_copy_equals_the_shared_specification():
    # model_spec.spec_path() raises if ../shared/MODEL.md exists and differs from the copy.
    path = model_spec.spec_path()
    assert path.read_bytes() == model_spec.VENDORED.read_bytes()


def test_the_specification_is_read_completely(spec):
    # 46 scalar keys in the parameter table, 5 factions x 6 columns in the factions table.
    assert len(spec.params) == 46 + 5 * 6
    assert spec.params["dulles.coerce_threshold"].default == 0.45
    assert spec.params["japan.vote_noise_sd"].min_exclusive
    assert {(c.key, c.op, c.other) for c in spec.constraints} == {
        ("dulles.credibility_max", ">=", "dulles.credibility_min"),
        ("alliance.rupture_below", "<", "alliance.strained_below"),
        ("alliance.realign_below", "<=", "alliance.rupture_below"),
    }


def test_the_registry_has_exactly_the_keys_of_the_specification(spec, registry):
    missing = sorted(set(spec.params) - set(registry))
    extra = sorted(set(registry) - set(spec.params))
    assert not missing and not extra, f"missing from the registry: {missing}; not in MODEL.md: {extra}"


def _effective_min(spec, p):
    """A bound relative to another key (credibility_max >= credibility_min) is, on its own, that
    key's lower bound."""
    if p.min is not None:
        return p.min
    (c,) = [c for c in p.constraints if c.op in (">=", ">")]
    return spec.params[c.other].min


@pytest.mark.parametrize("field", ["type", "default", "min", "max", "min_exclusive"])
def test_the_registry_agrees_with_the_specification(spec, registry, field):
    wrong = []
    for key, p in spec.params.items():
        r = registry[key]
        expected = {"type": p.type, "default": p.default, "min": _effective_min(spec, p), "max": p.max,
                    "min_exclusive": p.min_exclusive}[field]
        got = r[field]
        if isinstance(expected, bool) or expected is None or got is None:
            equal = got is expected
        elif field in ("default", "min", "max"):
            equal = not isinstance(got, bool) and float(got) == float(expected)
        else:
            equal = got == expected
        if not equal:
            wrong.append(f"{key}: {field} is {got!r} in the registry, {expected!r} in MODEL.md ({p.valid_text})")
    assert not wrong, "\n".join(wrong)


def test_enumerated_values_are_stated(spec, registry):
    for key, p in spec.params.items():
        if p.allowed is not None:
            assert registry[key]["range"] == ", ".join(map(str, p.allowed[:-1])) + f" or {p.allowed[-1]}"


def _toml_keys(table, prefix=""):
    for k, v in table.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            yield from _toml_keys(v, key + ".")
        else:
            yield key, v


def test_baseline_toml_holds_every_key_at_its_specified_default(spec):
    doc = tomllib.loads(BASELINE.read_text())
    assert doc.pop("description")
    run = doc.pop("run")
    # README: --runs defaults to the file's, else 1,000,000; --seed defaults to 1.
    assert run == {"runs": 1_000_000, "seed": 1, "crn": False}
    values = dict(_toml_keys(doc))
    missing = sorted(set(spec.params) - set(values))
    extra = sorted(set(values) - set(spec.params))
    assert not missing and not extra, f"missing from baseline.toml: {missing}; not in MODEL.md: {extra}"
    wrong = []
    for key, p in spec.params.items():
        v = values[key]
        if p.type == "boolean":
            ok = v is p.default
        elif p.type == "integer":
            ok = type(v) is int and v == p.default
        else:
            ok = type(v) in (int, float) and float(v) == float(p.default)
        if not ok:
            wrong.append(f"{key} = {v!r} in baseline.toml, {p.default!r} in MODEL.md")
    assert not wrong, "\n".join(wrong)


def test_the_built_in_baseline_is_baseline_toml():
    # `wedge run` without a file runs the baseline scenario: the same distribution, bit for bit.
    assert cli_json("--runs", 20000, "--seed", 3) == cli_json(BASELINE, "--runs", 20000, "--seed", 3)


def test_the_model_version_is_the_specification_s(spec):
    assert re.search(rf"model: tug_of_war version {spec.model_version} \(MODEL.md\)", wedge("--version").stdout)


def _validate(*sets):
    args = ["validate", BASELINE]
    for s in sets:
        args += ["--set", s]
    return wedge(*args, check=False)


def _num(x):
    return repr(float(x))


@pytest.mark.parametrize("constraint", ["dulles.credibility_max", "alliance.rupture_below", "alliance.realign_below"])
def test_constraints_between_keys(spec, constraint):
    """Each constraint of the "valid" column, at the boundary: `a <= b` accepts a = b and refuses
    the next double above b; `a < b` refuses a = b and accepts the next double below; `a >= b`
    accepts a = b and refuses the next double below. The value is b's default, which keeps the
    other constraints of the chain realign <= rupture < strained satisfied."""
    (c,) = spec.params[constraint].constraints
    b = spec.params[c.other].default
    below, above = math.nextafter(b, -math.inf), math.nextafter(b, math.inf)
    cases = {"<": [(b, False), (below, True)], "<=": [(b, True), (above, False)],
             ">=": [(b, True), (below, False)], ">": [(b, False), (above, True)]}[c.op]
    for a, accepted in cases:
        r = _validate(f"{c.key}={_num(a)}", f"{c.other}={_num(b)}")
        if accepted:
            assert r.returncode == 0, f"{c.key} = {a!r} with {c.other} = {b!r}: refused: {r.stderr}"
        else:
            assert r.returncode == 2, f"{c.key} = {a!r} with {c.other} = {b!r}: accepted"
            assert r.stderr.startswith("error: ") and c.key in r.stderr and c.other in r.stderr, r.stderr
            assert r.stdout == ""


def test_faction_weights_must_sum_to_more_than_zero(spec):
    ids = sorted({k.split(".")[2] for k in spec.params if k.startswith("japan.factions.")})
    zero = [f"japan.factions.{i}.weight=0" for i in ids]
    r = _validate(*zero)
    assert r.returncode == 2 and "weight" in r.stderr and "sum" in r.stderr, r.stderr
    # One faction alone, with the smallest positive weight, is valid.
    r = _validate(*zero[1:], f"japan.factions.{ids[0]}.weight=5e-324")
    assert r.returncode == 0, r.stderr
