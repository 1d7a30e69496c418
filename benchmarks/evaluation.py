"""Time of the importance-weighted evaluation, extrapolated to the final test (10000 images × 4000 samples).

For each struct: seconds per 20000 scored rows (one posterior sample of one image each) with the evaluator's path
(first encoder group once per image, `repeats`) and with the plain path (images tiled, every group per row), beside
two floors measured in the same run: the bare matrix products of the evaluator's shapes (once per image: the
first encoder group and the later groups' product with x; per row: the rest of the later groups and the decoder)
with the uniform draws of the posterior samples, and those plus the softplus of the Bernoulli likelihood on every
row's pixels. With `--final_run_dir`, the real final test is also timed: the
best-validation checkpoint of that finished run scores all 10000 test images with `--final_samples` samples each
through the evaluator, and the wall time is printed beside the floor's extrapolation to the same work. Usage:

    DVAE_DATA_DIR=... python -m benchmarks.evaluation [--structs=1-layer-lin,4-layer-nonlin] [--repeats=5]
        [--final_run_dir=logs/.../1-layer-lin/dvaes_power/1 --final_samples=4000]
"""
import argparse
import pathlib
import sys
import time

import numpy as np
import tensorflow as tf

from dvae_sharp import configs
from dvae_sharp import data
from benchmarks import harness
from dvae_sharp.dvae.model import evaluation
from dvae_sharp.dvae.runner import run_files, training
from dvae_sharp.dvae.model.discrete_vae import DiscreteVAE

BATCH, REPS = 1000, 20          # 20000 rows per call, as the evaluator does for a batch of 1000
FINAL_ROWS = 10000 * 4000


def floor_function(config, likelihood=False):
    """The floor of one evaluation call: the forward matmuls (group 0 and the later groups' first-layer product
    with x on BATCH rows, the rest of the later groups and the decoder on BATCH·REPS rows) and the posterior
    samples' uniforms (BATCH·REPS × latents); with `likelihood`, also the softplus of the Bernoulli likelihood on
    BATCH·REPS × pixels."""
    networks = len(harness.dense_chains(config))
    return harness.floor(networks=(config, [BATCH] + [BATCH * REPS] * (networks - 1), False, BATCH),
                         uniforms=(BATCH * REPS, config.structure.num_latents),
                         likelihood=(BATCH * REPS, config.input_size) if likelihood else None)


def evaluator_call(struct, baseline, images, mean):
    """(config, model, call): `call(seed)` is one evaluator call, the log-weights of the first BATCH `images` with
    REPS posterior samples each, as the evaluator makes it (`repeats`)."""
    config = configs.make_config(struct=struct, baseline=baseline, sampler_chains=1, sampler_sweeps=1)
    model = DiscreteVAE(config, mean)
    x = tf.constant(images[:BATCH], tf.float32)
    return config, model, tf.function(lambda seed: model.evaluation_terms(x, seed, repeats=REPS), autograph=False)


def struct_row(struct, images, mean, repeats):
    config, model, repeated_path = evaluator_call(struct, "dvaes_power", images, mean)
    tiled = tf.constant(np.tile(images[:BATCH], (REPS, 1)), tf.float32)
    seed = tf.constant([1, 2], tf.int64)
    tiled_path = tf.function(lambda: model.evaluation_terms(tiled, seed), autograph=False)
    jobs = {"floor": floor_function(config), "floor + likelihood": floor_function(config, likelihood=True),
            "repeats": lambda i: repeated_path(seed), "tiled": lambda i: tiled_path()}
    times = {name: ms / 1e3 for name, ms in harness.interleaved_medians(jobs, warmup=1, repeats=repeats)[0].items()}
    per_final = FINAL_ROWS / (BATCH * REPS)
    return (f"| {struct} | {1e3 * times['floor']:.0f} | {1e3 * times['floor + likelihood']:.0f} | "
            f"{1e3 * times['tiled']:.0f} | {1e3 * times['repeats']:.0f} | {times['repeats'] / times['floor']:.2f} | "
            f"{times['repeats'] / times['floor + likelihood']:.2f} | "
            f"{times['tiled'] * per_final / 60:.1f} | {times['repeats'] * per_final / 60:.1f} |")


def final_test(run_dir, samples, dataset):
    """Wall time of the evaluator on the whole test set with the run's best checkpoint, and the floor's time."""
    config = configs.Config.from_dict(run_files.read_json(run_dir / run_files.CONFIG_FILE))
    model = DiscreteVAE(config, dataset.train_mean)
    trainer = training.Trainer(model, config, run_dir)
    if not trainer.restore_best():
        sys.exit(f"{run_dir} has no best checkpoint")
    floor_ms = harness.interleaved_medians({"floor": floor_function(config)}, warmup=1, repeats=3)[0]["floor"]
    floor_seconds = floor_ms / 1e3 * len(dataset.test) * samples / (BATCH * REPS)
    started = time.perf_counter()
    metrics = evaluation.Evaluator(model).evaluate(dataset.test, BATCH, samples, trainer.rng)
    seconds = time.perf_counter() - started
    print(f"\nFinal test of {run_dir} (best step {int(trainer.best_step)}): {len(dataset.test)} images × {samples} "
          f"samples in {seconds / 60:.2f} min (floor {floor_seconds / 60:.2f} min, ratio "
          f"{seconds / floor_seconds:.2f}); test NLL {metrics['neg_ll']:.3f}, neg-ELBO {metrics['neg_elbo']:.3f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--structs", default=",".join(configs.STRUCTS))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--final_run_dir", type=pathlib.Path, help="a finished run whose final test is timed")
    parser.add_argument("--final_samples", type=int, default=4000)
    args = parser.parse_args()
    training.reproducible_graphs()  # the graph options of a run, which the evaluator calls here build no Trainer for
    if args.final_run_dir and not (args.final_run_dir / "config.json").is_file():
        parser.error(f"--final_run_dir={args.final_run_dir} holds no config.json of a run")
    dataset = data.load_dataset("binarized_mnist")
    images = dataset.test.astype(np.float32)
    print(f"ms per evaluation call of {BATCH} images × {REPS} samples (median of {args.repeats}); minutes for the "
          f"final test of 10000 images × 4000 samples extrapolated from it")
    print("| struct | floor ms | floor + likelihood ms | tiled ms (before) | repeats ms (after) | after / floor "
          "| after / (floor + likelihood) | final min (before) | final min (after) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for struct in args.structs.split(","):
        print(struct_row(struct, images, dataset.train_mean, args.repeats), flush=True)
    if args.final_run_dir:
        final_test(args.final_run_dir, args.final_samples, dataset)


if __name__ == "__main__":
    main()
