"""The robonet command's frame: help, version, unknown commands."""
import re

import pytest

from robonet import __version__
from robonet.cli import build_parser, main


def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert __version__ in capsys.readouterr().out


def test_unknown_command_is_an_argument_error(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["no-such-command"])
    assert exc.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_every_option_has_help():
    parser = build_parser()
    for action in parser._subparsers._group_actions:
        for name, sub in action.choices.items():
            for option in sub._actions:
                if option.dest in ("help",):
                    continue
                assert option.help, f"robonet {name} {option.option_strings or option.dest} has no help text"


def test_help_shows_defaults_only_where_they_say_something():
    parser = build_parser()
    for action in parser._subparsers._group_actions:
        for name, sub in action.choices.items():
            text = sub.format_help()
            assert "(default: None)" not in text, name
            assert not re.search(r"\(default[^)]*\)\s+\(default", text), name  # no default stated twice
    collect_help = parser._subparsers._group_actions[0].choices["collect"].format_help()
    assert "(default: 0)" in " ".join(collect_help.split())  # --seed 0 is shown, though 0 == False


def test_seed_must_be_a_non_negative_integer(capsys):
    for value in ("-1", "x"):
        with pytest.raises(SystemExit):
            main(["collect", "--seed", value, "--out", "unused"])
        assert "argument --seed: expected a non-negative integer" in capsys.readouterr().err
