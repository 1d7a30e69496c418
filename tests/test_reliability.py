"""Interruption at every phase, full disks and killed writes: the run resumes to the numbers of an uninterrupted one.

Each sequence runs the same tiny configuration several times, each time with one fault injected at a named point
(tests/fault_injection.py), then once more without; the final results.json and every TensorBoard value must equal
those of one uninterrupted run, bit for bit.
"""
import collections
import json
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

from tests import environment

pytestmark = pytest.mark.slow
REPO = pathlib.Path(__file__).resolve().parent.parent
TINY = ["--struct=1-layer-lin", "--baseline=dvaes_power", "--num_train_iter=40", "--eval_every=20",
        "--summary_every=10", "--sampler_chains=16", "--sampler_sweeps=2", "--ais_num_betas=20",
        "--ais_num_chains=16", "--val_iw_samples=2", "--eval_iw_samples=3", "--eval_batchsize=5000"]
RUN_SUBDIR = pathlib.Path("binarized_mnist/1-layer-lin/dvaes_power/1")
COMPARED = ("metrics", "best_step", "final_step", "log_z", "log_z_stderr", "test_neg_ll_mc_stderr", "diagnostics")
TIMING_TAGS = {"steps_per_second"}


def run(log_dir, fault=None, args=()):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    if fault:
        env["DVAE_FAULT"] = fault
        command = [sys.executable, str(REPO / "tests" / "fault_injection.py")]
    else:
        env.pop("DVAE_FAULT", None)
        command = [sys.executable, str(REPO / "run.py")]
    return subprocess.run([*command, *TINY, *args, f"--log_dir={log_dir}"], capture_output=True, text=True,
                          env=env, timeout=600)


