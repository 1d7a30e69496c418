"""Reproduce the paper's Tables 1 and 2: list, print, run locally or submit to Slurm a grid's cells, and gather tables.

    python reproduce.py --set=table1 --budget=cpu-small --seeds=1,2,3 --list
    python reproduce.py --set=table1 --print-commands > commands.txt
    python reproduce.py --set=mnist-lin-row --budget=cpu-small --jobs=2
    python reproduce.py --set=mnist-lin-row --budget=cpu-small --seeds=1,2 --launcher=slurm --slurm_time=4:00:00
    python reproduce.py --set=table1 --budget=cpu-small --seeds=1,2,3 --table
    python reproduce.py --results

The grids and budgets are data in configs/experiments.py; runs go to `{log_dir}/seed{seed}/{sampler}/{dataset}/
{struct}/{baseline}/{k}`. See docs/REPRODUCING.md.
"""
import argparse
import pathlib
import shlex
import signal
import sys

if __name__ == "__main__":  # from the first line on, a stop signal ends the program with one line and 128 + N
    from dvae_sharp.dvae.runner import interrupts
    interrupts.stop_at_once(interrupts.REPRODUCE_STOP)

from dvae_sharp import configs  # noqa: E402
from dvae_sharp.configs import experiments  # noqa: E402
from dvae_sharp.dvae.runner import interrupts, run_files  # noqa: E402
from dvae_sharp.grid import local, results_doc, runs, slurm, tables  # noqa: E402

LAUNCHERS = ("local", "slurm")
# Largest accepted values of the launcher's integer options (a run's own sizes take configs' ranges).
OPTION_RANGES = {"jobs": (1, 1024), "threads_per_job": (1, 1024), "cpus_per_job": (1, 4096), "mem_gb": (1, 65536),
                 "array_parallelism": (1, 100000), "max_requeues": (1, 10000), "gpus_per_job": (0, 64),
                 **{name: configs.integer_range(name) for name in ("eval_iw_samples", "ais_num_betas",
                                                                   "ais_num_chains")}}


class OneLineErrorParser(argparse.ArgumentParser):
    def error(self, message):
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        sys.exit(2)


def build_parser():
    parser = OneLineErrorParser(prog="reproduce.py", description=__doc__.split("\n")[0])
    parser.add_argument("--set", default="table1", help=f"experiment set: {', '.join(experiments.EXPERIMENT_SETS)}")
    parser.add_argument("--budget", default="paper", help=f"training budget: {', '.join(experiments.BUDGETS)}")
    parser.add_argument("--seeds", default="1", help="comma-separated seeds; every cell runs once per seed")
    parser.add_argument("--log_dir", help="root of the runs (default ./logs/{budget})")
    parser.add_argument("--data_dir", help="passed to run.py")
    for name in experiments.FILTERS:
        parser.add_argument(f"--{name}", help=f"comma-separated {name} values to select")
    modes = parser.add_mutually_exclusive_group()
    modes.add_argument("--list", dest="mode", action="store_const", const="list", help="one line per run: status")
    modes.add_argument("--print-commands", dest="mode", action="store_const", const="print-commands",
                       help="one complete run.py command per run, for any other scheduler")
    modes.add_argument("--table", dest="mode", action="store_const", const="table",
                       help="gather the runs into Markdown, CSV and TensorBoard HParams")
    modes.add_argument("--results", dest="mode", action="store_const", const="results",
                       help="regenerate the tables and figures of docs/RESULTS.md from docs/results")
    modes.add_argument("--reevaluate", dest="mode", action="store_const", const="reevaluate",
                       help="the final test of each finished run again with the sizes below (reevaluation.json)")
    again = parser.add_argument_group("--reevaluate")
    again.add_argument("--eval_iw_samples", type=int, default=4000, help="importance samples per test image")
    again.add_argument("--ais_num_betas", type=int, default=1000, help="AIS temperatures")
    again.add_argument("--ais_num_chains", type=int, default=1024, help="AIS chains")
    parser.add_argument("--launcher", choices=LAUNCHERS, help="run the unfinished cells: local processes or a Slurm "
                        "job array")
    parser.add_argument("--jobs", type=int, metavar="N", help="local launcher: runs at a time (default 1)")
    parser.add_argument("--threads_per_job", type=int, help="local launcher: TensorFlow threads per run")
    slurm_group = parser.add_argument_group("Slurm launcher")
    slurm_group.add_argument("--slurm_partition", help="partition (default: the cluster's default)")
    slurm_group.add_argument("--slurm_time", default="24:00:00", help="time limit per task; a task that reaches "
                             "it is requeued from its checkpoint (default 24:00:00)")
    slurm_group.add_argument("--cpus_per_job", type=int, default=1, help="CPUs (and TensorFlow threads) per task")
    slurm_group.add_argument("--gpus_per_job", type=int, default=0, help="GPUs per task")
    slurm_group.add_argument("--mem_gb", type=int, default=8, help="memory per task in GB")
    slurm_group.add_argument("--array_parallelism", type=int, default=64, help="tasks of the array run at once")
    slurm_group.add_argument("--max_requeues", type=int, default=100, help="time-limit requeues per task")
    return parser


