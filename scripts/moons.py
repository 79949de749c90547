#!/usr/bin/env python
"""The article's two-moons experiment: the same as `robonet moons` (see `robonet moons --help`)."""
import sys

from robonet.cli import main

if __name__ == "__main__":
    sys.exit(main(["moons", *sys.argv[1:]]))
