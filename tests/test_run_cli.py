"""run.py as a user meets it: flag errors, bad data directories, refusal to mix runs, resume after SIGKILL."""
import os
import re
import pathlib
import subprocess
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parent.parent
SMALL = ["--struct=1-layer-lin", "--baseline=dvaes_power", "--sampler_chains=16", "--sampler_sweeps=2",
         "--ais_num_betas=20", "--ais_num_chains=16", "--val_iw_samples=2", "--eval_iw_samples=2",
         "--eval_batchsize=5000"]


def _run(args, **kwargs):
    return subprocess.run([sys.executable, str(REPO / "run.py"), *args], capture_output=True, text=True,
                          cwd=REPO, timeout=600, **kwargs)


def _error_lines(result):
    return [line for line in result.stderr.splitlines() if line.startswith("run.py: error:")]


@pytest.mark.parametrize("args, fragment", [
    (["--dataset=omniglot", "--struct=3-layer"], "1-layer-lin"),
    (["--baseline=dvae"], "dvaes_power"),
    (["--k=0"], "--k=0"),
    (["--beta=-2"], "--beta=-2.0"),
    (["--sampler_chains=0"], "--sampler_chains=0"),
    (["--eval_batchsize=3000"], "3000"),
])
def test_bad_flags_give_one_line_errors(args, fragment, tmp_path):
    result = _run(args + [f"--log_dir={tmp_path}"])
    assert result.returncode != 0
    errors = _error_lines(result)
    assert len(errors) == 1 and fragment in errors[0], result.stderr[-2000:]
    assert not any(tmp_path.iterdir())


def test_missing_data_directory_is_a_one_line_error(tmp_path):
    env = {**os.environ, "DVAE_MNIST_URL": "http://127.0.0.1:9/"}
    result = _run([f"--data_dir={tmp_path / 'empty'}", f"--log_dir={tmp_path / 'logs'}"], env=env)
    errors = _error_lines(result)
    assert result.returncode != 0 and len(errors) == 1
    assert "binarized_mnist" in errors[0] and "DVAE_DATA_DIR" in errors[0]
    assert not (tmp_path / "logs").exists()


def test_a_different_configuration_in_the_same_directory_is_refused(tmp_path):
    args = SMALL + ["--num_train_iter=20", "--eval_every=20", f"--log_dir={tmp_path}"]
    assert _run(args).returncode == 0
    run_dir = tmp_path / "binarized_mnist/1-layer-lin/dvaes_power/1"
    before = {p: p.stat().st_mtime_ns for p in run_dir.rglob("*")}
    result = _run([a for a in args if not a.startswith("--sampler_chains")] + ["--sampler_chains=32"])
    errors = _error_lines(result)
    assert result.returncode != 0 and len(errors) == 1 and "sampler_chains" in errors[0]
    assert {p: p.stat().st_mtime_ns for p in run_dir.rglob("*")} == before
    refused = _run(args + ["--noresume"])
    assert refused.returncode != 0 and "--resume" in _error_lines(refused)[0]


def test_console_names_the_run_first_ends_with_results_and_tensorboard_and_has_no_startup_noise(tmp_path):
    result = _run(SMALL + ["--num_train_iter=20", "--eval_every=20", f"--log_dir={tmp_path}"],
                  env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "0"})
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"Run {tmp_path}/binarized_mnist/1-layer-lin/dvaes_power/1: dvaes_power (β = 40")
    assert "population annealing 16 × 2" in lines[0] and "seed 1" in lines[0]
    assert lines[-2].startswith("Results: ") and lines[-2].endswith("results.json")
    assert lines[-1] == f"TensorBoard: tensorboard --logdir {tmp_path}"
    noise = ("oneDNN custom operations", "oneDNN supports DT_INT32", "cuda drivers", "cuInit", "absl::InitializeLog")
    assert not [line for line in result.stderr.splitlines() if any(n in line for n in noise)], result.stderr


def test_eta_shows_days_and_leaves_out_the_first_steps_tracing():
    from dvae_sharp.dvae.runner.progress import Progress, format_duration
    assert format_duration(3 * 86400 + 4 * 3600 + 5 * 60 + 6) == "3d 04:05:06"
    assert format_duration(59) == "00:00:59"
    now = [100.0]
    progress = Progress(0, 1000, "train/neg_elbo", interval=0.0, clock=lambda: now[0])
    now[0] = 160.0  # the first step took a minute of tracing
    progress.update(1, {"objective": 1.0})
    now[0] = 170.0  # then 10 steps in 10 s
    progress.update(11, {"objective": 1.0})
    assert progress.steps_per_second(11) == pytest.approx(1.0)


def test_readme_flag_table_lists_every_flag_of_run_py_with_its_default():
    """The README's flag table names exactly the flags run.py defines from configs.Config (plus --qupa and the run
    options), and each fixed default it prints is the field's default."""
    from dvae_sharp import configs
    readme = (pathlib.Path(__file__).resolve().parent.parent / "README.md").read_text()
    table = readme[readme.index("| flag | default | meaning |"):].split("\n\n")[0]
    rows = {match[0]: match[1] for match in
            re.findall(r"^\| `--(\w+)` \| ([^|]+) \|", table, flags=re.M)}
    run_options = {"qupa", "data_dir", "log_dir", "summary_every", "resume"}
    assert set(rows) == set(configs.FIELDS) | run_options
    for name, field in configs.FIELDS.items():
        shown = rows[name].strip()
        if shown.startswith("`") and field.default is not None:
            assert shown.split("`")[1] == str(field.default), (name, shown, field.default)
