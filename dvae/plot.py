"""Draw samples.png and bounds.png (dvae/run_figures.py) for a run directory or for every run below a directory.

    dvae-plot logs/make-run                                  # every run below it, PNGs into each run directory
    dvae-plot logs/make-run/binarized_mnist/1-layer-lin/dvaes_power/1 --out_dir=plots
    python -m dvae_sharp.dvae.plot RUN_OR_LOG_DIR [--checkpoint=latest] [--seed=1] [--num_sweeps=1000] [--data_dir=...]

A run directory is one holding config.json. With --out_dir, each run's pictures go to out_dir/<its path below the
given directory>/. A run still training is drawn as far as it has got; a run without a checkpoint yet gets only
bounds.png. Bad arguments stop the command with one line on stderr before anything is drawn; a run that cannot be
drawn is reported in one line and the others are drawn (exit status 1 at the end).
"""
import argparse
import os
import pathlib
import sys

SAMPLES_FILE, BOUNDS_FILE = "samples.png", "bounds.png"


class OneLineErrorParser(argparse.ArgumentParser):
    def error(self, message):
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        sys.exit(2)


def build_parser():
    parser = OneLineErrorParser(prog="dvae-plot", description=__doc__.split("\n")[0])
    parser.add_argument("path", help="a run directory, or a directory with runs below it (a grid's log_dir)")
    parser.add_argument("--out_dir", help="where the PNGs go (default: into each run directory)")
    parser.add_argument("--checkpoint", choices=("best", "latest"), default=None,
                        help="model to draw samples from (default: best if saved, else latest)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the prior samples and reconstructions")
    parser.add_argument("--num_sweeps", type=int, default=1000,
                        help="Gibbs sweeps of population annealing per batch of prior samples (≥ 10)")
    parser.add_argument("--data_dir", help="dataset directory; default: $DVAE_DATA_DIR, then ~/.cache/dvae_sharp")
    return parser


def find_runs(path):
    """The run directories at or below `path` (those holding config.json), sorted."""
    from dvae_sharp.dvae.runner import run_files
    if (path / run_files.CONFIG_FILE).is_file():
        return [path]
    return sorted(found.parent for found in path.rglob(run_files.CONFIG_FILE))


def check_arguments(args):
    """(root, run directories, output root or None); SystemExit with one line for bad arguments."""
    root = pathlib.Path(args.path)
    if not root.is_dir():
        sys.exit(f"dvae-plot: error: {root} is not a directory")
    if args.num_sweeps < 10:
        sys.exit(f"dvae-plot: error: --num_sweeps must be at least 10, got {args.num_sweeps}")
    out_dir = pathlib.Path(args.out_dir) if args.out_dir else None
    if out_dir is not None and out_dir.exists() and not out_dir.is_dir():
        sys.exit(f"dvae-plot: error: --out_dir {out_dir} exists and is not a directory")
    runs = find_runs(root)
    if not runs:
        sys.exit(f"dvae-plot: error: {root} holds no run (no config.json in it or below it)")
    return root, runs, out_dir


def draw_run(run_dir, target, args):
    """Writes the run's PNGs into `target`; returns the paths written and a note (or None)."""
    import tensorflow as tf

    from dvae_sharp import configs
    from dvae_sharp.dvae import api, run_figures
    from dvae_sharp.dvae.runner import run_files
    results = run_files.read_results(run_dir) if (run_dir / run_files.RESULTS_FILE).exists() else None
    config = configs.Config.from_dict(results["config"] if results else
                                      run_files.read_json(run_dir / run_files.CONFIG_FILE))
    target.mkdir(parents=True, exist_ok=True)
    written = [run_figures.bounds_figure(run_dir, config, results, target / BOUNDS_FILE)]
    if not any(tf.train.latest_checkpoint(str(run_dir / name)) for name in api.CHECKPOINTS.values()):
        return written, f"no {SAMPLES_FILE}: no checkpoint yet"
    trained = api.load_run(run_dir, checkpoint=args.checkpoint, data_dir=args.data_dir)
    written.append(run_figures.samples_figure(trained, target / SAMPLES_FILE, args.seed, args.num_sweeps))
    return written, None


def main(argv=None):
    args = build_parser().parse_args(argv)
    root, runs, out_dir = check_arguments(args)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from dvae_sharp.dvae.runner import quiet, run_files
    quiet.tensorflow_started().get_logger().setLevel("ERROR")  # no retracing notices: each run has a new model
    from dvae_sharp.dvae import api
    failed = 0
    for run_dir in runs:
        target = out_dir / run_dir.relative_to(root) if out_dir else run_dir
        try:
            written, note = draw_run(run_dir, target, args)
        except (api.LoadError, run_files.RunFileError, OSError, ValueError) as error:
            print(f"dvae-plot: {run_dir}: {error}", file=sys.stderr, flush=True)
            failed += 1
            continue
        print(f"{run_dir}: {', '.join(str(path) for path in written)}" + (f" ({note})" if note else ""), flush=True)
    return 1 if failed else 0


def console_main():
    """Entry point of the `dvae-plot` command."""
    sys.exit(main())


if __name__ == "__main__":
    console_main()
