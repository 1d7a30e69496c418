"""What made a result: library versions, the code's git commit, the command line and the machine."""
import importlib.metadata
import os
import pathlib
import platform
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


def provenance():
    """The git commit of the code (and whether tracked files differed from it), the command line, the host, its
    CPU count and the GPUs TensorFlow sees."""
    import tensorflow as tf
    source = pathlib.Path(__file__).resolve().parent.parent
    commit = _git(source, "rev-parse", "HEAD")
    dirty = bool(_git(source, "status", "--porcelain", "--untracked-files=no")) if commit else None
    return {"git_commit": commit, "git_dirty": dirty, "command": [sys.executable, *sys.argv],
            "host": platform.node(), "cpu": platform.processor() or platform.machine(), "cpu_count": os.cpu_count(),
            "gpus": [device.name for device in tf.config.list_physical_devices("GPU")]}
