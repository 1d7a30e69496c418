"""Speed of one training step (forward, backward, Adam, prior sampler advanced once) for every struct and k.

Each row is the median wall time of `Trainer.train_step` on real batches of 100 binarized-MNIST training images,
after warm-up, in three sampler settings: the networks alone (PCD with 1 chain and 1 sweep, whose cost is
negligible), PCD at the paper's settings (1000 chains, 40 sweeps) and population annealing at the paper's settings
(1000 particles, 40 sweeps, 4 temperatures × 10 sweeps). `--historical` adds the settings that earlier versions used
(float32 Gibbs uniforms; 40 temperatures × 1 sweep), built by replacing the model's sampler. `--xla` adds the
networks alone with the whole step compiled by XLA (`jit_compile=True`; population annealing does not compile: XLA
has no `StatelessShuffle`), the measurement behind training's not using it (docs/benchmarks-train-step.md). All
workloads of one (struct, k) are interleaved (benchmarks/harness.py). The floor, in the same run: the dense layers'
forward and backward matmuls, at B rows for what depends on the images alone (the first encoder group, the later
groups' product with x) and at B·k rows for the rest, plus for the sampler rows 40 × (two matmuls [1000,
side]×[side, side] and two float32 uniform draws [1000, side]), as the paper's sampler draws them. The floor with
likelihood adds what the protocol cannot skip either: one uniform draw per latent unit and row, and the Bernoulli
likelihood's softplus and its derivative over B·k × 784.

    DVAE_DATA_DIR=... python -m benchmarks.train_step [--structs ...] [--ks 1,5,25] [--baseline dvaes_power]
        [--repeats 15] [--warmup 2] [--case_seconds 40] [--historical] [--xla]
"""
import argparse
import pathlib
import tempfile

import tensorflow as tf

from dvae_sharp import configs
from dvae_sharp import data
from benchmarks import harness
from dvae_sharp.configs import paper
from dvae_sharp.dvae.model import discrete_vae as model_lib, priors
from dvae_sharp.dvae.runner import training

BATCH = 100
NUM_BATCHES = 8
NETWORKS_ALONE = "networks alone (PCD 1 × 1)"
PAPER_SAMPLER = dict(sampler_chains=1000, sampler_sweeps=40)
NETWORKS_FIELDS = dict(sampler="pcd", sampler_chains=1, sampler_sweeps=1)
SETTINGS = {  # row label: (configuration fields, make_step options of a variant)
    NETWORKS_ALONE: (NETWORKS_FIELDS, {}),
    "PCD 1000 × 40": (dict(sampler="pcd", **PAPER_SAMPLER), {}),
    "PA 1000 × 40 (4 temperatures × 10 sweeps)": (dict(sampler="pa", **PAPER_SAMPLER), {}),
}
HISTORICAL = {
    "PCD 1000 × 40, float32 uniforms (before)": (dict(sampler="pcd", **PAPER_SAMPLER),
                                                 dict(sampler_options=dict(uniform_bits=32))),
    "PA 1000 × 40 (4 × 10), float32 uniforms (before)": (dict(sampler="pa", **PAPER_SAMPLER),
                                                         dict(sampler_options=dict(uniform_bits=32))),
    "PA 1000 × 40 (40 temperatures × 1 sweep, before)": (dict(sampler="pa", **PAPER_SAMPLER),
                                                         dict(sampler_options=dict(sweeps_per_temperature=1))),
}
XLA_SETTINGS = {"networks alone, whole step compiled by XLA": (NETWORKS_FIELDS, dict(jit_compile=True))}


def make_step(config, train_mean, batches, run_dir, sampler_options=None, jit_compile=False):
    """The training step of a fresh model, its sampler built with `sampler_options` if given (priors.make_sampler)
    and the whole step compiled by XLA if `jit_compile`; job(i) runs it on batch i mod NUM_BATCHES."""
    model = model_lib.DiscreteVAE(config, train_mean)
    if sampler_options:
        model.rbm.sampler = priors.make_sampler(config, config.structure.rbm_side, **sampler_options)
    trainer = training.Trainer(model, config, run_dir)
    step = trainer.train_step
    if jit_compile:
        step = tf.function(step.python_function, input_signature=step.input_signature, autograph=False,
                           jit_compile=True)
    return lambda i: step(batches[i % len(batches)])


