"""Progress bars: tqdm on stderr, silent when stderr is not a terminal (tests, pipes)."""
from __future__ import annotations

import os
import sys
from typing import Any


def progress(total: int | None = None, desc: str = "", unit: str = "it", **kwargs: Any):
    """A tqdm bar for ``total`` items; disabled when stderr is not a TTY or ROBONET_NO_PROGRESS is set."""
    from tqdm.auto import tqdm

    disable = bool(os.environ.get("ROBONET_NO_PROGRESS")) or not sys.stderr.isatty()
    return tqdm(total=total, desc=desc, unit=unit, disable=disable, leave=False, dynamic_ncols=True, **kwargs)
