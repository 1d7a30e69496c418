"""Wall time of a study segment: an earlier revision against this checkout, alternating, in one sitting.

A segment is what a `cpu-small` cell of the study pays for its first 2000 steps and one periodic evaluation:
`run.py` with the `cpu-small` budget's flags (binarized MNIST, 1-layer-lin, k = 5, seed 1) and `--eval_every=2000`,
one TensorFlow thread, timed from the start of the process until the evaluation at step 2000 has printed its line
(start-up, data, tracing, 2000 training steps, AIS log Z and the validation and test bounds). The process is then
stopped; nothing of the run is kept. Each round times the revision `--before` (checked out into a temporary git
worktree) and this checkout once each, and the order alternates from round to round. Usage:

    DVAE_DATA_DIR=... python -m benchmarks.segment --before=0a4e4a5 [--rounds=3] [--baseline=dvaes_power]
"""
import argparse
import os
import pathlib
import subprocess
import sys
import tempfile
import time

import numpy as np

from dvae_sharp.configs import experiments

REPO = pathlib.Path(__file__).resolve().parent.parent
STEPS = 2000


def segment_command(checkout, baseline, log_dir):
    """The cpu-small command of the segment's cell, evaluating first at step STEPS."""
    flags = {"dataset": "binarized_mnist", "struct": "1-layer-lin", "baseline": baseline, "k": 5, "seed": 1,
             **experiments.BUDGETS["cpu-small"], "eval_every": STEPS, "log_dir": log_dir}
    return [sys.executable, str(checkout / "run.py"), *(f"--{name}={value}" for name, value in flags.items())]


def segment_seconds(checkout, baseline):
    """Seconds from the start of run.py until the line of its evaluation at step STEPS."""
    environment = {**os.environ, "TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1"}
    with tempfile.TemporaryDirectory() as log_dir:
        start = time.perf_counter()
        process = subprocess.Popen(segment_command(checkout, baseline, log_dir), stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True, env=environment, cwd=checkout)
        try:
            for line in process.stdout:
                if line.startswith(f"Step {STEPS}:"):
                    return time.perf_counter() - start
            raise SystemExit(f"segment: {checkout}/run.py ended before its evaluation at step {STEPS}")
        finally:
            process.kill()
            process.wait()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", required=True, help="git revision to compare this checkout against")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of one segment each (default 3)")
    parser.add_argument("--baseline", default="dvaes_power", help="baseline of the cell (default dvaes_power)")
    options = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as parent:
        before = pathlib.Path(parent) / "before"
        subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", str(before), options.before],
                       check=True, capture_output=True)
        try:
            times = {"before": [], "after": []}
            for index in range(options.rounds):
                order = [("before", before), ("after", REPO)][::1 if index % 2 == 0 else -1]
                for name, checkout in order:
                    times[name].append(segment_seconds(checkout, options.baseline))
                    print(f"round {index + 1}: {name} {times[name][-1]:.1f} s", flush=True)
        finally:
            subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(before)], check=False)
    print(f"\n{STEPS} steps and one evaluation of a cpu-small 1-layer-lin k = 5 cell ({options.baseline}), one thread; "
          f"seconds per segment, {options.rounds} rounds alternating\n")
    print("| code | median s | range s |\n|---|---:|---:|")
    for name, label in (("before", options.before), ("after", "this checkout")):
        print(f"| {label} | {np.median(times[name]):.1f} | {min(times[name]):.1f}–{max(times[name]):.1f} |")
    print(f"\nafter / before (medians): {np.median(times['after']) / np.median(times['before']):.3f}")


if __name__ == "__main__":
    main()
