"""argparse types shared by the subcommands (no imports beyond the standard library, so that a
subcommand module stays cheap to import as a library)."""
from __future__ import annotations

import argparse


def _int_at_least(minimum: int, what: str):
    """An argparse type: an integer >= ``minimum``, else "expected <what>, got ..."."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected {what}, got {value}")
        return value

    return parse


#: argparse type of every ``--seed``: numpy's generators take non-negative integers.
seed_arg = _int_at_least(0, "a non-negative integer")
#: argparse type of counts that must be at least 1.
positive_int_arg = _int_at_least(1, "a positive integer")
