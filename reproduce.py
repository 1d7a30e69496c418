"""Reproduce the paper's Table 1 and Table 2: list, print or run the grid's `run.py` commands, and gather tables.

    python reproduce.py --set=table1 --budget=cpu-small --list
    python reproduce.py --set=table1 --print-commands > commands.txt
    python reproduce.py --set=mnist-lin-row --budget=cpu-small --jobs=2
    python reproduce.py --set=table1 --budget=cpu-small --table

The grids and budgets are data in configs/experiments.py. Runs live in `{log_dir}/{sampler}/{dataset}/{struct}/
{baseline}/{k}` with sampler `pa` (population annealing) or `pcd`; dvae/result_tables.py finds them and builds the
tables. See docs/REPRODUCING.md.
"""
import argparse
import contextlib
import datetime
import os
import pathlib
import shlex
import signal
import subprocess
import sys
import time

from configs import experiments
from dvae import result_tables
from dvae.result_tables import FINISHED, run_dir, run_status

RUN_SCRIPT = pathlib.Path(__file__).resolve().with_name("run.py")
STDOUT_LOG = "stdout.log"
INTERRUPT_GRACE_SECONDS = 120
POLL_SECONDS = 0.2
THREAD_VARIABLES = ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS")


class OneLineErrorParser(argparse.ArgumentParser):
    def error(self, message):
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        sys.exit(2)


def build_parser():
    parser = OneLineErrorParser(prog="reproduce.py", description=__doc__.split("\n")[0])
    parser.add_argument("--set", default="table1", help=f"experiment set: {', '.join(experiments.EXPERIMENT_SETS)}")
    parser.add_argument("--budget", default="paper", help=f"training budget: {', '.join(experiments.BUDGETS)}")
    parser.add_argument("--log_dir", help="root of the runs (default ./logs/{budget})")
    parser.add_argument("--data_dir", help="passed to run.py")
    for name in experiments.FILTERS:
        parser.add_argument(f"--{name}", help=f"comma-separated {name} values to select")
    modes = parser.add_mutually_exclusive_group(required=True)
    modes.add_argument("--list", dest="mode", action="store_const", const="list", help="one line per run: status")
    modes.add_argument("--print-commands", dest="mode", action="store_const", const="print-commands",
                       help="one complete run.py command per run, for a job array")
    modes.add_argument("--table", dest="mode", action="store_const", const="table",
                       help="gather results.json files into Markdown, CSV and TensorBoard HParams")
    modes.add_argument("--jobs", type=int, metavar="N", help="run the unfinished runs locally, N at a time")
    return parser


def parse_args(argv):
    """Parses and validates everything; a bad value exits with a one-line error and status 2."""
    parser = build_parser()
    options = parser.parse_args(argv)
    for name, choices in (("set", experiments.EXPERIMENT_SETS), ("budget", experiments.BUDGETS)):
        if getattr(options, name) not in choices:
            parser.error(f"--{name}={getattr(options, name)} is unknown; choose one of: {', '.join(choices)}")
    if options.jobs is not None:
        if options.jobs < 1:
            parser.error(f"--jobs={options.jobs} must be >= 1")
        options.mode = "jobs"
    options.log_dir = pathlib.Path(options.log_dir or f"./logs/{options.budget}")
    options.experiment_set = experiments.EXPERIMENT_SETS[options.set]
    try:
        options.cells = select_cells(options.experiment_set.cells(), options)
    except ValueError as error:
        parser.error(str(error))
    return options


def select_cells(set_cells, options):
    """The cells that pass every given filter; a value absent from the set is an error."""
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


def run_arguments(cell, options):
    """run.py's flags for one cell under the chosen budget, as `--name=value` strings."""
    sampler = experiments.SAMPLERS[cell.sampler]
    values = {"dataset": cell.dataset, "struct": cell.struct, "baseline": cell.baseline, "k": cell.k,
              "qupa": sampler.qupa, "log_dir": options.log_dir / sampler.log_subdir,
              **experiments.BUDGETS[options.budget]}
    if options.data_dir:
        values["data_dir"] = options.data_dir
    return [f"--{name}={value}" for name, value in values.items()]


