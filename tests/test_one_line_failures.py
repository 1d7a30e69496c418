"""Every failure of run.py and reproduce.py before any work is one line with its documented exit status: integer
flags above their largest value, words that are not flags, unreadable flagfiles, a stop signal at any instant of
start-up, damaged Slurm records and unusable output directories of reproduce.py."""
import os
import pathlib
import signal
import subprocess
import sys
import time

import pytest
from absl import flags

from dvae_sharp import configs
from dvae_sharp import reproduce
from dvae_sharp import run as run_module
from dvae_sharp.dvae.runner import interrupts
from tests.test_bad_input import NUMERIC_FLAGS
from tests.test_reliability import RUN_SUBDIR, TINY, run

REPO = pathlib.Path(__file__).resolve().parent.parent
INTEGER_FLAGS = [name for name in NUMERIC_FLAGS if flags.FLAGS[name].flag_type() == "int"]


def parse_error(argv):
    """run.py's flag parsing in this process; returns its SystemExit message."""
    flags.FLAGS.unparse_flags()
    try:
        with pytest.raises(SystemExit) as stopped:
            run_module.parse_flags(["run.py", *argv])
    finally:
        flags.FLAGS.unparse_flags()
    return str(stopped.value.code)


@pytest.mark.parametrize("name", INTEGER_FLAGS)
def test_every_integer_flag_has_a_largest_value_that_its_error_names(name):
    lowest, highest = configs.integer_range(name)
    assert lowest <= highest < 10**12
    configs.check_range(name, highest)
    for value in (highest + 1, 10**30):
        with pytest.raises(configs.ConfigError) as refused:
            configs.check_range(name, value)
        assert f"--{name}={value}" in str(refused.value) and str(highest) in str(refused.value)


@pytest.mark.parametrize("name, value", [("beta", 1e300), ("beta", 1e-300), ("base_lr", 1e300), ("base_lr", 1e-300)])
def test_the_float_flags_have_ranges_that_float32_training_can_hold(name, value):
    with pytest.raises(configs.ConfigError) as refused:
        configs.make_config(**{name: value})
    assert str(refused.value).startswith(f"--{name}={value} must be a number from ")


