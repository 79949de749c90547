#!/usr/bin/env python
"""Collect expert sensor logs: the same as `robonet collect` (see `robonet collect --help`)."""
import sys

from robonet.cli import main

if __name__ == "__main__":
    sys.exit(main(["collect", *sys.argv[1:]]))
