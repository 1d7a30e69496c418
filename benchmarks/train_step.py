"""Speed of one training step (forward, backward, Adam, prior sampler advanced once) for every struct and k.

Each row is the median wall time of `Trainer.train_step` on real batches of 100 binarized-MNIST training images,
after warm-up, in six sampler settings: the networks alone (PCD with 1 chain and 1 sweep, whose cost is
negligible); PCD at the paper's settings (`--qupa=False`, 1000 chains, 40 sweeps) and population annealing at the
paper's settings (`--qupa=True`, 1000 particles, 40 sweeps, 4 temperatures × 10 sweeps), each with the 16-bit
uniforms of the Gibbs sweeps and, before that change, with float32 uniforms; and population annealing with the
earlier schedule of 40 temperatures × 1 sweep. All workloads of one (struct, k) are interleaved within each
repetition so that load from other processes hits them alike.

The floor is measured in the same run: the bare matrix products of the encoder and decoder dense layers at B·k
rows, forward x·W and backward dY·Wᵀ and xᵀ·dY per layer (no dY·Wᵀ into the data input of the first encoder
group); for the sampler rows plus the sampler's bare work, sweeps × (two matmuls [chains, side]×[side, side] and
two float32 uniform draws [chains, side], as the paper's sampler draws them), in one tf.function so that
independent parts may overlap as in the step.

    DVAE_DATA_DIR=/work/shared/data python benchmarks/train_step.py [--structs ...] [--ks 1,5,25]
        [--baseline dvaes_power] [--repeats 15] [--warmup 2] [--case_seconds 40]
"""
import argparse
import pathlib
import sys
import tempfile
import time

import numpy as np
import tensorflow as tf

# `benchmarks/samplers.py` shares its name with the `samplers` package the model imports: put the repository root
# first on the path, in place of this script's directory.
sys.path[0] = str(pathlib.Path(__file__).resolve().parent.parent)
import configs  # noqa: E402
import data  # noqa: E402
from configs import paper  # noqa: E402
from dvae import model as model_lib, training  # noqa: E402

BATCH = 100
NUM_BATCHES = 8
NETWORKS_ALONE, PAPER_PCD = "networks alone (PCD 1 × 1)", "PCD 1000 × 40"
PAPER_SAMPLER = dict(sampler_chains=1000, sampler_sweeps=40)
SETTINGS = {  # row label: (sampler flags of make_config, DiscreteVAE's sampler_options)
    NETWORKS_ALONE: (dict(qupa=False, sampler_chains=1, sampler_sweeps=1), {}),
    PAPER_PCD: (dict(qupa=False, **PAPER_SAMPLER), {}),
    "PCD 1000 × 40, float32 uniforms (before)": (dict(qupa=False, **PAPER_SAMPLER), dict(uniform_bits=32)),
    "PA 1000 × 40 (4 temperatures × 10 sweeps)": (dict(qupa=True, **PAPER_SAMPLER), {}),
    "PA 1000 × 40 (4 × 10), float32 uniforms (before)": (dict(qupa=True, **PAPER_SAMPLER), dict(uniform_bits=32)),
    "PA 1000 × 40 (40 temperatures × 1 sweep, before)": (dict(qupa=True, **PAPER_SAMPLER),
                                                         dict(pa_sweeps_per_temperature=1)),
}


def dense_chains(config):
    """(fan_in, fan_out) of every dense layer, one list per network: the encoder groups, then the decoder."""
    structure, pixels = config.structure, config.input_size
    hidden = [structure.hidden_units] * structure.hidden_layers
    num_params = 2 if config.spec.prior == "gaussian_integral" else 1
    units = structure.units_per_group
    sizes = [[pixels + g * units] + hidden + [units * num_params] for g in range(structure.num_groups)]
    sizes.append([structure.num_latents] + hidden + [pixels])
    return [list(zip(s[:-1], s[1:])) for s in sizes]


def network_floor(config, rows, rng):
    """Forward and backward matmuls of every dense layer at `rows` rows; returns the gradients it computed."""
    chains = dense_chains(config)
    weights = [[tf.constant(rng.normal(0, fan_in ** -0.5, (fan_in, fan_out)), tf.float32) for fan_in, fan_out in c]
               for c in chains]
    inputs = [tf.constant(rng.normal(0, 1, (rows, c[0][0])), tf.float32) for c in chains]

    def run():
        outputs = []
        for index, (x, ws) in enumerate(zip(inputs, weights)):
            activations = [x]
            for w in ws:
                activations.append(tf.matmul(activations[-1], w))
            grad = activations[-1]
            for layer in reversed(range(len(ws))):
                outputs.append(tf.matmul(activations[layer], grad, transpose_a=True))
                if layer > 0 or index > 0:  # the first encoder group's input is the data: no gradient needed
                    grad = tf.matmul(grad, ws[layer], transpose_b=True)
            outputs.append(tf.reduce_sum(grad))
        return outputs
    return run


