"""The tests that need root or a Slurm cluster skip where those are missing, with the reason, and fail instead where
DVAE_REQUIRE_ALL_TESTS=1 (as in .ci/run); scripts/local-slurm.sh says whether it can start a cluster."""
import os
import pathlib
import subprocess

import pytest

from tests import environment

SCRIPT = pathlib.Path(__file__).resolve().parent.parent / "scripts" / "local-slurm.sh"


def test_a_missing_requirement_skips_with_its_reason(monkeypatch):
    monkeypatch.delenv(environment.REQUIRE_ALL, raising=False)
    environment.require(True, "never shown")
    with pytest.raises(pytest.skip.Exception, match="needs root"):
        environment.require(False, "needs root")


def test_a_missing_requirement_fails_where_every_test_must_run(monkeypatch):
    monkeypatch.setenv(environment.REQUIRE_ALL, "1")
    with pytest.raises(pytest.fail.Exception, match="needs root; DVAE_REQUIRE_ALL_TESTS is set"):
        environment.require(False, "needs root")


def test_local_slurm_check_installs_nothing_and_says_what_is_missing(tmp_path):
    """`check` with a PATH that holds no Slurm program: it fails with the reason (root, or the programs) and
    leaves the machine as it was."""
    bare = tmp_path / "bin"
    bare.mkdir()
    for tool in ("bash", "env"):
        (bare / tool).symlink_to(subprocess.run(["which", tool], capture_output=True, text=True).stdout.strip())
    result = subprocess.run([str(bare / "bash"), str(SCRIPT), "check"], capture_output=True, text=True,
                            env={**os.environ, "PATH": str(bare)})
    assert result.returncode == 1, result.stderr
    if environment.is_root():
        assert "not installed: slurmctld slurmd munged sbatch" in result.stderr, result.stderr
        assert "local-slurm.sh install' installs them" in result.stderr
    else:
        assert "starting Slurm's daemons needs root" in result.stderr, result.stderr
