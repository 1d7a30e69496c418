"""What made a result: library versions, the code's git commit, the command line and the machine, its CPU included.

The CPU matters to the last digits: TensorFlow's oneDNN kernels choose their instructions (AVX2, AVX-512, AMX, ...)
when they run, from those the CPU offers, so the same versions and seed can round differently on another CPU.
`cpu()` records the model, the instruction-set extensions the CPU offers to those kernels (from /proc/cpuinfo)
and whether oneDNN was on and capped (`TF_ENABLE_ONEDNN_OPTS`, `ONEDNN_MAX_CPU_ISA`).
"""
import importlib.metadata
import os
import pathlib
import platform
import re
import subprocess
import sys

# Every distribution whose version can change the numbers or whose private API is used (constraints.txt pins them).
PINNED_DISTRIBUTIONS = ("tensorflow", "keras", "tensorboard", "tensorflow-probability", "numpy", "scipy", "absl-py",
                        "submitit")


def versions():
    """{distribution: version} of Python and every pinned distribution that is installed."""
    found = {"python": platform.python_version()}
    for name in PINNED_DISTRIBUTIONS:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            pass
    return found


def _git(source, *args):
    try:
        result = subprocess.run(["git", "-C", str(source), *args], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() if result.returncode == 0 else None


# Instruction-set extensions that TensorFlow's kernels dispatch on, as /proc/cpuinfo names them.
SIMD_FLAG = re.compile(r"sse\w*|ssse3|avx\w*|fma\w*|f16c|amx\w*|neon|asimd\w*|sve\w*")


def cpu(cpuinfo="/proc/cpuinfo"):
    """The CPU: model name, vendor/family/model/stepping, the SIMD extensions it offers (sorted), and oneDNN's
    settings in this process."""
    fields = {}
    try:
        for line in pathlib.Path(cpuinfo).read_text().splitlines():
            key, _, value = line.partition(":")
            fields.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    flags = fields.get("flags") or fields.get("Features") or ""
    identity = " ".join(f"{name} {fields[key]}" for name, key in (("family", "cpu family"), ("model", "model"),
                                                                   ("stepping", "stepping")) if key in fields)
    return {"model": fields.get("model name") or platform.processor() or platform.machine(),
            "id": " ".join(filter(None, (fields.get("vendor_id"), identity))) or None,
            "isa": sorted(flag for flag in flags.split() if SIMD_FLAG.fullmatch(flag)),
            "onednn": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "1") != "0" and _onednn_built_in(),
            "onednn_max_cpu_isa": os.environ.get("ONEDNN_MAX_CPU_ISA")}


def _onednn_built_in():
    try:
        from tensorflow.python.util import _pywrap_util_port
        return bool(_pywrap_util_port.IsMklEnabled())
    except (ImportError, AttributeError):
        return False


def provenance():
    """The git commit of the code (and whether tracked files differed from it), the command line, the host, its
    CPU (`cpu()`), CPU count and the GPUs TensorFlow sees."""
    import tensorflow as tf
    source = pathlib.Path(__file__).resolve().parent.parent
    commit = _git(source, "rev-parse", "HEAD")
    dirty = bool(_git(source, "status", "--porcelain", "--untracked-files=no")) if commit else None
    return {"git_commit": commit, "git_dirty": dirty, "command": [sys.executable, *sys.argv],
            "host": platform.node(), "machine": platform.machine(), "cpu": cpu(), "cpu_count": os.cpu_count(),
            "gpus": [device.name for device in tf.config.list_physical_devices("GPU")]}
