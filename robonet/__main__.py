"""``python -m robonet`` is the ``robonet`` command."""
import sys

from robonet.cli import main

sys.exit(main())
