"""Speed of the RBM samplers at the paper's settings (1000 chains or particles, 40 sweeps per training step).

Each row is the median wall time of one call, after warm-up, with all workloads interleaved within each repetition so
that load from other processes hits them alike. The floor is measured in the same run: 40 iterations of the bare
work of a sweep, two matmuls [S, n1]×[n1, n2] and [S, n2]×[n2, n1] and float32 uniform draws of [S, n1] and [S, n2],
in the same tf.while_loop structure (each product is multiplied by its uniforms so that nothing is pruned). The
samplers' Gibbs sweeps draw 16-bit uniforms (half the random bits) unless the row says float32; a second floor row
draws those instead, so that the gain from fewer random bits can be told from the rest.

    python benchmarks/samplers.py [--repeats 15] [--sizes 100,200] [--ais_repeats 3]
"""
import argparse
import pathlib
import sys
import time

import numpy as np
import tensorflow as tf

# This script shares its name with the package it measures: import the package from the repository root.
sys.path[0] = str(pathlib.Path(__file__).resolve().parent.parent)
import samplers  # noqa: E402

NUM_SAMPLES = 1000
NUM_SWEEPS = 40


@tf.function
def floor_loop(z1, w, seed, uniform_bits=32):
    def uniform(shape, seed):
        return samplers.stateless_uniform(tf.constant(shape), seed, tf.float32, uniform_bits)

    def body(t, z1):
        seed_right, seed_left = tf.unstack(
            tf.random.experimental.stateless_split(tf.random.experimental.stateless_fold_in(seed, t), 2))
        z2 = tf.matmul(z1, w) * uniform([NUM_SAMPLES, w.shape[1]], seed_right)
        z1 = tf.matmul(z2, w, transpose_b=True) * uniform([NUM_SAMPLES, w.shape[0]], seed_left)
        return t + 1, z1

    return tf.while_loop(lambda t, _: t < NUM_SWEEPS, body, (tf.constant(0), z1))[1]


def make_jit_gibbs(n1):
    @tf.function(jit_compile=True)
    def jit_gibbs(samples, b1, b2, w, seed):
        return samplers.gibbs_chain(samples[:, :n1], b1, b2, w, NUM_SWEEPS, seed)
    return jit_gibbs


