"""Scalar curves of a run, read back from its TensorBoard event files and evaluations.json."""
import os
import pathlib

from dvae_sharp.dvae.runner import run_files

EVALUATION_TAGS = ("val/neg_ll", "test/neg_ll", "val/neg_elbo", "test/neg_elbo", "log_z/ais", "log_z/ais_stderr")


def scalars(run_dir, tags):
    """{tag: [(step, value), …]} of the `tags` found in the run's event files, by step (a value written again at
    the same step, as a resumed run does, replaces the earlier one)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf
    found = {}
    for path in sorted(pathlib.Path(run_dir).glob("events.out.tfevents.*")):
        for record in tf.data.TFRecordDataset(str(path)):
            event = tf.compat.v1.Event.FromString(record.numpy())
            for value in event.summary.value:
                if value.tag in tags:
                    found.setdefault(value.tag, {})[event.step] = float(tf.make_ndarray(value.tensor))
    return {tag: sorted(by_step.items()) for tag, by_step in found.items()}


def evaluations_from_events(run_dir):
    """[{step, tag: value, …}] of the periodic evaluation tags, one entry per step."""
    by_step = {}
    for tag, series in scalars(run_dir, EVALUATION_TAGS).items():
        for step, value in series:
            by_step.setdefault(step, {"step": step})[tag] = value
    return [by_step[step] for step in sorted(by_step)]


def evaluations(run_dir):
    """The run's periodic evaluations: `evaluations.json` if present, else read from its event files."""
    path = pathlib.Path(run_dir) / run_files.EVALUATIONS_FILE
    if path.exists():
        return run_files.read_json(path)["evaluations"]
    return evaluations_from_events(run_dir)
