"""User text never reaches a terminal raw (the testers' leftovers, item 2): control characters in a
faction name or a description are refused where the experiment is read, with file, line, column
and key, by every command and by Python; a NUL does not cut a name short; text that errors echo
(keys, values) is escaped. docs/design.md, "User text", states the rule."""
import pytest
from conftest import ROOT, wedge as cli

import wedge
from wedge import _core

BASELINE = ROOT / "experiments" / "scenarios" / "baseline.toml"
CONTROLS = ["\x1b", "\x00", "\n", "\t", "\x7f", "\x9b"]


def experiment(tmp_path, body):
    path = tmp_path / "text.toml"
    path.write_text(f'extends = "{BASELINE}"\n' + body, encoding="utf-8")
    return path


def toml_escape(c):
    return f"\\u{ord(c):04x}"


def commands(path):
    return [("run", path, "--runs", 10), ("validate", path), ("params", path), ("trace", path),
            ("check", path, "--runs", 10), ("compare", path, BASELINE, "--runs", 10),
            ("compare", BASELINE, path, "--runs", 10)]


@pytest.mark.parametrize("control", CONTROLS)
def test_a_control_character_in_a_faction_name_is_refused_by_every_command(tmp_path, control):
    path = experiment(tmp_path, f'[japan.factions.HK]\nname = "Hato{toml_escape(control)}yama"\n')
    for args in commands(path):
        r = cli(*args, check=False)
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        assert r.stdout == ""
        assert f"text.toml:3:8: japan.factions.HK.name: holds a control character (U+{ord(control):04X} at byte 5)" \
            in r.stderr, (args, r.stderr)
        assert all(c not in r.stderr for c in "\x1b\x00\x7f\x9b"), r.stderr


@pytest.mark.parametrize("control", CONTROLS)
def test_a_control_character_in_the_description_is_refused(tmp_path, control):
    path = experiment(tmp_path, f'description = "red{toml_escape(control)}[31m"\n')
    for args in commands(path):
        r = cli(*args, check=False)
        assert r.returncode == 2, (args, r.stderr)
        assert f"text.toml:2:15: description: holds a control character (U+{ord(control):04X} at byte 4)" \
            in r.stderr, (args, r.stderr)


def test_python_refuses_them_as_the_command_line_does():
    with pytest.raises(_core.ConfigError, match=r"japan.factions.HK.name: holds a control character \(U\+0000 at byte 3\)"):
        wedge.simulate({"japan": {"factions": {"HK": {"name": "HK\x00 truncated"}}}}, runs=10)
    with pytest.raises(_core.ConfigError, match=r"description: holds a control character \(U\+001B at byte 1\)"):
        wedge.simulate({"description": "\x1b[2J"}, runs=10)


def test_printable_names_and_descriptions_still_work(tmp_path):
    """Only control characters are refused: accents, CJK and punctuation are text."""
    path = experiment(tmp_path, 'description = "Shigemitsu\'s line — 重光葵, \\"soft\\""\n'
                                '[japan.factions.HK]\nname = "Hatoyama–Kōno (鳩山)"\n')
    r = cli("params", path)
    assert "HK" in r.stdout
    r = cli("trace", path)
    assert "Hatoyama–Kōno (鳩山)" in r.stdout


@pytest.mark.parametrize("key", ["dulles.\x1b[31mtact", "dulles.ta\x9bct", "dulles.\x07"])
def test_keys_echoed_in_errors_are_escaped(tmp_path, key):
    path = tmp_path / "key.toml"
    path.write_text(f'"{key.encode("unicode_escape").decode().replace(chr(92) + "x", chr(92) + "u00")}" = 1\n',
                    encoding="utf-8")
    for args in [("run", path, "--runs", 10), ("validate", path), ("run", "--set", f"{key}=1", "--runs", 10)]:
        r = cli(*args, check=False)
        assert r.returncode == 2, (args, r.stderr)
        assert all(c not in r.stderr for c in "\x1b\x9b\x07"), (args, r.stderr)
        assert "\\x" in r.stderr, (args, r.stderr)
    with pytest.raises(_core.ConfigError) as error:
        wedge.simulate(set=[f"{key}=1"], runs=10)
    assert all(c not in str(error.value) for c in "\x1b\x9b\x07"), str(error.value)