def list_runs(options):
    for cell in options.cells:
        print(f"{run_status(run_dir(cell, options.log_dir)):8}  {cell.sampler:3}  {cell.experiment_id}")
    return 0


def print_commands(options):
    script = os.path.relpath(RUN_SCRIPT)
    for cell in options.cells:
        print(shlex.join(["python", script, *run_arguments(cell, options)]))
    return 0


def worker_environment(jobs):
    """The children's environment: unbuffered output and, with several workers, a share of the cores each."""
    environment = {**os.environ, "PYTHONUNBUFFERED": "1"}
    if jobs > 1:
        threads = str(max(1, len(os.sched_getaffinity(0)) // jobs))
        for name in THREAD_VARIABLES:
            environment.setdefault(name, threads)
    return environment


def start_run(cell, options, environment):
    directory = run_dir(cell, options.log_dir)
    directory.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, str(RUN_SCRIPT), *run_arguments(cell, options)]
    log = open(directory / STDOUT_LOG, "a")
    log.write(f"\n=== {datetime.datetime.now().isoformat(timespec='seconds')}: {shlex.join(command)}\n")
    log.flush()
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=environment,
                               start_new_session=True)
    return process, log


def format_seconds(seconds):
    return str(datetime.timedelta(seconds=round(seconds)))


def run_locally(options):
    """Runs every unfinished cell, `options.jobs` at a time; returns 1 if any failed, 130 on Ctrl-C."""
    total, environment = len(options.cells), worker_environment(options.jobs)
    pending = []
    for number, cell in enumerate(options.cells, 1):
        if run_status(run_dir(cell, options.log_dir)) == FINISHED:
            print(f"[{number}/{total}] skip   {cell.sampler} {cell.experiment_id}: finished", flush=True)
        else:
            pending.append((number, cell))
    running, failed = {}, []
    try:
        while pending or running:
            while pending and len(running) < options.jobs:
                number, cell = pending.pop(0)
                print(f"[{number}/{total}] start  {cell.sampler} {cell.experiment_id}", flush=True)
                running[start_run(cell, options, environment)] = (number, cell, time.monotonic())
            ended = [job for job in running if job[0].poll() is not None]
            for job in ended:
                failed += report_end(job, *running.pop(job), total, options.log_dir)
            time.sleep(0 if ended else POLL_SECONDS)
    except KeyboardInterrupt:
        stop_runs(list(running))
        print(f"Interrupted; {len(running)} running run(s) stopped. Re-run the same command to resume.", flush=True)
        return 130
    print(f"{total - len(failed)} of {total} runs finished" + (f"; failed: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


def report_end(job, number, cell, started, total, log_dir):
    """Prints the end line of a run and returns [its name] if it failed, else []."""
    process, log = job
    log.close()
    outcome = "done  " if process.returncode == 0 else "FAILED"
    name = f"{cell.sampler} {cell.experiment_id}"
    print(f"[{number}/{total}] {outcome} {name}: exit {process.returncode} after "
          f"{format_seconds(time.monotonic() - started)} (log: {run_dir(cell, log_dir) / STDOUT_LOG})", flush=True)
    return [name] if process.returncode else []


def stop_runs(jobs):
    """Sends each child one SIGINT (run.py saves a checkpoint and exits); kills those still alive after the grace
    period or at a second Ctrl-C."""
    for process, _ in jobs:
        process.send_signal(signal.SIGINT)
    deadline = time.monotonic() + INTERRUPT_GRACE_SECONDS
    with contextlib.suppress(subprocess.TimeoutExpired, KeyboardInterrupt):
        for process, _ in jobs:
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
    for process, log in jobs:
        if process.poll() is None:
            process.kill()
            process.wait()
        log.close()


def write_tables(options):
    markdown, outputs = result_tables.write_tables(options.experiment_set, options.set, options.cells,
                                                   options.log_dir, options.budget)
    print(markdown)
    print("Wrote " + ", ".join(map(str, outputs)))
    return 0


MODES = {"list": list_runs, "print-commands": print_commands, "jobs": run_locally, "table": write_tables}


def main(argv=None):
    options = parse_args(sys.argv[1:] if argv is None else argv)
    return MODES[options.mode](options)


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `--list | head` ends quietly
    sys.exit(main())
