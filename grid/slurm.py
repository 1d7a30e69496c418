"""The Slurm launcher: a grid's unfinished cells as one job array submitted through submitit.

Each array task runs one cell in its own process with this interpreter (`CellJob`), from the run directory's
latest checkpoint. Slurm's warning signal before a time limit or a preemption (SIGUSR2, `--signal=USR2@90`, as
submitit asks) makes the run save a checkpoint at its next safe point; the signal is then handed back to submitit,
which requeues the task, and the requeued task resumes to the numbers of an uninterrupted run. An external
`scontrol requeue` sends SIGTERM first: the run saves its checkpoint the same way and Slurm restarts it.

Each submission is recorded in the cell's run directory (`slurm.json`: job id, log files, time), so `--list`
can report queued, running, requeued, finished and failed cells with their job ids. Job states come from
`squeue` and `scontrol`, which need no accounting database.
"""
import datetime
import os
import re
import signal
import subprocess
import sys
import time

from dvae_sharp.dvae.runner import run_files
from dvae_sharp.grid import local, runs

RECORD_FILE = "slurm.json"
QUEUED, RUNNING, REQUEUED, FAILED = "queued", "running", "requeued", "failed"
LIVE_STATES = {"PENDING": QUEUED, "CONFIGURING": RUNNING, "RUNNING": RUNNING, "COMPLETING": RUNNING,
               "REQUEUED": REQUEUED, "REQUEUE_HOLD": REQUEUED, "REQUEUE_FED": REQUEUED, "SUSPENDED": RUNNING,
               "RESIZING": RUNNING, "SIGNALING": RUNNING, "STAGE_OUT": RUNNING}