def parse_args(argv):
    """Parses and validates everything; a bad value exits with a one-line error and status 2."""
    parser = build_parser()
    options = parser.parse_args(argv)
    for name, choices in (("set", experiments.EXPERIMENT_SETS), ("budget", experiments.BUDGETS)):
        if getattr(options, name) not in choices:
            parser.error(f"--{name}={getattr(options, name)} is unknown; choose one of: {', '.join(choices)}")
    if options.mode is None:
        if options.jobs is None and options.launcher is None:
            parser.error("say what to do: --list, --print-commands, --table, --results, or run the cells with "
                         "--jobs=N (local) or --launcher=slurm")
        options.mode, options.launcher = "launch", options.launcher or "local"
    for name, (lowest, highest) in OPTION_RANGES.items():
        value = getattr(options, name)
        if value is not None and not lowest <= value <= highest:
            parser.error(f"--{name}={value} must be an integer from {lowest} to {highest} (largest accepted value: "
                         f"{highest})")
    options.jobs = options.jobs or 1
    try:
        slurm.minutes(options.slurm_time)
        options.seeds = parse_seeds(options.seeds)
        options.cells = select_cells(experiments.EXPERIMENT_SETS[options.set], options)
    except ValueError as error:
        parser.error(str(error))
    options.log_dir = pathlib.Path(options.log_dir or f"./logs/{options.budget}").absolute()
    return options


def parse_seeds(text):
    try:
        seeds = [int(part) for part in text.split(",")]
    except ValueError:
        raise ValueError(f"--seeds={text} is not a comma-separated list of integers") from None
    lowest, highest = configs.integer_range("seed")
    if not seeds or min(seeds) < lowest or max(seeds) > highest or len(set(seeds)) != len(seeds):
        raise ValueError(f"--seeds={text} must list distinct integers from {lowest} to {highest} (largest accepted "
                         f"value: {highest})")
    return tuple(seeds)


def select_cells(experiment_set, options):
    """The set's cells for the seeds that pass every given filter; a value absent from the set is an error."""
    set_cells = experiment_set.cells(options.seeds)
    cells = set_cells
    for name in experiments.FILTERS:
        if getattr(options, name) is None:
            continue
        available = list(dict.fromkeys(getattr(cell, name) for cell in set_cells))
        wanted = [value.strip() for value in getattr(options, name).split(",")]
        unknown = [value for value in wanted if value not in map(str, available)]
        if unknown:
            raise ValueError(f"--{name}={','.join(unknown)} is not in set {options.set}; "
                             f"choose from: {','.join(map(str, available))}")
        cells = [cell for cell in cells if str(getattr(cell, name)) in wanted]
    if not cells:
        raise ValueError(f"the filters select no run of set {options.set}")
    return cells


def list_runs(options):
    states = slurm.job_states()
    for cell in options.cells:
        status, job_id = slurm.cell_status(cell, options.log_dir, states)
        print(f"{status:9} {cell.name}" + (f"  (job {job_id})" if job_id else ""))
    return 0


