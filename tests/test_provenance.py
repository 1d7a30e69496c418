"""results.json's record of what made a result: every pinned library's version as installed, and the pins of
constraints.txt that the set-up installs."""
import pathlib

from dvae_sharp.dvae.runner import provenance

CONSTRAINTS = pathlib.Path(__file__).resolve().parent.parent / "constraints.txt"


def test_versions_name_every_pinned_distribution_at_its_constraints_version():
    pins = dict(line.split("==") for line in CONSTRAINTS.read_text().split() if "==" in line)
    found = provenance.versions()
    for name in provenance.PINNED_DISTRIBUTIONS:
        assert name in pins, f"{name} is not pinned in constraints.txt"
        assert found[name] == pins[name], (name, found[name], pins[name])
    assert {"tensorflow", "keras", "numpy", "scipy", "absl-py"} <= set(provenance.PINNED_DISTRIBUTIONS)
    assert found["python"].startswith("3.11")


CPUINFO = """processor\t: 0
vendor_id\t: GenuineIntel
cpu family\t: 6
model\t\t: 207
model name\t: Intel(R) Xeon(R) Example
stepping\t: 2
flags\t\t: fpu vme sse sse2 ssse3 fma sse4_1 sse4_2 popcnt avx f16c avx2 avx512f avx512_bf16 amx_tile lm

processor\t: 1
model name\t: Intel(R) Xeon(R) Example
flags\t\t: fpu sse
"""


def test_the_cpu_record_names_the_model_and_the_simd_extensions(tmp_path, monkeypatch):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(CPUINFO)
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX2")
    record = provenance.cpu(cpuinfo)
    assert record["model"] == "Intel(R) Xeon(R) Example"
    assert record["id"] == "GenuineIntel family 6 model 207 stepping 2"
    assert record["isa"] == sorted(["sse", "sse2", "ssse3", "fma", "sse4_1", "sse4_2", "avx", "f16c", "avx2",
                                    "avx512f", "avx512_bf16", "amx_tile"])
    assert record["onednn_max_cpu_isa"] == "AVX2"


def test_results_provenance_records_this_machines_cpu():
    record = provenance.provenance()["cpu"]
    if pathlib.Path("/proc/cpuinfo").exists():
        text = pathlib.Path("/proc/cpuinfo").read_text()
        flags = set(next(line for line in text.splitlines() if line.startswith(("flags", "Features"))).split())
        assert record["isa"] and set(record["isa"]) <= flags and record["model"] in text
    assert isinstance(record["onednn"], bool)
