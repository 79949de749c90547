"""robonet's benchmarks: the same work side by side with the article's code and the frameworks.

Run ``python -m bench`` (the published run, writes bench/RESULTS.md and bench/plots/) or
``python -m bench --quick`` (a few minutes, writes bench/out/RESULTS-quick.md). Each comparison
is one module listed in ``MODULES``; a module provides ``TITLE`` and ``run(cfg) -> Section``
(see bench/harness.py). To add a benchmark, write the module and append its name here.
"""

MODULES: list[str] = [
    "bench.moons",
    "bench.latency",
    "bench.throughput",
    "bench.cloning",
    "bench.collection",
    "bench.memory",
]
