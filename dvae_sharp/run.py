"""Train and evaluate DVAE, DVAE++ or DVAE# on binarized MNIST or OMNIGLOT.

    python run.py --dataset=binarized_mnist --struct=1-layer-lin --baseline=dvaes_power --k=1

Defaults reproduce the paper's protocol; CPU users lower the sampler and iteration flags. Logs, checkpoints and
results.json go to `{log_dir}/{dataset}/{struct}/{baseline}/{k}`; re-running the same command resumes.
"""
import os
import sys

if __name__ == "__main__":  # from the first line on, a stop signal ends start-up with one line and 128 + N
    from dvae_sharp.dvae.runner import interrupts
    interrupts.stop_at_once()

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app, flags, logging  # noqa: E402

from dvae_sharp import configs  # noqa: E402
from dvae_sharp.dvae.runner import interrupts  # noqa: E402

# absl.logging defines --log_dir for its own log files, which this program never writes; the original's --log_dir
# (the run directory root) takes the name.
if "log_dir" in flags.FLAGS:
    delattr(flags.FLAGS, "log_dir")


def define_config_flags():
    """One flag per field of configs.Config, with its default, help and range; the sampler is the original's
    `--qupa`."""
    for name, field in configs.FIELDS.items():
        help_text, choices = field.metadata["help"], field.metadata["choices"]
        lowest, highest = field.metadata["minimum"], field.metadata["maximum"]
        if field.type is int:
            help_text += f" Range: {lowest} to {highest}."
        elif field.type is float:
            help_text += f" Range: {lowest:g} to {highest:g}."
        if name == "sampler":
            flags.DEFINE_boolean("qupa", True, "The original's choice of prior sampler: population annealing (True, "
                                 "--sampler=pa) or PCD (False, --sampler=pcd).")
            flags.DEFINE_enum("sampler", None, choices, f"{help_text} Default: from --qupa.")
        elif choices:
            flags.DEFINE_enum(name, field.default, choices, help_text)
        elif field.type is float:
            flags.DEFINE_float(name, field.default, help_text)
        else:
            flags.DEFINE_integer(name, field.default, help_text)


define_config_flags()
flags.DEFINE_string("data_dir", None, "Dataset directory; default: $DVAE_DATA_DIR, then ~/.cache/dvae_sharp.")
flags.DEFINE_string("log_dir", "./logs", "Root for TensorBoard events, checkpoints and results.json.")
flags.DEFINE_integer("summary_every", 1000, "Steps between training summaries and latest-checkpoint saves. "
                     "Range: {} to {}.".format(*configs.integer_range("summary_every")))
flags.DEFINE_boolean("resume", True, "Continue the run found in the log directory (same configuration only).")

FLAGS = flags.FLAGS


def config_from_flags():
    """The configs.Config of the parsed flags (ConfigError for a bad value)."""
    values = {name: FLAGS[name].value for name in configs.FIELDS if name != "sampler"}
    from_qupa = "pa" if FLAGS.qupa else "pcd"
    if FLAGS.sampler and FLAGS["qupa"].present and FLAGS.sampler != from_qupa:
        raise configs.ConfigError(f"--sampler={FLAGS.sampler} contradicts --{'' if FLAGS.qupa else 'no'}qupa")
    return configs.make_config(sampler=FLAGS.sampler or from_qupa, **values)


HELP_FLAGS = ("--help", "-h", "-?", "--helpshort", "--helpfull", "--helpxml")


def parse_flags(argv):
    """absl parsing, with any flag error, unreadable flagfile or word that is not a flag (`--qupa False` leaves
    `False`) reported as a single line (exit status 1); help exits with status 0."""
    try:
        leftovers = FLAGS(argv)
    except interrupts.Stopped:
        raise
    except flags.Error as error:
        sys.exit(f"run.py: error: {error}")
    except (UnicodeDecodeError, ValueError, OSError) as error:  # a flagfile that is not text, say
        files = [word.split("=", 1)[1] for word in argv[1:] if word.startswith("--flagfile=")]
        sys.exit(f"run.py: error: cannot read the flags{' of --flagfile=' + ', '.join(files) if files else ''}: "
                 f"{error}; a flagfile holds one --name=value per line, as UTF-8 text")
    except SystemExit:
        if any(word in HELP_FLAGS for word in argv[1:]):
            sys.exit(0)
        raise
    if len(leftovers) > 1:
        words = " ".join(leftovers[1:])
        sys.exit(f"run.py: error: {words!r} is not a flag: flags take the form --name=value (--qupa=False or "
                 f"--noqupa, not --qupa False), and run.py takes no other arguments")
    return leftovers


def main(argv):
    """Exit status: 0 when the run is finished, 1 for an error (one line on stderr), 128 + N after signal N
    stopped the run with its state saved (130 for Ctrl-C, 143 for SIGTERM) or stopped its start-up."""
    del argv
    with interrupts.StopAtOnce():  # until training takes over; a stop raises interrupts.Stopped, a SystemExit
        _main()


def _main():
    interrupts.check_stopped()
    logging.set_verbosity(logging.WARNING)
    try:
        config = config_from_flags()
        configs.check_range("summary_every", FLAGS.summary_every)
    except configs.ConfigError as error:
        sys.exit(f"run.py: error: {error}")
    from dvae_sharp.dvae.runner import quiet
    tf = quiet.tensorflow_started()  # only once the flags are valid, and without TensorFlow's start-up noise
    from dvae_sharp.dvae.runner import experiment
    from dvae_sharp.dvae.runner.errors import first_line
    interrupts.check_stopped()
    try:
        with experiment.prepare(config, log_dir=FLAGS.log_dir, data_dir=FLAGS.data_dir, resume=FLAGS.resume,
                                summary_every=FLAGS.summary_every) as run:
            interrupts.check_stopped()
            experiment.train_and_evaluate(run)
    except (experiment.SetupError, experiment.RunError) as error:
        sys.exit(f"run.py: error: {error}")
    except interrupts.Interrupted as stop:
        print(stop, file=sys.stderr, flush=True)
        sys.exit(stop.exit_status)
    except KeyboardInterrupt:
        print("Stopped at once by a second Ctrl-C; the previous checkpoint stays.", file=sys.stderr, flush=True)
        sys.exit(130)
    except (MemoryError, tf.errors.ResourceExhaustedError) as error:
        sys.exit(f"run.py: error: out of memory ({first_line(error)}); lower --k, the batch sizes or the sampler "
                 f"and evaluation sizes; the last checkpoint is kept")
    except OSError as error:
        sys.exit(f"run.py: error: {error}")


def run_in_process(arguments):
    """Runs run.py with the flags `arguments` in this process (a job scheduler's worker, say) and returns the exit
    status the command would have; error and stop messages go to stderr."""
    FLAGS.unparse_flags()
    try:
        parse_flags(["run.py", *arguments])
        main([])
    except SystemExit as stop:
        if stop.code is None or isinstance(stop.code, int):
            return stop.code or 0
        print(stop.code, file=sys.stderr, flush=True)
        return 1
    return 0


def console_main():
    """Entry point of the `dvae-run` command: this module's flags are shown by `--help` as the main module's."""
    interrupts.stop_at_once()
    for flag in FLAGS.get_flags_for_module(__name__):
        FLAGS.register_key_flag_for_module(sys.argv[0], flag)  # absl's name for the main module
    app.run(main, flags_parser=parse_flags)


if __name__ == "__main__":
    console_main()
