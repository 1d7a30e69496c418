"""Tests that need something of the machine (root for a small tmpfs, a Slurm cluster) skip with the reason where
it is missing; with DVAE_REQUIRE_ALL_TESTS=1 (set by .ci/run, which provides both) such a skip fails instead."""
import os

import pytest

REQUIRE_ALL = "DVAE_REQUIRE_ALL_TESTS"


def require(condition, reason):
    """Skips the test with `reason` unless `condition` holds; fails instead under DVAE_REQUIRE_ALL_TESTS=1."""
    if condition:
        return
    if os.environ.get(REQUIRE_ALL, "") not in ("", "0"):
        pytest.fail(f"{reason}; {REQUIRE_ALL} is set, so this test may not be skipped", pytrace=False)
    pytest.skip(reason)


def is_root():
    return os.geteuid() == 0