def print_commands(options):
    """One line per cell: this interpreter and run.py by absolute path, so the lines run from anywhere."""
    for cell in options.cells:
        print(shlex.join(local.run_command(cell, options)))
    return 0


def write_tables(options):
    found = runs.find_runs(options.log_dir)
    corrupt = [run.error for run in found if run.status == run_files.CORRUPT]
    if corrupt:
        sys.exit(f"reproduce.py: error: {corrupt[0]}")
    try:
        matched = runs.match_runs(options.cells, options.budget, found)
    except ValueError as error:
        sys.exit(f"reproduce.py: error: {error}")
    experiment_set = experiments.EXPERIMENT_SETS[options.set]
    markdown = tables.markdown_table(experiment_set, options.budget, matched, options.seeds)
    options.log_dir.mkdir(parents=True, exist_ok=True)
    outputs = [options.log_dir / f"{options.set}.md", options.log_dir / f"{options.set}.csv",
               options.log_dir / "hparams"]
    outputs[0].write_text(markdown)
    tables.write_csv(outputs[1], experiment_set, matched)
    tables.write_hparams(outputs[2], matched)
    print(markdown)
    print("Wrote " + ", ".join(map(str, outputs)))
    return 0


def launch(options):
    if options.launcher == "slurm":
        return slurm.submit(options.cells, options)
    return local.run_locally(options.cells, options)


def reevaluate(options):
    """Re-evaluates every finished run of the selected cells; prints one line per run."""
    from dvae_sharp.dvae.runner import quiet
    quiet.tensorflow_started()
    from dvae_sharp import data
    from dvae_sharp.dvae.runner import reevaluation, training
    matched = runs.match_runs(options.cells, options.budget, runs.find_runs(options.log_dir))
    failed = 0
    for cell, found in matched.items():
        if found is None or found.status != run_files.FINISHED:
            print(f"skip   {cell.name}: not finished", flush=True)
            continue
        try:
            values = reevaluation.reevaluate(found.directory, options.eval_iw_samples, options.ais_num_betas,
                                             options.ais_num_chains, options.data_dir)
        except (reevaluation.ReevaluationError, training.CheckpointError, run_files.RunFileError,
                data.DataError) as error:
            print(f"failed {cell.name}: {error}", file=sys.stderr, flush=True)
            failed += 1
            continue
        print(f"done   {cell.name}: test NLL {values['metrics']['test/neg_ll']:.3f} ± "
              f"{values['test_neg_ll_mc_stderr']:.3f} with {options.eval_iw_samples} samples (was "
              f"{found.results['metrics']['test/neg_ll']:.3f}); log Z {values['log_z']:.3f} ± "
              f"{values['log_z_stderr']:.3f}; {values['seconds']:.0f} s", flush=True)
    return 1 if failed else 0


def regenerate_results(options):
    try:
        written = results_doc.regenerate()
    except results_doc.ResultsError as error:
        sys.exit(f"reproduce.py: error: {error}")
    print("Wrote " + ", ".join(map(str, written)))
    return 0


MODES = {"list": list_runs, "print-commands": print_commands, "table": write_tables, "launch": launch,
         "results": regenerate_results, "reevaluate": reevaluate}


def main(argv=None):
    """Exit status: 0 when done, 1 for a failure (one line on stderr), 2 for a bad option, 128 + N after signal N."""
    interrupts.check_stopped()
    options = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        with interrupts.surfacing_stops():
            status = MODES[options.mode](options)
    except (OSError, run_files.RunFileError) as error:  # a full disk, an unwritable --log_dir, a damaged record
        sys.exit(f"reproduce.py: error: {error}")
    interrupts.check_stopped()
    return status


def console_main():
    """Entry point of the `dvae-reproduce` command."""
    interrupts.stop_at_once(interrupts.REPRODUCE_STOP)
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `--list | head` ends quietly
    sys.exit(main())


if __name__ == "__main__":
    console_main()
