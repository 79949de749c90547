"""Shared machinery of the benchmarks: configuration, interleaved timing, results, profiles.

Every comparison module exposes ``TITLE`` and ``run(cfg: Config) -> Section``. A module measures
its contenders side by side in one process: each contender is warmed up, then the repeats are
interleaved (contender A, B, C, A, B, C, ...; the order rotates every round so no contender always
runs right after another), and each is reported as median [min, max] over the repeats. Ratios are
medians divided by medians.
"""
from __future__ import annotations

import cProfile
import io
import math
import pstats
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable


@dataclass
class Config:
    """How big and how often: ``mode`` is "full" (the published run), "quick" or "tiny" (tests)."""

    mode: str = "quick"
    out_dir: Path = Path("bench/out")
    plot_dir: Path | None = None  # where headline PNGs go; None = no plots (tests)
    seed: int = 0

    @property
    def repeats(self) -> int:
        return {"full": 5, "quick": 3, "tiny": 1}[self.mode]

    @property
    def warmup(self) -> int:
        return 0 if self.mode == "tiny" else 1

    def pick(self, full: Any, quick: Any, tiny: Any) -> Any:
        """The value for this mode."""
        return {"full": full, "quick": quick, "tiny": tiny}[self.mode]


@dataclass
class Stat:
    """Median, min and max of repeated measurements (seconds, or any unit)."""

    values: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.values) if self.values else math.nan

    @property
    def min(self) -> float:
        return min(self.values) if self.values else math.nan

    @property
    def max(self) -> float:
        return max(self.values) if self.values else math.nan


@dataclass
class Table:
    title: str
    headers: list[str]
    rows: list[list[Any]]
    note: str = ""


@dataclass
class Target:
    """One target of the issue: ``measured`` compared against ``threshold`` by ``op``."""

    name: str
    measured: float
    op: str  # "<=" or ">="
    threshold: float
    unit: str = "x"
    detail: str = ""

    @property
    def met(self) -> bool | None:
        if self.measured is None or math.isnan(self.measured):
            return None
        return self._cmp()

    def _cmp(self) -> bool:
        if self.op == "<=":
            return self.measured <= self.threshold
        return self.measured >= self.threshold

    @property
    def verdict(self) -> str:
        met = self.met
        return "n/a" if met is None else ("met" if met else "MISSED")


@dataclass
class Section:
    key: str
    title: str
    intro: str = ""
    tables: list[Table] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    plots: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    profiles: dict[str, str] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)


class Unavailable(Exception):
    """A contender cannot run here (peer not installed, robonet piece not landed yet)."""


def interleaved(
    contenders: dict[str, Callable[[], Any]], repeats: int, warmup: int
) -> tuple[dict[str, Stat], dict[str, Any], dict[str, str]]:
    """Time each contender ``repeats`` times, interleaved, after ``warmup`` untimed calls each.

    A contender returns None (its wall time is measured here) or a float (its own measured
    quantity, e.g. time to a target accuracy) or a dict with key "time" plus extras (the
    extras of the last repeat are kept). A contender that raises ``Unavailable`` is dropped
    and its reason returned.
    Returns (stats, extras, unavailable_reasons).
    """
    names = list(contenders)
    skipped: dict[str, str] = {}
    for name in names:
        for _ in range(warmup):
            try:
                contenders[name]()
            except Unavailable as exc:
                skipped[name] = str(exc)
                break
    live = [n for n in names if n not in skipped]
    values: dict[str, list[float]] = {n: [] for n in live}
    extras: dict[str, Any] = {}
    for r in range(repeats):
        order = live[r % len(live):] + live[: r % len(live)] if live else []
        for name in order:
            if name in skipped:
                continue
            t0 = time.perf_counter()
            try:
                out = contenders[name]()
            except Unavailable as exc:
                skipped[name] = str(exc)
                values.pop(name, None)
                continue
            dt = time.perf_counter() - t0
            if isinstance(out, dict):
                extras[name] = out
                dt = out.get("time", dt)
            elif out is not None:
                dt = float(out)
            values[name].append(dt)
    return {n: Stat(v) for n, v in values.items()}, extras, skipped


def profile_top(fn: Callable[[], Any], limit: int = 12) -> str:
    """cProfile ``fn()`` once and return the top entries by own time (text)."""
    prof = cProfile.Profile()
    prof.enable()
    try:
        fn()
    finally:
        prof.disable()
    buf = io.StringIO()
    stats = pstats.Stats(prof, stream=buf)
    stats.sort_stats("tottime").print_stats(limit)
    lines = buf.getvalue().splitlines()
    # Drop pstats' preamble up to the column header; keep paths short.
    start = next((i for i, line in enumerate(lines) if "ncalls" in line), 0)
    root = str(Path(__file__).resolve().parents[1]) + "/"
    return "\n".join(line.replace(root, "") for line in lines[start:] if line.strip())


def fmt_time(seconds: float) -> str:
    """Human units: ns, us, ms or s, three significant digits."""
    if seconds is None or not math.isfinite(seconds):
        return "not reached" if seconds == math.inf else "n/a"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6), ("ns", 1e-9)):
        if seconds >= scale or unit == "ns":
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds:.3g} s"


def fmt_stat(stat: Stat, fmt: Callable[[float], str] = fmt_time) -> str:
    """'median [min, max]'."""
    if not stat.values:
        return "n/a"
    if len(stat.values) == 1:
        return fmt(stat.median)
    return f"{fmt(stat.median)} [{fmt(stat.min)}, {fmt(stat.max)}]"


def fmt_rate(x: float) -> str:
    if x is None or not math.isfinite(x):
        return "n/a"
    if x >= 1e6:
        return f"{x / 1e6:.3g} M"
    if x >= 1e3:
        return f"{x / 1e3:.3g} k"
    return f"{x:.3g}"


def fmt_ratio(x: float) -> str:
    if x is None or not math.isfinite(x):
        return "n/a"
    return f"{x:.3g}x"


def ratio(a: float, b: float) -> float:
    """a / b, nan when either is missing or b is zero."""
    if a is None or b is None or not (math.isfinite(a) and math.isfinite(b)) or b == 0:
        return math.nan
    return a / b


def robonet_status() -> dict[str, str]:
    """Which robonet pieces import here (they land one by one while the benchmarks grow)."""
    import importlib

    status = {}
    for name in ("robonet.nn", "robonet.envs", "robonet.logs", "robonet.controller",
                 "robonet.train", "robonet.collect", "robonet.evaluate"):
        try:
            importlib.import_module(name)
            status[name] = "ok"
        except Exception as exc:  # any failure means: not usable for benchmarking yet
            status[name] = f"{type(exc).__name__}: {exc}"
    return status
