"""TensorFlow's start-up without its start-up noise.

Importing TensorFlow and initialising its devices print, from C++ and before any log level applies, lines that say
nothing to a user: that oneDNN is on, that no CUDA driver was found on a CPU machine, that cuInit failed there, and
(at the first int32 transpose) that oneDNN leaves int32 to Eigen on this CPU.
`tensorflow_started()` imports TensorFlow with file descriptor 2 captured, drops exactly those lines and writes
every other line back to stderr, so real warnings and errors still show.
"""
import contextlib
import os
import re
import sys
import tempfile

NOISE = re.compile(r"All log messages before absl::InitializeLog\(\) is called are written to STDERR"
                   r"|port\.cc:\d+\] oneDNN custom operations are on"
                   r"|cpu_feature_guard\.cc:\d+\]"
                   r"|instructions in performance-critical operations|rebuild TensorFlow with the appropriate compiler"
                   r"|cudart_stub\.cc:\d+\] Could not find cuda drivers"
                   r"|cuda_platform\.cc:\d+\] failed call to cuInit"
                   r"|cuda_executor\.cc:\d+\].*(?:no NVIDIA GPU|driver)"
                   r"|util\.cc:\d+\] oneDNN supports DT_INT32 only on platforms")


@contextlib.contextmanager
def _captured_stderr():
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield capture
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            kept = [line for line in capture.read().decode(errors="replace").splitlines(keepends=True)
                    if not NOISE.search(line)]
            sys.stderr.write("".join(kept))
            sys.stderr.flush()


def tensorflow_started():
    """Imports TensorFlow and lists its devices with the start-up noise removed; returns the module."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with _captured_stderr():
        import tensorflow as tf
        tf.config.list_physical_devices()
        tf.constant(0.0).numpy()
        tf.transpose(tf.zeros([1, 1], tf.int32)).numpy()  # prints its oneDNN notice once per process, here
    return tf