def minutes(text):
    """A Slurm time limit (`M`, `M:S`, `H:M:S`, `D-H`, `D-H:M`, `D-H:M:S`) in whole minutes, rounded up, at least
    one. ValueError (one line) if malformed."""
    text = str(text).strip()
    days, _, clock = text.rpartition("-")
    try:
        parts = [int(part) for part in clock.split(":")]
        if days or len(parts) == 3:
            hours, mins, secs = (parts + [0, 0])[:3]
            seconds = int(days or 0) * 86400 + hours * 3600 + mins * 60 + secs
        elif len(parts) <= 2:
            seconds = parts[0] * 60 + (parts[1] if len(parts) == 2 else 0)
        else:
            raise ValueError
    except ValueError:
        raise ValueError(f"--slurm_time={text} is not a Slurm time (minutes, H:M:S or D-H:M:S)") from None
    if len(parts) > 3 or min(parts) < 0 or seconds < 1:
        raise ValueError(f"--slurm_time={text} is not a positive Slurm time (minutes, H:M:S or D-H:M:S)")
    return max(1, -(-seconds // 60))


class CellJob:
    """One cell run in the Slurm task's process: run.py's flags `arguments`, `threads` TensorFlow threads.

    Checkpointable for submitit: `checkpoint` resubmits the same call, which resumes from the run directory.
    """

    def __call__(self, arguments, threads):
        for name in local.THREAD_VARIABLES:
            os.environ[name] = str(threads)
        os.environ.setdefault("PYTHONUNBUFFERED", "1")
        from dvae_sharp import run
        status = run.run_in_process(arguments)
        if status == 0:
            return status
        signum = status - 128
        if signum in (signal.SIGUSR1, signal.SIGUSR2):
            # The checkpoint is saved; submitit's handler (restored when the run ended) requeues the task.
            os.kill(os.getpid(), _submitit_signal())
            time.sleep(60)
        if signum > 0:
            sys.exit(status)  # SIGTERM: Slurm itself is requeueing or cancelling the task
        raise RuntimeError(f"run.py {' '.join(arguments)} ended with exit status {status}")

    def checkpoint(self, *args, **kwargs):
        import submitit
        return submitit.helpers.DelayedSubmission(self, *args, **kwargs)


def _submitit_signal():
    return getattr(signal, "SIG" + os.environ.get("SUBMITIT_PREEMPT_SIGNAL", "USR2").removeprefix("SIG"))


def submit(cells, options):
    """Submits every cell that is neither finished nor queued or running as one job array; returns 0."""
    states = job_states()
    pending = [cell for cell in cells if cell_status(cell, options.log_dir, states)[0] not in
               (run_files.FINISHED, QUEUED, RUNNING, REQUEUED)]
    for cell in cells:
        if cell not in pending:
            status, job_id = cell_status(cell, options.log_dir, states)
            print(f"skip   {cell.name}: {status}" + (f" (job {job_id})" if job_id else ""), flush=True)
    if not pending:
        print("Nothing to submit.", flush=True)
        return 0
    import submitit
    executor = submitit.SlurmExecutor(folder=options.log_dir / "slurm" / "%j", max_num_timeout=options.max_requeues)
    parameters = dict(job_name=f"dvae-{options.set}", time=minutes(options.slurm_time),
                      cpus_per_task=options.cpus_per_job, array_parallelism=options.array_parallelism,
                      additional_parameters={"requeue": True})
    for name, value in (("partition", options.slurm_partition), ("gpus_per_node", options.gpus_per_job),
                        ("mem", f"{options.mem_gb}G" if options.mem_gb else None)):
        if value:
            parameters[name] = value
    executor.update_parameters(**parameters)
    arguments = [runs.run_arguments(cell, options.budget, options.log_dir.resolve(), options.data_dir)
                 for cell in pending]
    jobs = executor.map_array(CellJob(), arguments, [options.cpus_per_job] * len(pending))
    for cell, job in zip(pending, jobs):
        _record(cell, options.log_dir, job)
        print(f"queued {cell.name}: job {job.job_id} (log {job.paths.stdout})", flush=True)
    print(f"Submitted {len(jobs)} array task(s) as job {jobs[0].job_id.split('_')[0]}.", flush=True)
    return 0


def _record(cell, log_dir, job):
    directory = runs.run_dir(cell, log_dir)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / RECORD_FILE
    try:
        history = run_files.read_json(path).get("submissions", []) if path.exists() else []
    except run_files.RunFileError:
        history = []  # the unreadable record only held earlier job ids; the new one is complete
    entry = {"job_id": job.job_id, "stdout": str(job.paths.stdout), "stderr": str(job.paths.stderr),
             "submitted": datetime.datetime.now().isoformat(timespec="seconds")}
    run_files.write_json(path, {**entry, "submissions": [*history, entry]})


def job_states():
    """{job id: (Slurm state, restart count)} of this user's jobs in the queue, array tasks one by one; {} when
    Slurm cannot be asked."""
    try:
        listing = subprocess.run(["squeue", "-h", "-r", "-u", str(os.getuid()), "-o", "%i|%T"], capture_output=True,
                                 text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return {}
    states = {}
    for line in listing.stdout.splitlines():
        job_id, _, state = line.partition("|")
        if job_id:
            states[job_id.strip()] = (state.strip(), _restarts(job_id.strip()))
    return states


def _restarts(job_id):
    try:
        shown = subprocess.run(["scontrol", "-o", "show", "job", job_id], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return 0
    match = re.search(r"\bRestarts=(\d+)", shown.stdout)
    return int(match.group(1)) if match else 0


def cell_status(cell, log_dir, states):
    """(status, job id or None): finished / corrupt from the run directory, else queued / running / requeued from
    Slurm, else failed (a job was submitted and is gone without results), else partial / missing. RunFileError
    (one line) if the cell's slurm.json is unreadable."""
    directory = runs.run_dir(cell, log_dir)
    status = run_files.run_status(directory)
    record = directory / RECORD_FILE
    try:
        job_id = run_files.read_json(record).get("job_id") if record.exists() else None
    except run_files.RunFileError as error:
        raise run_files.RunFileError(f"{error}; delete it (it only records the cell's Slurm job ids)") from None
    if status in (run_files.FINISHED, run_files.CORRUPT):
        return status, job_id
    if job_id is None:
        return status, None
    state, restarts = states.get(job_id, (None, 0))
    if state is None:
        return FAILED, job_id
    live = LIVE_STATES.get(state, state.lower())
    return (REQUEUED if restarts and live == QUEUED else live), job_id
