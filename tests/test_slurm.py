"""A small grid through `reproduce.py --launcher=slurm` on a real single-node Slurm cluster (scripts/local-slurm.sh
brings it up if it is not running and can be started; elsewhere the test is skipped with the reason): two of its
three tasks are stopped mid-run, one by the time-limit signal (SIGUSR2, which submitit answers by requeueing) and
one by `scontrol requeue` (SIGTERM); every cell must finish, and the requeued cells' numbers must equal those of an
uninterrupted run, bit for bit."""
import json
import os
import pathlib
import re
import subprocess
import sys
import time

import pytest

from dvae_sharp.configs import experiments
from dvae_sharp.grid import runs, slurm
from tests import environment
from tests.test_reliability import COMPARED

pytestmark = pytest.mark.slow
REPO = pathlib.Path(__file__).resolve().parent.parent
SET, BUDGET = "mnist-lin-trend", "smoke"
TIMEOUT_S = 900


def slurm_answers():
    try:
        return subprocess.run(["sinfo", "-h"], capture_output=True, timeout=60).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


@pytest.fixture(scope="module")
def slurm_cluster():
    """SLURM_CONF of a running cluster: the one named by $SLURM_CONF if it answers, else one brought up here and
    taken down (with its state directory) after the module's tests. Where neither can be had (no root, Slurm not
    installed) the test is skipped with the reason; nothing is installed here (`scripts/local-slurm.sh install`
    does that, as root, and .ci/run calls it)."""
    if os.environ.get("SLURM_CONF") and slurm_answers():
        yield os.environ["SLURM_CONF"]
        return
    script = str(REPO / "scripts" / "local-slurm.sh")
    check = subprocess.run([script, "check"], capture_output=True, text=True)
    environment.require(check.returncode == 0, f"no Slurm cluster in $SLURM_CONF, and none can be started here "
                        f"({check.stderr.strip().removeprefix('local-slurm: ')})")
    started = subprocess.run([script, "up"], capture_output=True, text=True)
    assert started.returncode == 0, f"could not bring up Slurm: {started.stderr.strip()[-2000:]}"
    os.environ["SLURM_CONF"] = started.stdout.strip().split("=", 1)[1]
    try:
        yield os.environ["SLURM_CONF"]
    finally:
        subprocess.run([script, "purge"], capture_output=True)
        del os.environ["SLURM_CONF"]


def wait_for(condition, what, timeout=TIMEOUT_S):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def restarts(job_id):
    shown = subprocess.run(["scontrol", "-o", "show", "job", job_id], capture_output=True, text=True).stdout
    match = re.search(r"\bRestarts=(\d+)", shown)
    return int(match.group(1)) if match else None


def stop_mid_run(cell, log_dir, command):
    """Waits until the cell's run has saved a checkpoint and not finished, then runs `command` on its job."""
    directory = runs.run_dir(cell, log_dir)
    job_id = wait_for(lambda: (directory / slurm.RECORD_FILE).exists() and json.loads(
        (directory / slurm.RECORD_FILE).read_text())["job_id"], "the job record")
    wait_for(lambda: (directory / "checkpoints").is_dir(), f"a checkpoint of {cell.name}")
    assert not (directory / "results.json").exists(), "the run finished before it could be stopped"
    run_slurm_command([*command, job_id])
    return job_id


def run_slurm_command(command):
    """Runs a Slurm command, again while Slurm answers that the job "can not be altered now, try again later" (a
    job whose launch a loaded node has not finished setting up); any other failure fails the test."""
    def attempt():
        completed = subprocess.run(command, capture_output=True, text=True)
        assert completed.returncode == 0 or "try again later" in completed.stderr, completed.stderr
        return completed.returncode == 0
    wait_for(attempt, " ".join(command))


def reproduce_py(*arguments):
    """reproduce.py as a user runs it; returns its standard output."""
    completed = subprocess.run([sys.executable, str(REPO / "reproduce.py"), *arguments], capture_output=True,
                               text=True, cwd=REPO, timeout=300)
    assert completed.returncode == 0, completed.stderr[-3000:]
    return completed.stdout


def test_slurm_grid_is_requeued_and_resumes_to_identical_numbers(mnist_dir, slurm_cluster, tmp_path):
    # mnist_dir first: without the data the jobs would fail and the waits below would run to their timeout.
    log_dir = tmp_path / "grid"
    arguments = [f"--set={SET}", f"--budget={BUDGET}", "--seeds=1", f"--log_dir={log_dir}"]
    submitted = reproduce_py(*arguments, "--launcher=slurm", "--slurm_time=20", "--mem_gb=2")
    assert submitted.count("queued ") == 3 and "Submitted 3 array task(s)" in submitted, submitted
    cells = experiments.EXPERIMENT_SETS[SET].cells()
    by_signal = stop_mid_run(cells[0], log_dir, ["scancel", "--signal=USR2"])
    by_requeue = stop_mid_run(cells[1], log_dir, ["scontrol", "requeue"])
    listing = reproduce_py(*arguments, "--list")
    assert all(f"(job {json.loads((runs.run_dir(c, log_dir) / slurm.RECORD_FILE).read_text())['job_id']})"
               in listing for c in cells), listing
    for cell in cells:
        wait_for(lambda: (runs.run_dir(cell, log_dir) / "results.json").exists(), f"{cell.name} to finish")
    assert restarts(by_signal) >= 1 and restarts(by_requeue) >= 1
    assert reproduce_py(*arguments, "--list").count("finished ") == 3
    outputs = {job: "".join(p.read_text() for p in (log_dir / "slurm" / job).glob("*_log.*"))
               for job in (by_signal, by_requeue)}
    assert "Stopped by SIGUSR2" in outputs[by_signal] and "Resuming" in outputs[by_signal]
    assert "Stopped by SIGTERM" in outputs[by_requeue] and "Resuming" in outputs[by_requeue]
    # The same two cells without interruption, in one process each with the Slurm task's single thread.
    reference = tmp_path / "reference"
    environment = {**os.environ, "TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1",
                   "OMP_NUM_THREADS": "1"}
    for cell in cells[:2]:
        command = [sys.executable, str(REPO / "run.py"), *runs.run_arguments(cell, BUDGET, reference)]
        completed = subprocess.run(command, capture_output=True, text=True, env=environment, timeout=TIMEOUT_S)
        assert completed.returncode == 0, completed.stderr[-3000:]
        requeued = json.loads((runs.run_dir(cell, log_dir) / "results.json").read_text())
        uninterrupted = json.loads((runs.run_dir(cell, reference) / "results.json").read_text())
        for key in COMPARED:
            assert requeued[key] == uninterrupted[key], (cell.name, key)