@pytest.mark.parametrize("name", ["seed", "num_train_iter", "ais_num_betas", "mean_field_iterations"])
def test_a_huge_integer_flag_is_one_line_before_anything_is_written(name, tmp_path):
    result = subprocess.run([sys.executable, str(REPO / "run.py"), *TINY, f"--{name}={10**30}",
                             f"--log_dir={tmp_path}"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 1 and result.stderr.count("\n") == 1, result.stderr[-3000:]
    assert result.stderr.startswith(f"run.py: error: --{name}={10**30} must be an integer from")
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("argv, shown", [
    (["--qupa", "False"], "'False' is not a flag"),
    (["--k=5", "stray"], "'stray' is not a flag"),
    (["--", "--k=5"], "'--k=5' is not a flag"),
])
def test_words_that_are_not_flags_are_refused_in_one_line(argv, shown):
    message = parse_error(argv)
    assert message.startswith("run.py: error:") and shown in message and "\n" not in message, message
    assert "--qupa=False or --noqupa" in message


def test_unreadable_flagfiles_are_one_line(tmp_path):
    binary = tmp_path / "binary.flags"
    binary.write_bytes(bytes(range(128, 256)) * 4)
    latin1 = tmp_path / "latin1.flags"
    latin1.write_bytes("--log_dir=/tmp/caf\xe9\n".encode("latin-1"))
    for path in (binary, latin1, tmp_path, tmp_path / "missing.flags"):
        message = parse_error([f"--flagfile={path}"])
        assert message.startswith("run.py: error:") and str(path) in message and "\n" not in message, message


def handler_installed(pid, signum):
    """Whether process `pid` catches `signum` (its SigCgt mask in /proc)."""
    try:
        status = pathlib.Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    caught = int(next(line.split()[1] for line in status.splitlines() if line.startswith("SigCgt:")), 16)
    return bool(caught >> (signum - 1) & 1)


def stop_during_start_up(command, signum, delay, environment=None):
    """Starts `command`, waits until it catches SIGTERM (the first thing it does), then `delay` seconds more, and
    sends `signum`; returns the finished process."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, **(environment or {})})
    deadline = time.monotonic() + 60
    while not handler_installed(process.pid, signal.SIGTERM) and process.poll() is None:
        assert time.monotonic() < deadline, "the program never caught SIGTERM"
        time.sleep(0.002)
    time.sleep(delay)
    process.send_signal(signum)
    process.stdout_text, process.stderr_text = process.communicate(timeout=300)
    return process


@pytest.mark.slow
@pytest.mark.skipif(not pathlib.Path("/proc/self/status").exists(), reason="reads signal masks from /proc")
@pytest.mark.parametrize("signum, delay", [(signal.SIGINT, 0.0), (signal.SIGTERM, 0.5), (signal.SIGUSR1, 1.0)])
def test_a_stop_signal_at_any_instant_of_start_up_ends_run_py_with_one_line_and_128_plus_n(signum, delay, tmp_path):
    """From run.py's first line (when it starts catching SIGTERM), through the imports and TensorFlow's start
    (which alone takes longer than a second), until training."""
    process = stop_during_start_up([sys.executable, str(REPO / "run.py"), *TINY, f"--log_dir={tmp_path}"], signum,
                                   delay)
    assert process.returncode == 128 + signum, process.stderr_text[-3000:]
    assert process.stderr_text.splitlines() == [f"Stopped by {signal.Signals(signum).name} during start-up, before "
                                                f"any training; re-run the same command to start or resume the run."]
    assert not (tmp_path / RUN_SUBDIR / "config.json").exists()


WRAPPED_STOP = """
import os, signal, time
from dvae_sharp.dvae.runner import interrupts
{setup}
with {context}:
    try:
        {stop}
    except interrupts.Stopped as stop:
        raise ImportError("initialization failed") from stop  # what a C++ extension module's import does
    raise ImportError("initialization failed")
"""
# run.py's start-up (StopAtOnce) and reproduce.py's modes (stop_at_once for the process, surfacing_stops around them)
STOP_CONTEXTS = {"run.py": ("", "interrupts.StopAtOnce()", interrupts.RUN_STOP),
                 "reproduce.py": ("interrupts.stop_at_once(interrupts.REPRODUCE_STOP)", "interrupts.surfacing_stops()",
                                  interrupts.REPRODUCE_STOP)}


@pytest.mark.parametrize("program", STOP_CONTEXTS)
@pytest.mark.parametrize("signalled", [True, False])
def test_a_stop_that_a_library_wraps_in_its_own_exception_still_ends_with_one_line_and_128_plus_n(program, signalled):
    """A stop signal while TensorFlow's C++ modules are imported reaches the program as `ImportError: initialization
    failed`, raised from the handler's `Stopped`: it must end the program as the stop would. The same ImportError
    without a stop signal stays an error."""
    setup, context, what = STOP_CONTEXTS[program]
    stop = "os.kill(os.getpid(), signal.SIGTERM); time.sleep(30)" if signalled else "pass"
    code = WRAPPED_STOP.format(setup=setup, context=context, stop=stop)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=REPO)
    if signalled:
        assert result.returncode == 128 + signal.SIGTERM, result.stderr
        assert result.stderr.splitlines() == ["Stopped by SIGTERM " + what]
    else:
        assert result.returncode == 1 and result.stderr.splitlines()[-1] == "ImportError: initialization failed"


@pytest.mark.slow
@pytest.mark.parametrize("fault", ["SIGINT@data", "SIGTERM@restore", "SIGUSR2@start"])
def test_a_stop_signal_in_each_phase_of_start_up_ends_with_one_line_and_128_plus_n(fault, tmp_path):
    """Through tests/fault_injection.py, which imports TensorFlow without the filter of its start-up lines."""
    signum = getattr(signal, fault.split("@")[0])
    result = run(tmp_path, fault)
    assert result.returncode == 128 + signum, result.stderr[-3000:]
    lines = [line for line in result.stderr.splitlines() if line.startswith("Stopped") or "Error" in line]
    assert lines == [f"Stopped by {signal.Signals(signum).name} during start-up, before any training; re-run the "
                     f"same command to start or resume the run."], lines
    assert "Traceback" not in result.stderr and not (tmp_path / RUN_SUBDIR / "config.json").exists()


@pytest.mark.skipif(not pathlib.Path("/proc/self/status").exists(), reason="reads signal masks from /proc")
def test_a_stop_signal_during_the_start_of_reproduce_py_is_one_line_and_128_plus_n(tmp_path):
    process = stop_during_start_up([sys.executable, str(REPO / "reproduce.py"), "--set=table1", "--seeds=1,2,3",
                                    f"--log_dir={tmp_path}", "--list"], signal.SIGTERM, 0.0)
    assert process.returncode == 143, process.stderr_text[-3000:]
    assert process.stderr_text.count("\n") == 1 and process.stderr_text.startswith("Stopped by SIGTERM")


def reproduce_error(argv, capsys):
    with pytest.raises(SystemExit) as stopped:
        sys.exit(reproduce.main(argv))
    return stopped.value.code, capsys.readouterr().err + (stopped.value.code if isinstance(stopped.value.code,
                                                                                           str) else "")


@pytest.mark.parametrize("option, highest", [("--jobs", 1024), ("--mem_gb", 65536), ("--max_requeues", 10000),
                                             ("--eval_iw_samples", 10**6), ("--seeds", None)])
def test_integer_options_of_reproduce_py_have_a_largest_value(option, highest, capsys):
    highest = highest or configs.integer_range("seed")[1]
    status, message = reproduce_error([option + f"={highest + 1}", "--list"], capsys)
    assert status == 2 and message.count("\n") == 1 and str(highest) in message, message


def test_reproduce_py_names_a_damaged_slurm_record_and_an_unusable_log_dir_in_one_line(tmp_path, capsys):
    from dvae_sharp.configs import experiments
    from dvae_sharp.grid import runs
    cell = experiments.EXPERIMENT_SETS["mnist-lin-trend"].cells()[0]
    record = runs.run_dir(cell, tmp_path) / "slurm.json"
    record.parent.mkdir(parents=True)
    record.write_text('{"job_id": "12')
    status, message = reproduce_error(["--set=mnist-lin-trend", "--budget=smoke", f"--log_dir={tmp_path}", "--list"],
                                      capsys)
    assert status != 0 and str(record) in message and "delete it" in message and message.count("\n") <= 1, message
    a_file = tmp_path / "file"
    a_file.write_text("")
    status, message = reproduce_error(["--set=mnist-lin-trend", "--budget=smoke", f"--log_dir={a_file}", "--table"],
                                      capsys)
    assert status != 0 and str(a_file) in message and message.count("\n") <= 1, message