def case_rows(struct, k, args, dataset, batches, temp_dir, settings):
    """Times the sampler settings and their floors for one (struct, k); returns the table rows."""
    config_of = {label: configs.make_config(struct=struct, baseline=args.baseline, k=k, **fields)
                 for label, (fields, _) in settings.items()}
    jobs = {label: make_step(config_of[label], dataset.train_mean, batches, temp_dir / f"{struct}-{k}-{n}",
                             **options) for n, (label, (_, options)) in enumerate(settings.items())}
    networks_config = config_of[NETWORKS_ALONE]
    networks = harness.training_networks(networks_config, BATCH, k)
    side, latents = networks_config.structure.rbm_side, networks_config.structure.num_latents
    protocol = dict(uniforms=(BATCH * k, latents), likelihood=(BATCH * k, networks_config.input_size, True))
    sampler = dict(gibbs=(1000, side, side, 40, 32))
    jobs["floor: networks"] = harness.floor(networks=networks)
    jobs["floor: networks + sampler"] = harness.floor(networks=networks, **sampler)
    jobs["floor with likelihood: networks"] = harness.floor(networks=networks, **protocol)
    jobs["floor with likelihood: networks + sampler"] = harness.floor(networks=networks, **sampler, **protocol)
    medians, repeats = harness.interleaved_medians(jobs, args.warmup, args.repeats, args.case_seconds)
    rows = []
    for label, (fields, _) in settings.items():
        parts = "networks" if fields is NETWORKS_FIELDS else "networks + sampler"
        floor, floor_with_likelihood = medians[f"floor: {parts}"], medians[f"floor with likelihood: {parts}"]
        step = medians[label]
        rows.append(f"| {struct} | {k} | {BATCH * k} | {label} | {step:.1f} | {floor:.1f} | {step / floor:.2f} "
                    f"| {floor_with_likelihood:.1f} | {step / floor_with_likelihood:.2f} | {repeats} |")
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--structs", default=",".join(paper.STRUCTS), help="comma-separated structures")
    parser.add_argument("--ks", default="1,5,25", help="comma-separated samples per data point")
    parser.add_argument("--baseline", default="dvaes_power", choices=paper.BASELINES)
    parser.add_argument("--repeats", type=int, default=15, help="interleaved repetitions per (struct, k)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed calls of every workload first (≥ 1)")
    parser.add_argument("--case_seconds", type=float, default=40.0,
                        help="fewer repetitions (not below 5) for a (struct, k) whose repetitions would take longer")
    parser.add_argument("--historical", action="store_true", help="also the sampler settings of earlier versions")
    parser.add_argument("--xla", action="store_true", help="also the networks alone with the step compiled by XLA")
    args = parser.parse_args()
    settings = {**SETTINGS, **(HISTORICAL if args.historical else {}), **(XLA_SETTINGS if args.xla else {})}
    dataset = data.load_dataset("binarized_mnist")
    batches = [tf.constant(dataset.train[i * BATCH:(i + 1) * BATCH], tf.float32) for i in range(NUM_BATCHES)]
    print(f"ms per training step (forward, backward, Adam, sampler advanced once), baseline {args.baseline}, batches "
          f"of {BATCH} binarized-MNIST training images, float32; median of the repetitions shown, interleaved, after "
          f"{args.warmup} warm-up steps. Floors: benchmarks/harness.py.")
    print("| struct | k | B·k | sampler | step ms | floor ms | × floor | floor with likelihood ms "
          "| × floor with likelihood | repeats |")
    print("|---|---:|---:|---|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as temp:
        for struct in args.structs.split(","):
            for k in (int(k) for k in args.ks.split(",")):
                for row in case_rows(struct, k, args, dataset, batches, pathlib.Path(temp), settings):
                    print(row, flush=True)


if __name__ == "__main__":
    main()