def scalars(run_dir):
    """{(tag, step): [values]} over all event files of a run, timing tags left out."""
    import tensorflow as tf
    values = collections.defaultdict(list)
    for path in sorted(run_dir.glob("events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(str(path)):
            for value in event.summary.value:
                if value.metadata.plugin_data.plugin_name == "scalars" and value.tag not in TIMING_TAGS:
                    values[(value.tag, event.step)].append(float(tf.make_ndarray(value.tensor)))
    return dict(values)


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    log_dir = tmp_path_factory.mktemp("uninterrupted")
    result = run(log_dir)
    assert result.returncode == 0, result.stderr[-3000:]
    run_dir = log_dir / RUN_SUBDIR
    return json.loads((run_dir / "results.json").read_text()), scalars(run_dir)


def assert_same_as_uninterrupted(log_dir, uninterrupted, allow_repeats=False):
    expected_results, expected_scalars = uninterrupted
    run_dir = log_dir / RUN_SUBDIR
    results = json.loads((run_dir / "results.json").read_text())
    for key in COMPARED:
        assert results[key] == expected_results[key], key
    found = scalars(run_dir)
    assert set(found) == set(expected_scalars)
    for key, values in found.items():
        assert set(values) == set(expected_scalars[key]), key
        assert allow_repeats or len(values) == 1, (key, values)


def one_error_line(result):
    lines = [line for line in result.stderr.splitlines() if line.startswith("run.py: error:")]
    assert len(lines) == 1, result.stderr[-3000:]
    return lines[0]


# Each fault of a sequence hits the run where the previous one left it. SIGINT and SIGTERM meet every phase; the
# schedulers' warning signals, handled by the same code, two of them.
EVERY_PHASE = ["train:15", "eval:20:0", "save:30", "eval:40:1", "eval:final:1", "results"]


@pytest.mark.parametrize("signal_name, status, points", [
    ("SIGINT", 130, EVERY_PHASE), ("SIGTERM", 143, EVERY_PHASE), ("SIGUSR1", 138, ["eval:20:1", "results"]),
    ("SIGUSR2", 140, ["save:30", "results"])])
def test_stop_signals_at_every_phase_resume_to_identical_numbers(signal_name, status, points, uninterrupted,
                                                                 tmp_path):
    for point in points[:-1]:
        result = run(tmp_path, f"{signal_name}@{point}")
        assert result.returncode == status, (point, result.stderr[-3000:])
        stop_lines = [line for line in result.stderr.splitlines() if line.startswith(f"Stopped by {signal_name}")]
        assert len(stop_lines) == 1, (point, result.stderr[-3000:])
        assert not (tmp_path / RUN_SUBDIR / "results.json").exists()
    # A signal while results.json is written: the run is complete, so it ends normally.
    result = run(tmp_path, f"{signal_name}@{points[-1]}")
    assert result.returncode == 0, result.stderr[-3000:]
    assert_same_as_uninterrupted(tmp_path, uninterrupted)


def test_sigkill_at_every_phase_resumes_to_identical_numbers(uninterrupted, tmp_path):
    # kill_soon: SIGKILL a few milliseconds into the checkpoint write of step 20, wherever that instant falls.
    points = ["train:15", "eval:20:1", "kill_soon@save:20", "written:30", "save:40", "eval:final:1", "results"]
    for point in points:
        fault = point if "@" in point else f"SIGKILL@{point}"
        result = run(tmp_path, fault)
        assert result.returncode == -9, (point, result.stderr[-3000:])
        assert not (tmp_path / RUN_SUBDIR / "results.json").exists()
    result = run(tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    # A process killed between writing TensorBoard values and its checkpoint writes them again after resuming.
    assert_same_as_uninterrupted(tmp_path, uninterrupted, allow_repeats=True)
    assert not list((tmp_path / RUN_SUBDIR).glob("**/*_temp"))


@pytest.fixture
def small_disk(tmp_path):
    """A 12 MiB tmpfs: room for two checkpoints of the tiny run and little else (needs root to mount)."""
    environment.require(environment.is_root(), "filling a disk needs a small tmpfs, and mounting one needs root")
    mount = tmp_path / "disk"
    mount.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=12m", "tmpfs", str(mount)], capture_output=True,
                            text=True)
    assert result.returncode == 0, f"mounting a tmpfs needs root: {result.stderr.strip()}"
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.mark.parametrize("point, message", [
    ("start", "cannot write"),
    ("save:20", "cannot write a checkpoint"),
    ("eval:20:1", "cannot write a checkpoint"),
    ("results", "results.json"),
])
def test_full_disk_gives_one_line_and_the_next_run_finishes_identically(point, message, small_disk, uninterrupted):
    result = run(small_disk, f"fill_disk@{point}")
    assert result.returncode == 1, result.stderr[-3000:]
    line = one_error_line(result)
    assert message in line and "No space left on device" in line, line
    run_dir = small_disk / RUN_SUBDIR
    assert not (run_dir / "results.json").exists()
    leftovers = [p.name for p in run_dir.glob("*") if p.name.startswith(".")]
    assert not leftovers, leftovers
    if (run_dir / "config.json").exists():
        json.loads((run_dir / "config.json").read_text())
    (small_disk / "filler").unlink()
    result = run(small_disk)
    assert result.returncode == 0, result.stderr[-3000:]
    assert_same_as_uninterrupted(small_disk, uninterrupted, allow_repeats=True)


def test_finished_run_without_checkpoints_is_not_retrained(uninterrupted, tmp_path):
    assert run(tmp_path).returncode == 0
    run_dir = tmp_path / RUN_SUBDIR
    shutil.rmtree(run_dir / "checkpoints")
    best = sorted(p.name for p in (run_dir / "best").iterdir())
    result = run(tmp_path)
    assert result.returncode == 0 and "is finished" in result.stdout, result.stderr[-3000:]
    assert sorted(p.name for p in (run_dir / "best").iterdir()) == best
    assert not (run_dir / "checkpoints").exists()


def test_run_directory_is_locked_while_a_run_works_on_it(tmp_path):
    (tmp_path / RUN_SUBDIR).mkdir(parents=True)
    # The holder keeps the lock until it is killed: on a loaded machine the run below may take minutes to start.
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; sys.path.insert(0, sys.argv[1]); from dvae_sharp.dvae.runner import run_files; "
        "lock = run_files.RunLock(sys.argv[2]).acquire(); print('locked', flush=True); time.sleep(3600)"),
        str(REPO), str(tmp_path / RUN_SUBDIR)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        result = run(tmp_path)
        assert result.returncode == 1
        assert f"is in use by process {holder.pid}" in one_error_line(result)
        assert sorted(p.name for p in (tmp_path / RUN_SUBDIR).iterdir()) == ["run.lock"]
    finally:
        holder.kill()
        holder.wait()
    # The holder died without releasing anything: its lock is taken over.
    result = run(tmp_path, args=["--num_train_iter=10", "--eval_every=10"])
    assert result.returncode == 0, result.stderr[-3000:]


def fill(directory):
    """Writes zeros into `directory/filler` until its file system refuses even one byte."""
    descriptor = os.open(directory / "filler", os.O_WRONLY | os.O_CREAT)
    for size in (1 << 16, 4096, 512, 1):
        try:
            while True:
                os.write(descriptor, b"\0" * size)
        except OSError:
            pass
    os.close(descriptor)


def test_a_full_disk_from_the_first_start_on_gives_one_line_at_every_write(small_disk, uninterrupted):
    fill(small_disk)
    result = run(small_disk)  # the lock file, then config.json, on a disk without one free byte
    assert result.returncode == 1 and "No space left on device" in one_error_line(result), result.stderr[-3000:]
    (small_disk / "filler").unlink()
    result = run(small_disk, "fill_disk@save:20")
    assert result.returncode == 1 and "No space left on device" in one_error_line(result)
    result = run(small_disk)  # still full: TensorBoard's event file is the first write
    assert result.returncode == 1 and "cannot write TensorBoard events" in one_error_line(result), result.stderr
    (small_disk / "filler").unlink()
    result = run(small_disk)
    assert result.returncode == 0, result.stderr[-3000:]
    assert_same_as_uninterrupted(small_disk, uninterrupted, allow_repeats=True)
