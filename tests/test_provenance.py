"""results.json's record of what made a result: every pinned library's version as installed, and the pins of
constraints.txt that the set-up installs."""
import pathlib

from dvae import provenance

CONSTRAINTS = pathlib.Path(__file__).resolve().parent.parent / "constraints.txt"


def test_versions_name_every_pinned_distribution_at_its_constraints_version():
    pins = dict(line.split("==") for line in CONSTRAINTS.read_text().split() if "==" in line)
    found = provenance.versions()
    for name in provenance.PINNED_DISTRIBUTIONS:
        assert name in pins, f"{name} is not pinned in constraints.txt"
        assert found[name] == pins[name], (name, found[name], pins[name])
    assert {"tensorflow", "keras", "numpy", "scipy", "absl-py"} <= set(provenance.PINNED_DISTRIBUTIONS)
    assert found["python"].startswith("3.11")
