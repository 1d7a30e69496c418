"""`dvae-plot` (dvae/plot.py) on a short real run and on a run that has only started: the PNGs, the curves they draw
(against TensorBoard's own reader of the event files), and one-line errors for bad input."""
import json
import subprocess
import sys

import pytest
from matplotlib import image
from tensorboard.backend.event_processing import event_accumulator
from tensorboard.util import tensor_util

from dvae_sharp import configs
from dvae_sharp.dvae.runner import experiment
from dvae_sharp.dvae import plot, run_figures

SHORT = dict(baseline="dvaes_exp", struct="1-layer-lin", k=1, num_train_iter=40, train_batchsize=20, eval_every=20,
             sampler_chains=16, sampler_sweeps=2, ais_num_betas=10, ais_num_chains=8, val_iw_samples=2,
             eval_iw_samples=2, eval_batchsize=5000)


@pytest.fixture(scope="module")
def grid(tmp_path_factory, mnist_dir):
    """A log directory with one finished run and one that has written only its configuration."""
    root = tmp_path_factory.mktemp("grid")
    config = configs.make_config(**SHORT)
    with experiment.prepare(config, log_dir=root / "seed1", data_dir=str(mnist_dir), summary_every=10) as run:
        experiment.train_and_evaluate(run)
    started = root / "seed2" / configs.make_config(**{**SHORT, "seed": 2}).experiment_id
    started.mkdir(parents=True)
    (started / "config.json").write_text(json.dumps(configs.make_config(**{**SHORT, "seed": 2}).to_dict()))
    return root, root / "seed1" / config.experiment_id, started


def test_writes_both_pictures_of_every_run_below_a_directory(grid, tmp_path, mnist_dir, capsys):
    root, finished, started = grid
    out = tmp_path / "plots"
    assert plot.main([str(root), f"--out_dir={out}", f"--data_dir={mnist_dir}", "--num_sweeps=20"]) == 0
    for run_dir, names in ((finished, {"bounds.png", "samples.png"}), (started, {"bounds.png"})):
        target = out / run_dir.relative_to(root)
        assert {p.name for p in target.iterdir()} == names
        for name in names:
            assert image.imread(target / name).shape[2] in (3, 4)
    printed = capsys.readouterr().out
    assert "no samples.png: no checkpoint yet" in printed and str(finished) in printed
    assert plot.main([str(finished), f"--data_dir={mnist_dir}", "--num_sweeps=20"]) == 0  # into the run directory
    assert (finished / "samples.png").is_file() and (finished / "bounds.png").is_file()


def test_bounds_are_the_runs_recorded_curves(grid):
    """The curves drawn are the training objective as TensorBoard reads it from the event files and the periodic
    evaluations of evaluations.json."""
    _, finished, _ = grid
    found = run_figures.curves(finished)
    accumulator = event_accumulator.EventAccumulator(str(finished), size_guidance={"tensors": 0})
    accumulator.Reload()
    logged = [(e.step, float(tensor_util.make_ndarray(e.tensor_proto))) for e in accumulator.Tensors("train/neg_elbo")]
    assert found["train/neg_elbo"] == logged and [step for step, _ in logged] == [10, 20, 30, 40]
    evaluations = json.loads((finished / "evaluations.json").read_text())["evaluations"]
    for tag in ("val/neg_ll", "test/neg_ll", "val/neg_elbo", "test/neg_elbo", "log_z/ais", "log_z/ais_stderr"):
        assert found[tag] == [(e["step"], e[tag]) for e in evaluations]


@pytest.mark.parametrize("arguments, message", [
    (["/nonexistent/runs"], "/nonexistent/runs is not a directory"),
    (["{empty}"], "holds no run"),
    (["{empty}", "--num_sweeps=3"], "--num_sweeps must be at least 10"),
    (["{empty}", "--checkpoint=first"], "invalid choice"),
    (["{empty}", "--out_dir={file}"], "exists and is not a directory"),
])
def test_bad_input_is_one_line(arguments, message, tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "file").write_text("")
    arguments = [a.format(empty=tmp_path / "empty", file=tmp_path / "file") for a in arguments]
    if "--out_dir" in arguments[-1]:
        (tmp_path / "empty" / "config.json").write_text("{}")
    result = subprocess.run([sys.executable, "-m", "dvae_sharp.dvae.plot", *arguments], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode != 0 and result.stdout == ""
    assert len(result.stderr.splitlines()) == 1 and message in result.stderr, result.stderr


def test_help_names_the_command():
    result = subprocess.run([sys.executable, "-m", "dvae_sharp.dvae.plot", "--help"], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0 and result.stdout.startswith("usage: dvae-plot")
