"""The local launcher: runs a grid's unfinished cells as run.py processes of this interpreter, N at a time.

A stop signal (Ctrl-C, SIGTERM, SIGUSR1/2) is forwarded to every running child, which saves its checkpoint and
exits; the launcher waits for them (killing any still running after `INTERRUPT_GRACE_SECONDS`) and exits with
128 + the signal number. Each child gets its own session, so a terminal's Ctrl-C reaches it only this way.
"""
import datetime
import os
import pathlib
import shlex
import signal
import subprocess
import sys
import time

from dvae_sharp.dvae.runner import interrupts, run_files
from dvae_sharp.grid import runs

RUN_SCRIPT = pathlib.Path(__file__).resolve().parent.parent / "run.py"
STDOUT_LOG = "stdout.log"
INTERRUPT_GRACE_SECONDS = 300
POLL_SECONDS = 0.2
THREAD_VARIABLES = ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS")


def worker_environment(jobs, threads=None):
    """The children's environment: unbuffered output and, with several workers (or `threads` given), that many
    threads each (default: a share of this process's cores)."""
    environment = {**os.environ, "PYTHONUNBUFFERED": "1"}
    if jobs > 1 or threads:
        count = str(threads or max(1, len(os.sched_getaffinity(0)) // jobs))
        for name in THREAD_VARIABLES:
            environment.setdefault(name, count)
    return environment


def run_command(cell, options):
    """The run.py command of `cell` with this interpreter."""
    return [sys.executable, str(RUN_SCRIPT), *runs.run_arguments(cell, options.budget, options.log_dir,
                                                                   options.data_dir)]


def format_seconds(seconds):
    return str(datetime.timedelta(seconds=round(seconds)))


class _Job:
    def __init__(self, number, cell, options, environment):
        self.number, self.cell, self.started = number, cell, time.monotonic()
        directory = runs.run_dir(cell, options.log_dir)
        directory.mkdir(parents=True, exist_ok=True)
        self.log_path = directory / STDOUT_LOG
        command = run_command(cell, options)
        self.log = open(self.log_path, "a")
        self.log.write(f"\n=== {datetime.datetime.now().isoformat(timespec='seconds')}: {shlex.join(command)}\n")
        self.log.flush()
        self.process = subprocess.Popen(command, stdout=self.log, stderr=subprocess.STDOUT, env=environment,
                                        start_new_session=True)


def run_locally(cells, options):
    """Runs every unfinished cell, `options.jobs` at a time. Returns 0, 1 if any run failed, or 128 + N after
    signal N stopped the grid."""
    total, environment = len(cells), worker_environment(options.jobs, options.threads_per_job)
    pending = []
    for number, cell in enumerate(cells, 1):
        if runs.status_of(cell, options.log_dir) == run_files.FINISHED:
            print(f"[{number}/{total}] skip   {cell.name}: finished", flush=True)
        else:
            pending.append((number, cell))
    running, failed = [], []
    with interrupts.StopSignals() as stop:
        try:
            while pending or running:
                while pending and len(running) < options.jobs and not stop.requested:
                    number, cell = pending.pop(0)
                    print(f"[{number}/{total}] start  {cell.name}", flush=True)
                    running.append(_Job(number, cell, options, environment))
                if stop.requested:
                    return _stop(running, stop.signum)
                ended = [job for job in running if job.process.poll() is not None]
                for job in ended:
                    running.remove(job)
                    failed += _report_end(job, total)
                time.sleep(0 if ended else POLL_SECONDS)
        except KeyboardInterrupt:  # a second Ctrl-C: stop at once
            for job in running:
                job.process.kill()
            raise
    print(f"{total - len(failed)} of {total} runs finished" + (f"; failed: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


def _report_end(job, total):
    """Prints the end line of a run and returns [its name] if it failed, else []."""
    job.log.close()
    code = job.process.returncode
    outcome = "done  " if code == 0 else "FAILED"
    print(f"[{job.number}/{total}] {outcome} {job.cell.name}: exit {code} after "
          f"{format_seconds(time.monotonic() - job.started)} (log: {job.log_path})", flush=True)
    return [job.cell.name] if code else []


def _stop(running, signum):
    """Forwards `signum` to every child once, waits for their checkpoints, kills those that outlast the grace
    period; returns 128 + signum."""
    for job in running:
        job.process.send_signal(signum)
    deadline = time.monotonic() + INTERRUPT_GRACE_SECONDS
    for job in running:
        try:
            job.process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            job.process.kill()
            job.process.wait()
        job.log.close()
    name = signal.Signals(signum).name
    print(f"Stopped by {name}; {len(running)} running run(s) saved their state. Re-run the same command to "
          f"resume.", flush=True)
    return 128 + signum
