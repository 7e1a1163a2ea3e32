"""``fairslm demo`` over several seeds: does the baseline fail and the mitigated model pass on
every seed, with how much evidence, and at what accuracy against the true qualification?

Each seed runs the demo pipeline into ``<out>/seed-<S>`` (its step cache makes a rerun reuse
finished steps), then reads that run's ``report.json``. Per seed it prints the baseline's and the
mitigated model's policy verdicts, the mitigated model's statistical parity on every marginal
view with its 95% interval, whether the lower end of every interval clears the threshold
(otherwise the demo calls the pass "thin"), and accuracy against the true qualification.

    PYTHONPATH=src .venv/bin/python benchmarks/demo_seeds.py --seeds 0-4
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


def seed_row(report: dict[str, Any]) -> dict[str, Any]:
    """One seed's figures from a demo ``report.json``."""
    models = {m["name"]: m for m in report["models"]}
    base, final = models[report["summary"]["baseline"]], models[report["summary"]["final"]]
    threshold = report["summary"]["policy"]["threshold"]
    criterion = report["summary"]["policy"]["criteria"][0]
    views = []
    for view in final["audit"]["views"]:
        if "&" in view["name"]:  # the policy judges marginal views
            continue
        crit = next(c for c in view["criteria"] if c["name"] == criterion)
        views.append((view["name"], crit["ratio"], crit.get("ratio_interval")))
    lows = [ci[0] for _, _, ci in views if ci is not None]
    return {
        "baseline": base["policy"]["verdict"], "baseline_worst": base["policy"]["worst"],
        "final": final["policy"]["verdict"], "views": views,
        "solid": bool(lows) and len(lows) == len(views) and min(lows) >= threshold,
        "acc_base": base["truth_audit"]["overall"]["accuracy"],
        "acc_final": final["truth_audit"]["overall"]["accuracy"],
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", default="0-4", help="N (seeds 0..N-1), a list 0,3 or a range 2-4.")
    ap.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "demo-seeds")
    ap.add_argument("--reuse", action="store_true",
                    help="Only read finished runs' report.json; run nothing.")
    args = ap.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from fairslm.training import parse_seeds

    seeds = parse_seeds(args.seeds)
    rows, seconds = {}, {}
    for seed in seeds:
        out = args.out / f"seed-{seed}"
        if not args.reuse:
            from fairslm.pipeline import run_demo

            t0 = time.perf_counter()
            run_demo(out, seed=seed)
            seconds[seed] = time.perf_counter() - t0
        path = out / "report.json"
        if not path.exists():
            print(f"seed {seed}: no {path}; run without --reuse", file=sys.stderr)
            continue
        rows[seed] = seed_row(json.loads(path.read_text(encoding="utf-8")))
    if not rows:
        return 1

    names = [name for name, _, _ in next(iter(rows.values()))["views"]]
    head = (["seed", "baseline"] + [f"mitigated: {n} (95% CI)" for n in names]
            + ["mitigated", "evidence", "acc. vs truth: baseline", "mitigated", "Δ pts"])
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for seed, r in rows.items():
        w = r["baseline_worst"]
        cells = [str(seed), f"{r['baseline']} ({w['view']} {w['ratio']:.3f})"]
        cells += [f"{ratio:.3f} ({ci[0]:.2f}–{ci[1]:.2f})" if ci is not None else f"{ratio:.3f}"
                  for _, ratio, ci in r["views"]]
        delta = 100 * (r["acc_final"] - r["acc_base"])
        cells += [r["final"], "solid" if r["solid"] else "thin",
                  f"{r['acc_base']:.3f}", f"{r['acc_final']:.3f}", f"{delta:+.1f}"]
        print("| " + " | ".join(cells) + " |")
    n = len(rows)
    print(f"\nbaseline fails: {sum(r['baseline'] == 'fail' for r in rows.values())}/{n}; "
          f"mitigated passes: {sum(r['final'] == 'pass' for r in rows.values())}/{n}, "
          f"with every interval above the threshold: {sum(r['solid'] for r in rows.values())}/{n}; "
          f"accuracy vs truth within 1 point of the baseline or better: "
          f"{sum(r['acc_final'] >= r['acc_base'] - 0.01 for r in rows.values())}/{n}")
    if seconds:
        print("wall time per seed (s): " + ", ".join(f"{s}: {t:.0f}" for s, t in seconds.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
