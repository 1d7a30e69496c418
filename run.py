"""Train and evaluate DVAE, DVAE++ or DVAE# on binarized MNIST or OMNIGLOT.

    python run.py --dataset=binarized_mnist --struct=1-layer-lin --baseline=dvaes_power --k=1

Defaults reproduce the paper's protocol; CPU users lower the sampler and iteration flags. Logs, checkpoints and
results.json go to `{log_dir}/{dataset}/{struct}/{baseline}/{k}`; re-running the same command resumes.
"""
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app, flags, logging  # noqa: E402

import configs  # noqa: E402

_ORIGINAL = "(original protocol)"
# absl.logging defines --log_dir for its own log files, which this program never writes; the original's --log_dir
# (the run directory root) takes the name.
if "log_dir" in flags.FLAGS:
    delattr(flags.FLAGS, "log_dir")
flags.DEFINE_enum("dataset", "binarized_mnist", configs.DATASETS, f"Dataset {_ORIGINAL}.")
flags.DEFINE_enum("baseline", "dvaes_power", configs.BASELINES, "Smoothing, prior and objective (the paper's column).")
flags.DEFINE_enum("struct", "2-layer-nonlin", configs.STRUCTS, "Encoder/decoder structure and latent groups.")
flags.DEFINE_integer("k", 1, "Samples per data point in training: ELBO average (DVAE/DVAE++) or IW bound (DVAE#).")
flags.DEFINE_boolean("qupa", True, "Sample the RBM prior with population annealing (True) or PCD (False).")
flags.DEFINE_float("beta", None, "Override the paper's smoothing β for this dataset/struct/baseline.")
flags.DEFINE_string("data_dir", None, "Dataset directory; default: $DVAE_DATA_DIR, then ~/.cache/dvae_sharp.")
flags.DEFINE_string("log_dir", "./logs", "Root for TensorBoard events, checkpoints and results.json.")
flags.DEFINE_integer("num_train_iter", 1000000, f"Training steps {_ORIGINAL}.")
flags.DEFINE_integer("train_batchsize", 100, f"Training batch size {_ORIGINAL}.")
flags.DEFINE_integer("eval_batchsize", None, "Evaluation batch size; default 1000 (MNIST) or 269 (OMNIGLOT).")
flags.DEFINE_integer("eval_iw_samples", 4000, "Importance samples per test image in the final evaluation.")
flags.DEFINE_float("base_lr", 3e-3, f"Base learning rate of the piecewise-constant schedule {_ORIGINAL}.")
flags.DEFINE_integer("input_size", 784, "Pixels per image (both datasets: 784).")
flags.DEFINE_integer("sampler_chains", 1000, "PCD chains or population-annealing particles for the prior.")
flags.DEFINE_integer("sampler_sweeps", 40, "Block-Gibbs sweeps of the prior sampler per training step.")
flags.DEFINE_integer("ais_num_betas", 1000, "AIS inverse temperatures for the evaluation log Z.")
flags.DEFINE_integer("ais_num_chains", 1024, "AIS chains for the evaluation log Z.")
flags.DEFINE_integer("eval_every", None, "Steps between evaluations; default 20000 (10000 for runs of <= 1e5 steps).")
flags.DEFINE_integer("val_iw_samples", 100, "Importance samples per image in the periodic evaluations.")
flags.DEFINE_integer("seed", 1, "Seed of every random stream (data order, noise, samplers).")
flags.DEFINE_integer("mean_field_iterations", 5, "Mean-field updates of the DVAE# marginal prior (paper: 5).")
flags.DEFINE_integer("summary_every", 1000, "Steps between training summaries and latest-checkpoint saves.")
flags.DEFINE_boolean("resume", True, "Continue the run found in the log directory (same configuration only).")

FLAGS = flags.FLAGS
CONFIG_FLAGS = ("dataset", "struct", "baseline", "k", "qupa", "beta", "num_train_iter", "train_batchsize",
                "eval_batchsize", "eval_iw_samples", "val_iw_samples", "eval_every", "base_lr", "input_size",
                "sampler_chains", "sampler_sweeps", "ais_num_betas", "ais_num_chains", "seed",
                "mean_field_iterations")


HELP_FLAGS = ("--help", "-h", "-?", "--helpshort", "--helpfull", "--helpxml")


def parse_flags(argv):
    """absl parsing, with any flag error reported as a single line (exit status 1); help exits with status 0."""
    try:
        return FLAGS(argv)
    except flags.Error as error:
        sys.exit(f"run.py: error: {error}")
    except SystemExit:
        if any(word in HELP_FLAGS for word in argv[1:]):
            sys.exit(0)
        raise


def main(argv):
    """Exit status: 0 when the run is finished, 1 for an error (one line on stderr), 128 + N after signal N
    stopped the run with its state saved (130 for Ctrl-C, 143 for SIGTERM)."""
    del argv
    logging.set_verbosity(logging.WARNING)
    try:
        config = configs.make_config(**{name: FLAGS[name].value for name in CONFIG_FLAGS})
        configs.check_range("summary_every", FLAGS.summary_every)
    except configs.ConfigError as error:
        sys.exit(f"run.py: error: {error}")
    from dvae import quiet
    quiet.tensorflow_started()  # only once the flags are known to be valid, and without TensorFlow's start-up noise
    from dvae import experiment, interrupts
    try:
        with experiment.prepare(config, log_dir=FLAGS.log_dir, data_dir=FLAGS.data_dir, resume=FLAGS.resume,
                                summary_every=FLAGS.summary_every) as run:
            experiment.train_and_evaluate(run)
    except (experiment.SetupError, experiment.RunError) as error:
        sys.exit(f"run.py: error: {error}")
    except interrupts.Interrupted as stop:
        print(stop, file=sys.stderr, flush=True)
        sys.exit(stop.exit_status)
    except KeyboardInterrupt:
        print("Stopped at once by a second Ctrl-C; the previous checkpoint stays.", file=sys.stderr, flush=True)
        sys.exit(130)


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
    for flag in FLAGS.get_flags_for_module(__name__):
        FLAGS.register_key_flag_for_module(sys.argv[0], flag)  # absl's name for the main module
    app.run(main, flags_parser=parse_flags)


if __name__ == "__main__":
    console_main()
