#!/usr/bin/env python
"""Watch a controller drive (or record a GIF): the same as `robonet watch` (see `robonet watch --help`)."""
import sys

from robonet.cli import main

if __name__ == "__main__":
    sys.exit(main(["watch", *sys.argv[1:]]))
