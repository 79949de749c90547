#!/usr/bin/env python
"""Train a controller on sensor logs: the same as `robonet train` (see `robonet train --help`)."""
import sys

from robonet.cli import main

if __name__ == "__main__":
    sys.exit(main(["train", *sys.argv[1:]]))
