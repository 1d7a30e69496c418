"""A run directory cannot lie: its configuration is checked against the checkpoints and results.json that record it,
a damaged checkpoint state file never restarts a run from step 0, and the final test is of the best model or none.

Each case starts from a copy of one finished tiny run (tests/test_reliability.py's configuration), damages it as a
user or a disk might, and runs the command again.
"""
import json
import shutil

import pytest
from absl import flags

from dvae_sharp import run as run_module
from tests.test_reliability import COMPARED, RUN_SUBDIR, TINY, one_error_line, run

pytestmark = pytest.mark.slow


def refusal(log_dir, *args):
    """run.py in this process, for a command that must be refused before any work; returns its one-line error."""
    flags.FLAGS.unparse_flags()
    try:
        with pytest.raises(SystemExit) as stopped:
            run_module.parse_flags(["run.py", *TINY, f"--log_dir={log_dir}", *args])
            run_module.main([])
    finally:
        flags.FLAGS.unparse_flags()
    message = str(stopped.value.code)
    assert message.startswith("run.py: error: ") and "\n" not in message, message
    return message


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    log_dir = tmp_path_factory.mktemp("finished")
    result = run(log_dir)
    assert result.returncode == 0, result.stderr[-3000:]
    return log_dir / RUN_SUBDIR


def copy_of(run_dir, tmp_path):
    target = tmp_path / RUN_SUBDIR
    shutil.copytree(run_dir, target)
    return target


def events(run_dir):
    return sorted(path.name for path in run_dir.glob("events.out.tfevents.*"))


def set_seed(path, seed):
    """Edits the seed of the configuration in config.json or results.json, as a user would by hand."""
    values = json.loads(path.read_text())
    (values["config"] if "config" in values else values)["seed"] = seed
    path.write_text(json.dumps(values))


@pytest.mark.parametrize("damage, recorded_in", [
    (["rm config.json"], "results.json"),
    (["rm config.json", "rm results.json"], "checkpoint checkpoints/latest-40"),
    (["edit config.json"], "results.json"),
    (["edit config.json", "edit results.json"], "checkpoint checkpoints/latest-40"),
])
def test_another_configuration_is_never_reported_resumed_or_relabelled(damage, recorded_in, finished, tmp_path):
    run_dir = copy_of(finished, tmp_path)
    for action in damage:
        verb, name = action.split()
        if verb == "rm":
            (run_dir / name).unlink()
        else:
            set_seed(run_dir / name, 2)
    before = {path: path.read_bytes() for path in run_dir.rglob("*") if path.is_file() and path.name != "run.lock"}
    line = refusal(tmp_path, "--seed=2")
    assert "holds a run with a different configuration (seed: 1 -> 2" in line and recorded_in in line, line
    after = {path: path.read_bytes() for path in run_dir.rglob("*") if path.is_file() and path.name != "run.lock"}
    assert after == before


def test_an_edited_config_json_is_refused_and_a_missing_one_written_again(finished, tmp_path):
    run_dir = copy_of(finished, tmp_path)
    original = (run_dir / "config.json").read_text()
    set_seed(run_dir / "config.json", 2)
    line = refusal(tmp_path)
    assert "config.json differs from the configuration recorded in results.json" in line
    assert "seed: 2 -> 1" in line and "delete it" in line, line
    (run_dir / "config.json").unlink()
    (run_dir / "results.json").unlink()
    result = run(tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "config.json was missing; written again from the configuration recorded in checkpoint" in result.stdout
    assert json.loads((run_dir / "config.json").read_text()) == json.loads(original)


@pytest.mark.parametrize("directory, damage", [
    ("checkpoints", None), ("checkpoints", ""), ("checkpoints", 'model_checkpoint_path: "latest-4'),
    ("best", "garbage {"),
])
def test_a_damaged_checkpoint_state_file_is_written_again_never_a_restart(directory, damage, finished, tmp_path):
    run_dir = copy_of(finished, tmp_path)
    expected = json.loads((run_dir / "results.json").read_text())
    (run_dir / "results.json").unlink()
    state_file = run_dir / directory / "checkpoint"
    if damage is None:
        state_file.unlink()
    else:
        state_file.write_text(damage)
    result = run(tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"The checkpoint state file {state_file} was" in result.stdout, result.stdout[-3000:]
    assert f"{directory}/{'latest' if directory == 'checkpoints' else 'best'}-40 (step 40) is in force" in result.stdout
    assert f"from step 40 ({run_dir / 'checkpoints' / 'latest-40'})" in result.stdout
    assert "Step 20:" not in result.stdout  # nothing retrained
    results = json.loads((run_dir / "results.json").read_text())
    assert {key: results[key] for key in COMPARED} == {key: expected[key] for key in COMPARED}


@pytest.mark.parametrize("damage, message", [
    ("delete", "best holds no checkpoint, but checkpoint checkpoints/latest-40 records the best model at step 40"),
    ("truncate", "best/best-40 cannot be read"),
])
def test_a_missing_or_unreadable_best_model_is_refused_before_any_work(damage, message, finished, tmp_path):
    run_dir = copy_of(finished, tmp_path)
    (run_dir / "results.json").unlink()
    if damage == "delete":
        shutil.rmtree(run_dir / "best")
    else:
        data_file = next((run_dir / "best").glob("best-40.data-*"))
        data_file.write_bytes(data_file.read_bytes()[:1000])
    before = events(run_dir)
    assert message in refusal(tmp_path)
    assert events(run_dir) == before and not (run_dir / "results.json").exists()


def test_the_final_test_is_of_the_best_model_or_refused_in_one_line(finished, tmp_path):
    run_dir = copy_of(finished, tmp_path)
    (run_dir / "results.json").unlink()
    result = run(tmp_path, "truncate_best@final")  # the best model is damaged after the start-up checks
    assert result.returncode == 1 and "best/best-40 cannot be read" in one_error_line(result), result.stderr[-3000:]
    assert "Final (" not in result.stdout and not (run_dir / "results.json").exists()


@pytest.mark.parametrize("text", ['{"evaluations": [{"step": 20, "val/neg_ll": 1.0}', '{"evaluations": {"step": 3}}',
                                  '{"evaluations": [{"step": "20"}]}'])
def test_a_damaged_evaluations_json_is_refused_before_any_work(text, finished, tmp_path):
    run_dir = copy_of(finished, tmp_path)
    (run_dir / "results.json").unlink()
    (run_dir / "evaluations.json").write_text(text)
    before = events(run_dir)
    line = refusal(tmp_path)
    assert str(run_dir / "evaluations.json") in line and "move it away" in line, line
    assert events(run_dir) == before and (run_dir / "evaluations.json").read_text() == text
