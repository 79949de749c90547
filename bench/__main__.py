"""The benchmark runner: ``python -m bench [--quick] [--only NAME ...]``.

Before measuring anything the runner re-executes itself once with a clean thread environment:
OMP/MKL/OPENBLAS_NUM_THREADS=1 (one thread each), KERAS_BACKEND=torch, and OPENBLAS_CORETYPE and
OPENBLAS_L2_SIZE removed (on some processors they are set machine-wide and make OpenBLAS pick a
slower kernel for NumPy). Only this process and its children see the change; whether they were
set, and which BLAS kernel they would have selected, goes into the results.
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import subprocess
import sys
import time
import traceback
from pathlib import Path

_CHILD_FLAG = "ROBONET_BENCH_CHILD"
_ORIG_FLAG = "ROBONET_BENCH_ORIG_OPENBLAS"
_OPENBLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
_THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def _reexec_clean(argv: list[str]) -> None:
    env = dict(os.environ)
    orig = {k: env.pop(k) for k in _OPENBLAS_VARS if k in env}
    env[_ORIG_FLAG] = json.dumps(orig)
    env[_CHILD_FLAG] = "1"
    for k in _THREAD_VARS:
        env[k] = "1"
    env["KERAS_BACKEND"] = "torch"
    env.setdefault("SDL_VIDEODRIVER", "dummy")
    env.setdefault("SDL_AUDIODRIVER", "dummy")
    env.setdefault("MPLBACKEND", "Agg")
    env.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    os.execve(sys.executable, [sys.executable, "-m", "bench", *argv], env)


def _kernel_with(env_extra: dict[str, str]) -> str:
    """The OpenBLAS kernel NumPy selects under the original OPENBLAS_* variables (subprocess)."""
    env = dict(os.environ, **env_extra)
    code = ("import numpy, threadpoolctl;"
            "print(','.join(str(i.get('architecture') or i.get('corename')) for i in "
            "threadpoolctl.threadpool_info() if i.get('user_api') == 'blas'))")
    try:
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                             timeout=60)
        return out.stdout.strip() or out.stderr.strip()[-200:]
    except Exception as exc:
        return f"unknown ({exc})"


def environment() -> dict:
    """Machine, versions, thread settings and the BLAS kernel, for the report."""
    import platform

    from bench.peers import versions

    info: dict = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1024**2:.1f} GiB"
    except OSError:
        pass
    info["machine"] = {"cpu": cpu, "cores": os.cpu_count(), "memory": mem,
                       "platform": platform.platform(),
                       "load_average_at_start": " ".join(f"{x:.2f}" for x in os.getloadavg())}
    info["versions"] = versions()
    info["threads"] = {k: os.environ.get(k) for k in (*_THREAD_VARS, "KERAS_BACKEND")}
    orig = json.loads(os.environ.get(_ORIG_FLAG, "{}"))
    info["openblas_env"] = {
        "set_in_callers_environment": orig or "neither set",
        "removed_for_this_run": bool(orig),
        "kernel_with_them": _kernel_with(orig) if orig else "(not applicable)",
    }
    try:
        import threadpoolctl

        info["blas"] = [{k: d.get(k) for k in ("user_api", "internal_api", "prefix", "version",
                                               "architecture", "corename", "threading_layer",
                                               "num_threads") if d.get(k) is not None}
                        for d in threadpoolctl.threadpool_info()]
    except ImportError:
        info["blas"] = "threadpoolctl not installed"
    try:
        import torch

        info["threads"]["torch.get_num_threads()"] = torch.get_num_threads()
        info["threads"]["torch.get_num_interop_threads()"] = torch.get_num_interop_threads()
    except ImportError:
        pass
    return info


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true",
                        help="small sizes and fewer repeats (a few minutes); writes bench/out/")
    parser.add_argument("--only", nargs="+", metavar="NAME",
                        help="run only these modules (e.g. moons latency); default: all")
    parser.add_argument("--out", type=Path, default=None,
                        help="results file (default bench/RESULTS.md; bench/out/RESULTS-quick.md "
                             "with --quick; bench/out/RESULTS-MODE-NAMES.md with --only)")
    parser.add_argument("--seed", type=int, default=0, help="seed of every contender")
    args = parser.parse_args(argv)
    if os.environ.get(_CHILD_FLAG) != "1":
        _reexec_clean(argv)  # does not return

    from bench import MODULES
    from bench.harness import Config
    from bench.report import write_report

    root = Path(__file__).resolve().parent
    mode = "quick" if args.quick else "full"
    if args.out is not None:
        out = args.out
    elif args.only:  # a partial run never replaces the published RESULTS.md
        out = root / "out" / f"RESULTS-{mode}-{'-'.join(args.only)}.md"
    else:
        out = root / "out" / "RESULTS-quick.md" if args.quick else root / "RESULTS.md"
    plot_dir = root / "out" / "plots-quick" if args.quick else root / "plots"
    plot_dir.mkdir(parents=True, exist_ok=True)
    (root / "out").mkdir(parents=True, exist_ok=True)
    cfg = Config(mode=mode, out_dir=root / "out", plot_dir=plot_dir, seed=args.seed)

    # One thread each: BLAS via threadpoolctl (the environment variables already say so), torch.
    limiter = None
    try:
        import threadpoolctl

        limiter = threadpoolctl.threadpool_limits(limits=1)
    except ImportError:
        pass
    try:
        import torch

        torch.set_num_threads(1)
        torch.set_num_interop_threads(1)
    except (ImportError, RuntimeError):
        pass

    env = environment()
    selected = [m for m in MODULES if not args.only or m.rsplit(".", 1)[1] in args.only]
    sections = []
    t_all = time.perf_counter()
    for name in selected:
        t0 = time.perf_counter()
        print(f"[bench] {name} ...", flush=True)
        try:
            module = importlib.import_module(name)
            sec = module.run(cfg)
        except Exception:
            from bench.harness import Section

            sec = Section(name.rsplit(".", 1)[1], name, notes=["FAILED:\n" + traceback.format_exc()])
            print(traceback.format_exc(), file=sys.stderr)
        sec.raw["wall_seconds"] = time.perf_counter() - t0
        print(f"[bench] {name}: {sec.raw['wall_seconds']:.1f} s", flush=True)
        for t in sec.targets:
            print(f"    {t.verdict:7s} {t.name}: {t.measured:.3g} (target {t.op} {t.threshold})",
                  flush=True)
        sections.append(sec)
        # Write after each module so a long run leaves partial results behind.
        write_report(out, env, sections, cfg, argv, time.perf_counter() - t_all)
    if limiter is not None:
        limiter.restore_original_limits()
    print(f"[bench] wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
