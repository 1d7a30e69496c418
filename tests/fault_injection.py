"""run.py with one fault injected at a named point of the run, for the reliability tests.

    DVAE_FAULT=ACTION@POINT python tests/fault_injection.py <run.py flags>

ACTION: a signal name (SIGINT, SIGTERM, SIGUSR1, SIGUSR2, SIGKILL), `fill_disk` (fills the file system of
`--log_dir` with a file `filler` there), `kill_soon` (SIGKILL from another thread a few milliseconds later, at
whatever instant that is) or `truncate_best` (cuts the data file of the best-model checkpoint to 1000 bytes).
POINT:
    train:N           after training step N
    eval:N:I          at the start of the I-th evaluated split (0 = validation, 1 = test) of the evaluation at step N
    eval:final:I      the same in the final evaluation
    save:N            at the start of writing the latest checkpoint of step N
    written:N         after the checkpoint of step N is written, before the checkpoint state file names it
    results           before results.json is written
    start             before config.json is written
    data              before the dataset is loaded (start-up)
    restore           before the latest checkpoint is restored (start-up)
    final             before the best model is restored for the final test
The fault fires once. A signal is delivered to this process, so the run meets it exactly as a user's.
"""
import os
import pathlib
import signal
import sys
import threading
import time

REPO = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from dvae_sharp import run as run_module  # noqa: E402  (defines the flags)
from absl import app  # noqa: E402
from tensorflow.python.checkpoint import checkpoint_management  # noqa: E402

from dvae_sharp import data  # noqa: E402
from dvae_sharp.dvae.model import evaluation  # noqa: E402
from dvae_sharp.dvae.runner import run_files, training

ACTION, POINT = os.environ["DVAE_FAULT"].split("@", 1)
STATE = {"trainer": None, "final": False, "eval_step": None, "eval_index": 0, "fired": False}


def log_dir():
    return pathlib.Path(next(a.split("=", 1)[1] for a in sys.argv if a.startswith("--log_dir=")))


def fill_disk():
    """Writes zeros into `filler` until the file system refuses even one byte."""
    descriptor = os.open(log_dir() / "filler", os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    for size in (1 << 16, 4096, 512, 1):
        try:
            while True:
                os.write(descriptor, b"\0" * size)
        except OSError:
            pass
    os.close(descriptor)


def truncate_best():
    for path in pathlib.Path(STATE["trainer"].best.directory).glob("best-*.data-*"):
        path.write_bytes(path.read_bytes()[:1000])


def fire(point):
    if STATE["fired"] or point != POINT:
        return
    STATE["fired"] = True
    print(f"fault: {ACTION} at {point}", flush=True)
    if ACTION == "fill_disk":
        fill_disk()
    elif ACTION == "truncate_best":
        truncate_best()
    elif ACTION == "kill_soon":
        threading.Thread(target=lambda: (time.sleep(0.003), os.kill(os.getpid(), signal.SIGKILL)), daemon=True).start()
    else:
        os.kill(os.getpid(), getattr(signal, ACTION))
        time.sleep(0.05)  # let the handler run before the next bytecode of interest


def step():
    return STATE["trainer"].step


def wrap(owner, name, before=None, after=None):
    original = getattr(owner, name)

    def wrapper(*args, **kwargs):
        if before:
            before(*args, **kwargs)
        result = original(*args, **kwargs)
        if after:
            after(result, *args, **kwargs)
        return result
    setattr(owner, name, wrapper)


def trainer_built(_, trainer, *args, **kwargs):
    STATE["trainer"] = trainer
    train_step = trainer.train_step
    trainer.train_step = lambda x: (lambda out: (fire(f"train:{trainer.step}"), out)[1])(train_step(x))


def evaluate_started(*args, **kwargs):
    phase = "final" if STATE["final"] else step()
    if STATE["eval_step"] != phase:
        STATE["eval_step"], STATE["eval_index"] = phase, 0
    fire(f"eval:{phase}:{STATE['eval_index']}")
    STATE["eval_index"] += 1


def json_written(path, value):
    name = pathlib.Path(path).name
    fire("results" if name == run_files.RESULTS_FILE else "start" if name == run_files.CONFIG_FILE else name)


wrap(training.Trainer, "__init__", after=trainer_built)
wrap(training.Trainer, "restore_best", before=lambda *a: (STATE.update(final=True), fire("final")))
wrap(training.Trainer, "restore_latest", before=lambda *a: fire("restore"))
wrap(data, "load_dataset", before=lambda *a, **k: fire("data"))
wrap(training.Trainer, "save_latest", before=lambda *a, **k: fire(f"save:{step()}"))
wrap(evaluation.Evaluator, "evaluate", before=evaluate_started)
wrap(run_files, "write_json", before=json_written)
wrap(checkpoint_management, "update_checkpoint_state_internal",
     before=lambda *a, **k: STATE["trainer"] and fire(f"written:{step()}"))

if __name__ == "__main__":
    app.run(run_module.main, flags_parser=run_module.parse_flags)
