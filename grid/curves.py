"""The periodic evaluations of a run, from its `evaluations.json` or, for runs made before that file existed, from
its TensorBoard event files."""
import os
import pathlib

from dvae import run_files

EVALUATION_TAGS = ("val/neg_ll", "test/neg_ll", "val/neg_elbo", "test/neg_elbo", "log_z/ais", "log_z/ais_stderr")


def evaluations_from_events(run_dir):
    """[{step, tag: value, …}] of the evaluation tags, one entry per step (the last value written wins)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf
    by_step = {}
    for path in sorted(pathlib.Path(run_dir).glob("events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(str(path)):
            for value in event.summary.value:
                if value.tag in EVALUATION_TAGS:
                    by_step.setdefault(event.step, {"step": event.step})[value.tag] = float(
                        tf.make_ndarray(value.tensor))
    return [by_step[step] for step in sorted(by_step)]


def evaluations(run_dir):
    """The run's periodic evaluations: `evaluations.json` if present, else read from its event files."""
    path = pathlib.Path(run_dir) / run_files.EVALUATIONS_FILE
    if path.exists():
        return run_files.read_json(path)["evaluations"]
    return evaluations_from_events(run_dir)


def export(run_dir, target_dir):
    """Writes the run's periodic evaluations to `target_dir/evaluations.json`."""
    target = pathlib.Path(target_dir) / run_files.EVALUATIONS_FILE
    run_files.write_json(target, {"evaluations": evaluations(run_dir)})
    return target


if __name__ == "__main__":  # python -m grid.curves RUN_DIR TARGET_DIR
    import sys
    print(export(*sys.argv[1:3]))
