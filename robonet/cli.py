"""The ``robonet`` command: a thin shell over library functions.

Each subcommand lives in its own module, which provides

* ``HELP``: a one-line summary shown by ``robonet --help``;
* ``add_arguments(parser)``: the subcommand's options, each with help text;
* ``run(args) -> int``: the work, returning an exit status.

``main(argv)`` can be called in-process (the tests do). A user's mistake (a ``ValueError``,
a missing file, a :class:`robonet.errors.UserError`) becomes one line on stderr and exit
status 2; set ``ROBONET_TRACEBACK=1`` to see the full traceback instead.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import Sequence

from robonet import __version__
import robonet.envs  # noqa: F401 - registers the robonet/* env ids on import of the CLI

# subcommand -> module implementing it (order is the order in --help).
COMMANDS: dict[str, str] = {
    "demo": "robonet.demo",
    "collect": "robonet.collect",
    "train": "robonet.train",
    "evaluate": "robonet.evaluate",
    "dagger": "robonet.dagger",
    "watch": "robonet.watch",
    "logs": "robonet.logs_cli",
    "moons": "robonet.moons",
}


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows "(default: X)" only where it tells something: not for required options, options
    without a default (None) or flags, nor where the help text already states the default."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        # identity, not ==: a default of 0 or 0.0 is worth showing, and 0 == False
        if (action.required or default is None or default is False or default is argparse.SUPPRESS
                or "default" in text.lower()):
            return text
        return super()._get_help_string(action)


def _available_commands() -> dict[str, object]:
    """Import the subcommand modules that exist (features land one by one)."""
    modules = {}
    for name, module_name in COMMANDS.items():
        try:
            modules[name] = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:  # a real missing dependency inside the module
                raise
    return modules


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="robonet",
        description=(
            "Teach a plain-NumPy neural network to drive a simulated robot: collect expert "
            "sensor logs, train a controller on them, evaluate it, watch it drive."
        ),
    )
    parser.add_argument("--version", action="version", version=f"robonet {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, module in _available_commands().items():
        sub = subparsers.add_parser(
            name,
            help=module.HELP,
            description=getattr(module, "DESCRIPTION", module.HELP),
            formatter_class=_HelpFormatter,
        )
        module.add_arguments(sub)
        sub.set_defaults(_run=module.run, _parser=sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the robonet command line; returns the exit status."""
    from robonet.errors import TaskFailed, UserError

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args._run(args) or 0)
    except KeyboardInterrupt:
        print(f"robonet {args.command}: interrupted", file=sys.stderr)
        return 130
    except (UserError, ValueError, OSError, TaskFailed) as exc:
        if os.environ.get("ROBONET_TRACEBACK"):
            raise
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if isinstance(exc, OSError) and exc.filename and str(exc.filename) not in message:
            message = f"{message}: {exc.filename}"
        print(f"robonet {args.command}: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
