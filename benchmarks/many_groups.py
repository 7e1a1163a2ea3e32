"""Benchmark an audit of many small groups against Fairlearn's MetricFrame on the same data.

20,000 rows in 10,000 groups of two rows (and, for scale, 4,000 rows in 2,000 groups): every
group is below ``min_group_size``, so none can decide a verdict, but each is still counted,
tested, given its closed-form (score) intervals and written out. Measured in the same run, on the same data:

* in process: ``fairslm.audit_predictions`` (every metric, disparities, criteria,
  significance tests) against Fairlearn ``MetricFrame`` with six metrics, then ``ratio()`` and
  ``difference()``;
* end to end, each in a fresh process: ``fairslm audit-predictions FILE.parquet -o audit.json``
  against a script that reads the same Parquet file with pandas and runs the same MetricFrame.

The target is 2 s or less for ``fairslm audit-predictions`` on 20,000 rows in 10,000 groups.
fairslm is timed ``--repeats`` times (median); Fairlearn, which calls each metric group by
group, ``--peer-repeats`` times (default once).
Run ``python benchmarks/many_groups.py`` (a few minutes).
"""

from __future__ import annotations

import argparse
import functools
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd

SIX = ["selection_rate", "true_positive_rate", "false_positive_rate", "true_negative_rate",
       "precision", "accuracy"]
TARGET_S = 2.0


def make_data(n_groups: int, seed: int = 0) -> pd.DataFrame:
    """Two rows per group, labels and decisions at random."""
    rng = np.random.default_rng(seed)
    n = 2 * n_groups
    return pd.DataFrame({
        "y_true": rng.integers(0, 2, n),
        "y_pred": rng.integers(0, 2, n),
        "group": np.array([f"g{i:06d}" for i in range(n_groups)]).repeat(2),
    })


def median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def fairlearn_frame(df: pd.DataFrame) -> None:
    """Six metrics per group with Fairlearn, then its ratio and difference."""
    import warnings

    from fairlearn import metrics as flm
    from sklearn.metrics import accuracy_score, precision_score, recall_score

    fns = {
        "selection_rate": flm.selection_rate,
        "true_positive_rate": recall_score,
        "false_positive_rate": flm.false_positive_rate,
        "true_negative_rate": flm.true_negative_rate,
        "precision": precision_score,
        "accuracy": accuracy_score,
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # precision of a group with no positive decisions
        mf = flm.MetricFrame(metrics=fns, y_true=df["y_true"], y_pred=df["y_pred"],
                             sensitive_features=df["group"])
        mf.ratio()
        mf.difference()


FAIRLEARN_SCRIPT = textwrap.dedent("""
    import sys, warnings
    import pandas as pd
    from fairlearn import metrics as flm
    from sklearn.metrics import accuracy_score, precision_score, recall_score
    df = pd.read_parquet(sys.argv[1])
    fns = {"selection_rate": flm.selection_rate, "true_positive_rate": recall_score,
           "false_positive_rate": flm.false_positive_rate,
           "true_negative_rate": flm.true_negative_rate, "precision": precision_score,
           "accuracy": accuracy_score}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mf = flm.MetricFrame(metrics=fns, y_true=df["y_true"], y_pred=df["y_pred"],
                             sensitive_features=df["group"])
        mf.ratio(); mf.difference()
        mf.by_group.to_json(sys.argv[2])
""")


def run(cmd: list[str]) -> None:
    # Exit 1 is an audit verdict (here "insufficient": every group is below min_group_size).
    done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if done.returncode not in (0, 1):
        raise RuntimeError(f"{cmd[:4]} exited {done.returncode}: {done.stderr}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="timed fairslm runs (median)")
    parser.add_argument("--peer-repeats", type=int, default=1, help="timed Fairlearn runs")
    args = parser.parse_args()

    import fairslm

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n_groups in (2_000, 10_000):
            df = make_data(n_groups)
            label = f"{len(df):,} rows, {n_groups:,} groups"
            y_true, y_pred = df["y_true"].to_numpy(), df["y_pred"].to_numpy()
            groups = df["group"].to_numpy()
            res = fairslm.audit_predictions(y_true, y_pred, sensitive_features=groups)
            assert len(res.view().groups) == n_groups
            ours = median_time(functools.partial(
                fairslm.audit_predictions, y_true, y_pred, sensitive_features=groups
            ), args.repeats)
            peer = median_time(functools.partial(fairlearn_frame, df), args.peer_repeats)
            rows.append((f"{label}, in process", ours, peer))

            parquet = Path(tmp) / f"p{n_groups}.parquet"
            df.to_parquet(parquet)
            script = Path(tmp) / "fairlearn_frame.py"
            script.write_text(FAIRLEARN_SCRIPT)
            cli = [sys.executable, "-m", "fairslm", "audit-predictions", str(parquet),
                   "--y-true", "y_true", "--y-pred", "y_pred", "--sensitive", "group",
                   "-o", str(Path(tmp) / "audit.json")]
            peer_cmd = [sys.executable, str(script), str(parquet), str(Path(tmp) / "fl.json")]
            ours = median_time(functools.partial(run, cli), args.repeats)
            peer = median_time(functools.partial(run, peer_cmd), args.peer_repeats)
            rows.append((f"{label}, CLI from Parquet (fresh process)", ours, peer))

    print(f"fairslm: median of {args.repeats} runs; peer: Fairlearn MetricFrame (six metrics, "
          f"ratio, difference), median of {args.peer_repeats}")
    print(f"{'case':<60} {'fairslm s':>10} {'Fairlearn s':>12} {'ratio':>7}")
    for case, ours, peer in rows:
        print(f"{case:<60} {ours:>10.2f} {peer:>12.2f} {ours / peer:>7.2f}")
    cli_10k = rows[3][1]
    print(f"target: fairslm audit-predictions on 20,000 rows x 10,000 groups <= {TARGET_S:g} s: "
          f"{'met' if cli_10k <= TARGET_S else 'NOT met'} ({cli_10k:.2f} s)")


if __name__ == "__main__":
    main()