def sampler_floor(config, rng):
    """sweeps × (two matmuls [chains, side]×[side, side] and two uniform draws [chains, side])."""
    side, chains = config.structure.rbm_side, config.sampler_chains
    w = tf.constant(rng.uniform(0, 1.0 / side, (side, side)), tf.float32)
    z1 = tf.constant(rng.uniform(0, 1, (chains, side)) < 0.5, tf.float32)

    def run(seed):
        def body(t, z1):
            seeds = tf.random.experimental.stateless_split(tf.random.experimental.stateless_fold_in(seed, t), 2)
            z2 = tf.matmul(z1, w) * tf.random.stateless_uniform([chains, side], seeds[0])
            return t + 1, tf.matmul(z2, w, transpose_b=True) * tf.random.stateless_uniform([chains, side], seeds[1])
        return tf.while_loop(lambda t, _: t < config.sampler_sweeps, body, (tf.constant(0), z1))[1]
    return run


def make_floor(config, rows, with_sampler):
    rng = np.random.default_rng(0)
    networks = network_floor(config, rows, rng)
    sampler = sampler_floor(config, rng) if with_sampler else None

    @tf.function
    def floor(seed):
        outputs = networks()
        return outputs + [sampler(seed)] if sampler else outputs
    return lambda i: floor(tf.constant([i, 0]))


def make_step(config, train_mean, batches, run_dir, sampler_options):
    """The compiled training step of a fresh model; job(i) runs it on batch i mod NUM_BATCHES."""
    model = model_lib.DiscreteVAE(config, train_mean, sampler_options=sampler_options)
    trainer = training.Trainer(model, config, run_dir)
    return lambda i: trainer.train_step(batches[i % len(batches)])


def run(function, index):
    start = time.perf_counter()
    result = function(index)
    tf.nest.map_structure(lambda t: t.numpy(), result)
    return time.perf_counter() - start


def time_jobs(jobs, args):
    """Warm-up calls, then interleaved repetitions: at most --repeats, fewer (not below 5) when one round of all
    jobs is so slow that --repeats rounds would exceed --case_seconds. Returns medians in ms and the count."""
    for index in range(args.warmup):
        round_seconds = sum(run(job, index) for job in jobs.values())
    repeats = min(args.repeats, max(5, int(args.case_seconds / round_seconds)))
    times = {name: [] for name in jobs}
    for repetition in range(repeats):
        for name, job in jobs.items():
            times[name].append(run(job, args.warmup + repetition))
    return {name: 1e3 * np.median(values) for name, values in times.items()}, repeats


def case_rows(struct, k, args, dataset, batches, temp_dir):
    """Times the sampler settings and their floors for one (struct, k); returns the table rows."""
    configs_by_setting = {label: configs.make_config(struct=struct, baseline=args.baseline, k=k, **flags)
                          for label, (flags, _) in SETTINGS.items()}
    jobs = {label: make_step(config, dataset.train_mean, batches, temp_dir / f"{struct}-{k}-{n}",
                             SETTINGS[label][1])
            for n, (label, config) in enumerate(configs_by_setting.items())}
    jobs["floor: networks"] = make_floor(configs_by_setting[NETWORKS_ALONE], BATCH * k, with_sampler=False)
    jobs["floor: networks + sampler"] = make_floor(configs_by_setting[PAPER_PCD], BATCH * k, with_sampler=True)
    medians, repeats = time_jobs(jobs, args)
    rows = []
    for label in SETTINGS:
        floor = medians["floor: networks" if label == NETWORKS_ALONE else "floor: networks + sampler"]
        step = medians[label]
        rows.append(f"| {struct} | {k} | {BATCH * k} | {label} | {step:.1f} | {floor:.1f} | {step / floor:.2f} "
                    f"| {repeats} |")
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
    args = parser.parse_args()
    args.warmup = max(1, args.warmup)
    dataset = data.load_dataset("binarized_mnist")
    batches = [tf.constant(dataset.train[i * BATCH:(i + 1) * BATCH], tf.float32) for i in range(NUM_BATCHES)]
    print(f"ms per training step (forward, backward, Adam, sampler advanced once), baseline {args.baseline}, batches "
          f"of {BATCH} binarized-MNIST training images, float32; median of the repetitions shown, interleaved, after "
          f"{args.warmup} warm-up steps. 'networks alone' is PCD with 1 chain × 1 sweep, a negligible sampler cost; "
          f"its floor is the bare forward and backward matmuls of the encoder and decoder dense layers at B·k rows. "
          f"The sampler rows' floor adds 40 × (2 matmuls [1000, side]×[side, side] + 2 float32 uniform draws "
          f"[1000, side]). The samplers' Gibbs sweeps draw 16-bit uniforms unless the row says float32.")
    print("| struct | k | B·k | sampler | step ms | floor ms | × floor | repeats |")
    print("|---|---:|---:|---|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as temp:
        for struct in args.structs.split(","):
            for k in (int(k) for k in args.ks.split(",")):
                for row in case_rows(struct, k, args, dataset, batches, pathlib.Path(temp)):
                    print(row, flush=True)


if __name__ == "__main__":
    main()
