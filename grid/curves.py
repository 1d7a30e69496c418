"""The periodic evaluations of a run (dvae/runner/event_files.py): from its `evaluations.json` or, for runs made
before that file existed, from its TensorBoard event files."""
import pathlib

from dvae_sharp.dvae.runner import run_files
from dvae_sharp.dvae.runner.event_files import evaluations


def export(run_dir, target_dir):
    """Writes the run's periodic evaluations to `target_dir/evaluations.json`."""
    target = pathlib.Path(target_dir) / run_files.EVALUATIONS_FILE
    run_files.write_json(target, {"evaluations": evaluations(run_dir)})
    return target


if __name__ == "__main__":  # python -m dvae_sharp.grid.curves RUN_DIR TARGET_DIR
    import sys
    print(export(*sys.argv[1:3]))