def workloads(n, include_jit):
    rng = np.random.default_rng(0)
    params = [[tf.constant(rng.normal(0, scale, shape), tf.float32) for shape in ([n], [n], [n, n])]
              for scale in (0.1, 0.11)]
    variables = [tf.Variable(p) for p in params[0]]
    pcd = samplers.PersistentContrastiveDivergence(n, n, NUM_SAMPLES, NUM_SWEEPS)
    pcd_float32 = samplers.PersistentContrastiveDivergence(n, n, NUM_SAMPLES, NUM_SWEEPS, uniform_bits=32)
    persistent = samplers.PopulationAnnealing(n, n, NUM_SAMPLES, NUM_SWEEPS, num_temperatures=4)
    persistent_float32 = samplers.PopulationAnnealing(n, n, NUM_SAMPLES, NUM_SWEEPS, num_temperatures=4,
                                                      uniform_bits=32)
    five_sweeps = samplers.PopulationAnnealing(n, n, NUM_SAMPLES, NUM_SWEEPS, num_temperatures=8)
    every_sweep = samplers.PopulationAnnealing(n, n, NUM_SAMPLES, NUM_SWEEPS)
    reanneal = samplers.PopulationAnnealing(n, n, NUM_SAMPLES, NUM_SWEEPS, persistent=False)

    @tf.function
    def pcd_training_step(seed):
        with tf.GradientTape() as tape:
            log_z = pcd.training_log_z(*variables, seed)
        return tape.gradient(log_z, variables)

    z1 = tf.cast(tf.random.uniform([NUM_SAMPLES, n]) < 0.5, tf.float32)
    w_floor = tf.constant(rng.uniform(0, 1.0 / n, (n, n)), tf.float32)
    jobs = {
        "floor: 40 × (2 matmuls + 2 uniform draws)": lambda i: floor_loop(z1, w_floor, tf.constant([i, 0])),
        "same floor with 16-bit uniform draws": lambda i: floor_loop(z1, w_floor, tf.constant([i, 10]), 16),
        "PCD update": lambda i: pcd.update(*params[i % 2], seed=(i, 1)),
        "PCD update, float32 uniforms (before)": lambda i: pcd_float32.update(*params[i % 2], seed=(i, 8)),
        "PCD training_log_z + gradient (tf.function)": lambda i: pcd_training_step(tf.constant([i, 2])),
        "PA update, persistent 4 × 10 (training default)": lambda i: persistent.update(*params[i % 2], seed=(i, 3)),
        "PA update, persistent 4 × 10, float32 uniforms (before)": lambda i: persistent_float32.update(
            *params[i % 2], seed=(i, 9)),
        "PA update, persistent 8 × 5": lambda i: five_sweeps.update(*params[i % 2], seed=(i, 7)),
        "PA update, persistent 40 × 1 (before)": lambda i: every_sweep.update(*params[i % 2], seed=(i, 6)),
        "PA update, re-anneal 40 × 1": lambda i: reanneal.update(*params[i % 2], seed=(i, 4)),
    }
    if include_jit:
        jit_gibbs = make_jit_gibbs(n)
        jobs["PCD sweeps with jit_compile=True"] = lambda i: jit_gibbs(pcd.samples, *params[i % 2],
                                                                      tf.constant([i, 5]))
    return jobs


def run(function, index):
    start = time.perf_counter()
    result = function(index)
    tf.nest.map_structure(lambda t: t.numpy(), result)
    return time.perf_counter() - start


def sampler_table(sizes, repeats, include_jit):
    print(f"ms per call, median of {repeats} interleaved repetitions after 2 warm-up calls; {NUM_SAMPLES} samples, "
          f"{NUM_SWEEPS} sweeps, float32")
    print("| RBM | workload | ms | × floor |")
    print("|---|---|---:|---:|")
    for n in sizes:
        jobs = workloads(n, include_jit)
        for name, job in jobs.items():
            run(job, 0), run(job, 1)
        times = {name: [] for name in jobs}
        for repetition in range(repeats):
            for name, job in jobs.items():
                times[name].append(run(job, repetition + 2))
        medians = {name: 1e3 * np.median(values) for name, values in times.items()}
        floor = next(iter(medians.values()))
        for name, ms in medians.items():
            print(f"| {n}+{n} | {name} | {ms:.1f} | {ms / floor:.2f} |")


def ais_table(repeats):
    rng = np.random.default_rng(1)
    params = [tf.constant(rng.normal(0, 0.1, shape), tf.float32) for shape in ([200], [200], [200, 200])]
    first = run(lambda i: samplers.ais_log_z(*params, seed=(i, 0)), 0)
    times = [run(lambda i: samplers.ais_log_z(*params, seed=(i, 0)), i + 1) for i in range(repeats)]
    print(f"\nAIS log Z, RBM 200+200, 1000 betas × 1024 chains, float32: first call {first:.2f} s (includes tracing), "
          f"median of {repeats} further calls {np.median(times):.2f} s")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15, help="interleaved repetitions per workload")
    parser.add_argument("--sizes", default="100,200", help="comma-separated RBM side sizes")
    parser.add_argument("--ais_repeats", type=int, default=3, help="timed AIS calls after the first")
    parser.add_argument("--no_jit", action="store_true", help="skip the jit_compile=True row")
    args = parser.parse_args()
    sampler_table([int(n) for n in args.sizes.split(",")], args.repeats, not args.no_jit)
    ais_table(args.ais_repeats)


if __name__ == "__main__":
    main()
