"""Bad input gets one line before anything is written: every numeric flag at 0, −1, NaN and ±inf, unusable log and
data directories, corrupt run files and checkpoints."""
import math
import shutil
import subprocess

import numpy as np
import pytest
from absl import flags

from dvae_sharp import configs
from dvae_sharp import run as run_module
from dvae_sharp.configs import config as config_module
from tests import environment
from tests.test_reliability import RUN_SUBDIR, one_error_line, run

BAD_VALUES = ("0", "-1", "nan", "inf", "-inf")
NUMERIC_FLAGS = sorted(name for name in flags.FLAGS
                       if flags.FLAGS.find_module_defining_flag(name) == run_module.__name__
                       and flags.FLAGS[name].flag_type() in ("int", "float"))


def test_every_numeric_flag_has_a_range():
    assert len(NUMERIC_FLAGS) >= 17
    assert set(NUMERIC_FLAGS) == set(configs.numeric_names())


def expected_invalid(name, text):
    field = configs.FIELDS.get(name)
    if field is not None and field.type is float:
        return not (math.isfinite(float(text)) and float(text) > 0)
    if text in ("0", "-1"):
        minimum = field.metadata["minimum"] if field else config_module.RUN_OPTION_MINIMUM[name]
        return int(text) < minimum
    return True  # NaN and ±inf are not integers


def main_error(argv):
    """Runs run.py's flag parsing and main in this process; returns the SystemExit message."""
    flags.FLAGS.unparse_flags()
    with pytest.raises(SystemExit) as stopped:
        run_module.parse_flags(["run.py", *argv])
        run_module.main([])
    flags.FLAGS.unparse_flags()
    return str(stopped.value.code)


@pytest.mark.parametrize("name", NUMERIC_FLAGS)
def test_every_numeric_flag_rejects_out_of_range_values_with_one_line(name, tmp_path):
    checked = 0
    for text in BAD_VALUES:
        if not expected_invalid(name, text):
            continue
        message = main_error([f"--{name}={text}", f"--log_dir={tmp_path}"])
        assert message.startswith("run.py: error:") and "\n" not in message, message
        assert f"--{name}" in message, message
        assert not any(tmp_path.iterdir())
        checked += 1
    assert checked >= 3


def test_zero_is_never_silently_the_default():
    for name in ("eval_every", "eval_iw_samples", "val_iw_samples", "ais_num_betas", "ais_num_chains",
                 "eval_batchsize"):
        with pytest.raises(configs.ConfigError, match=f"--{name}=0"):
            configs.make_config(**{name: 0})


def test_log_dir_that_is_a_file_or_unwritable_gives_one_line(tmp_path):
    a_file = tmp_path / "file"
    a_file.write_text("not a directory")
    result = run(a_file)
    assert result.returncode == 1 and "is not a directory" in one_error_line(result)
    assert a_file.read_text() == "not a directory"
    read_only = tmp_path / "read-only"
    read_only.mkdir()
    if not environment.is_root():  # a directory without write permission (root would write into it anyway)
        read_only.chmod(0o555)
        result = run(read_only)
        assert result.returncode == 1 and "cannot create the run directory" in one_error_line(result)
        assert "Permission denied" in one_error_line(result)
        return
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(read_only)],
                             capture_output=True, text=True)
    assert mounted.returncode == 0, f"mounting a read-only tmpfs needs root: {mounted.stderr.strip()}"
    try:
        result = run(read_only)
        assert result.returncode == 1 and "cannot create the run directory" in one_error_line(result)
        assert "Read-only file system" in one_error_line(result)
    finally:
        subprocess.run(["umount", "-l", str(read_only)], check=False)


def finished_run(tmp_path):
    result = run(tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    return tmp_path / RUN_SUBDIR


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    return finished_run(tmp_path_factory.mktemp("finished"))


def copy_of(run_dir, tmp_path):
    target = tmp_path / RUN_SUBDIR
    shutil.copytree(run_dir, target)
    return target


@pytest.mark.parametrize("name, text", [("config.json", '{"dataset": "binarized_mn'), ("config.json", ""),
                                        ("results.json", ""), ("results.json", '{"metrics": {}}')])
def test_corrupt_run_files_are_named_in_one_line_and_kept(name, text, finished, tmp_path):
    run_dir = copy_of(finished, tmp_path)
    (run_dir / name).write_text(text)
    result = run(tmp_path)
    assert result.returncode == 1
    assert str(run_dir / name) in one_error_line(result)
    assert (run_dir / name).read_text() == text


def test_truncated_checkpoint_gives_one_line(finished, tmp_path):
    run_dir = copy_of(finished, tmp_path)
    (run_dir / "results.json").unlink()
    data_file = next((run_dir / "checkpoints").glob("*.data-*"))
    data_file.write_bytes(data_file.read_bytes()[:1000])
    result = run(tmp_path)
    assert result.returncode == 1
    line = one_error_line(result)
    assert "cannot be read" in line and "checkpoints" in line, line


def test_orphan_temporary_checkpoint_directories_are_removed(finished, tmp_path):
    run_dir = copy_of(finished, tmp_path)
    (run_dir / "results.json").unlink()
    orphan = run_dir / "checkpoints" / "latest-50_temp"
    orphan.mkdir()
    (orphan / "part-00000-of-00001.data-00000-of-00001").write_bytes(b"\0" * 100)
    result = run(tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert not orphan.exists()


def test_data_file_name_taken_by_a_directory_gives_one_line(tmp_path):
    data_dir = tmp_path / "data"
    (data_dir / "binarized_mnist.npz").mkdir(parents=True)
    result = run(tmp_path / "logs", args=[f"--data_dir={data_dir}"])
    assert result.returncode == 1
    assert "exists but is not a file" in one_error_line(result)
    assert not (tmp_path / "logs").exists()


def test_ais_warns_when_its_weights_collapse():
    from dvae_sharp import samplers
    rng = np.random.default_rng(0)
    w = rng.normal(scale=3.0, size=(20, 20))
    estimate = samplers.ais_estimate(np.zeros(20), np.zeros(20), w, num_betas=3, num_chains=64, seed=(1, 2))
    assert estimate.collapsed and float(estimate.effective_chains) < 6.4
    healthy = samplers.ais_estimate(np.zeros(20), np.zeros(20), 0.01 * w, num_betas=50, num_chains=64, seed=(1, 2))
    assert not healthy.collapsed and float(healthy.effective_chains) > 60


def test_run_prints_a_warning_when_ais_collapses(tmp_path):
    result = run(tmp_path, args=["--ais_num_betas=2", "--ais_num_chains=200", "--base_lr=0.05"])
    assert result.returncode == 0, result.stderr[-3000:]
    assert "warning: the AIS weights rest on" in result.stdout, result.stdout[-3000:]
