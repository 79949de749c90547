"""Write RESULTS.md (and a JSON twin with the raw repeats) from the benchmark sections."""
from __future__ import annotations

import json
import math
import os
from pathlib import Path

from bench.harness import Config, Section


def _md_table(headers: list[str], rows: list[list]) -> list[str]:
    def cell(x) -> str:
        return str(x).replace("|", "\\|").replace("\n", " ")
    lines = ["| " + " | ".join(cell(h) for h in headers) + " |",
             "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return lines


def _fmt_measured(t) -> str:
    if t.measured is None or (isinstance(t.measured, float) and math.isnan(t.measured)):
        return "n/a"
    if t.measured == math.inf:
        return "inf (not reached)"
    return f"{t.measured:.3g}{t.unit}"


def write_report(path: Path, env: dict, sections: list[Section], cfg: Config, argv: list[str],
                 wall: float) -> None:
    path = Path(path)
    cmd = "python -m bench" + (" " + " ".join(argv) if argv else "")
    lines = [
        "# robonet benchmarks: results",
        "",
        f"Written by `{cmd}` on {env['date']} (mode: {cfg.mode}, total wall time {wall / 60:.1f} min). "
        "Every table comes from this one run; contenders were timed side by side in the same process, "
        "after warm-up, with the repeats interleaved; times are median [min, max]; ratios are "
        "medians over medians. How to read and reproduce: bench/README.md.",
        "",
        "## Machine and settings",
        "",
    ]
    m = env["machine"]
    lines += [f"- CPU: {m['cpu']}, {m['cores']} cores; memory {m['memory']}; {m['platform']}",
              f"- load average when the run started: {m['load_average_at_start']} "
              "(the machine was shared with other work; see the min-max spreads)",
              "- versions: " + ", ".join(f"{k} {v}" for k, v in env["versions"].items()),
              "- threads: " + ", ".join(f"{k}={v}" for k, v in env["threads"].items())
              + "; NumPy BLAS limited to 1 thread with threadpoolctl, torch.set_num_threads(1)",
              f"- OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE in the caller's environment: "
              f"{env['openblas_env']['set_in_callers_environment']}; removed for this run: "
              f"{env['openblas_env']['removed_for_this_run']}; kernel they would select: "
              f"{env['openblas_env']['kernel_with_them']}"]
    blas = env.get("blas")
    if isinstance(blas, list):
        lines.append("- BLAS/OpenMP libraries (threadpoolctl, as the run started):")
        for d in blas:
            lines.append("  - " + ", ".join(f"{k}={v}" for k, v in d.items()))
    lines += ["", "## Targets", ""]
    rows = []
    for sec in sections:
        for t in sec.targets:
            rows.append([sec.title.split(":")[0], t.name, _fmt_measured(t), f"{t.op} {t.threshold:g}{t.unit}",
                         t.verdict])
    lines += _md_table(["comparison", "target", "measured", "target", "verdict"], rows)
    for sec in sections:
        lines += ["", f"## {sec.title}", ""]
        if sec.intro:
            lines += [sec.intro, ""]
        for tab in sec.tables:
            lines += [f"**{tab.title}**", ""] + _md_table(tab.headers, tab.rows) + [""]
            if tab.note:
                lines += [tab.note, ""]
        if sec.targets:
            lines += ["Targets: " + "; ".join(f"{t.name}: {_fmt_measured(t)} "
                                              f"(target {t.op} {t.threshold:g}{t.unit}) **{t.verdict}**"
                                              + (f" - {t.detail}" if t.detail else "")
                                              for t in sec.targets), ""]
        for p in sec.plots:
            rel = os.path.relpath(p, path.parent)
            lines += [f"![{Path(p).stem}]({rel})", ""]
        for note in sec.notes:
            if "\n" in note:
                lines += ["```", note, "```", ""]
            else:
                lines += [f"- {note}"]
        if sec.notes:
            lines.append("")
        for title, prof in sec.profiles.items():
            lines += [f"Profile (cProfile, top entries by own time): {title}", "", "```", prof, "```", ""]
        lines.append(f"_Section wall time: {sec.raw.get('wall_seconds', float('nan')):.0f} s._")
    path.write_text("\n".join(lines) + "\n")
    raw = {"env": env, "mode": cfg.mode,
           "sections": {s.key: {k: v for k, v in s.raw.items()} for s in sections}}
    json_path = cfg.out_dir / (path.stem + ".json")
    json_path.write_text(json.dumps(raw, indent=1, default=str))
