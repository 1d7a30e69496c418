"""Speed of the RBM samplers at the paper's settings (1000 chains or particles, 40 sweeps per training step).

Each row is the median wall time of one call, after warm-up, all workloads interleaved (benchmarks/harness.py).
The floor, measured in the same run: 40 × (two matmuls [S, n1]×[n1, n2] and [S, n2]×[n2, n1] and float32 uniform
draws of [S, n1] and [S, n2]). The samplers' Gibbs sweeps draw 16-bit uniforms (half the random bits); a second
floor row draws those, so that the gain from fewer random bits can be told from the rest. `--historical` adds the
settings of earlier versions (float32 uniforms, 40 temperatures × 1 sweep) and XLA-compiled sweeps.

    python -m benchmarks.sampler_speed [--repeats 15] [--sizes 100,200] [--ais_repeats 3] [--historical]
"""
import argparse

import numpy as np
import tensorflow as tf

from dvae_sharp import samplers
from benchmarks import harness

NUM_SAMPLES = 1000
NUM_SWEEPS = 40


def make_jit_gibbs(n1):
    @tf.function(jit_compile=True)
    def jit_gibbs(samples, b1, b2, w, seed):
        return samplers.gibbs_chain(samples[:, :n1], b1, b2, w, NUM_SWEEPS, seed)
    return jit_gibbs


def workloads(n, historical):
    rng = np.random.default_rng(0)
    params = [[tf.constant(rng.normal(0, scale, shape), tf.float32) for shape in ([n], [n], [n, n])]
              for scale in (0.1, 0.11)]
    variables = [tf.Variable(p) for p in params[0]]
    pcd = samplers.PersistentContrastiveDivergence(n, n, NUM_SAMPLES, NUM_SWEEPS)
    persistent = samplers.PopulationAnnealing(n, n, NUM_SAMPLES, NUM_SWEEPS, num_temperatures=4)
    five_sweeps = samplers.PopulationAnnealing(n, n, NUM_SAMPLES, NUM_SWEEPS, num_temperatures=8)
    reanneal = samplers.PopulationAnnealing(n, n, NUM_SAMPLES, NUM_SWEEPS, persistent=False)

    @tf.function
    def pcd_training_step(seed):
        with tf.GradientTape() as tape:
            log_z = pcd.training_log_z(*variables, seed)
        return tape.gradient(log_z, variables)

    jobs = {
        "floor: 40 × (2 matmuls + 2 uniform draws)": harness.floor(gibbs=(NUM_SAMPLES, n, n, NUM_SWEEPS, 32)),
        "same floor with 16-bit uniform draws": harness.floor(gibbs=(NUM_SAMPLES, n, n, NUM_SWEEPS, 16),
                                                              seed_offset=10),
        "PCD update": lambda i: pcd.update(*params[i % 2], seed=(i, 1)),
        "PCD training_log_z + gradient (tf.function)": lambda i: pcd_training_step(tf.constant([i, 2])),
        "PA update, persistent 4 × 10 (training default)": lambda i: persistent.update(*params[i % 2], seed=(i, 3)),
        "PA update, persistent 8 × 5": lambda i: five_sweeps.update(*params[i % 2], seed=(i, 7)),
        "PA update, re-anneal 40 × 1": lambda i: reanneal.update(*params[i % 2], seed=(i, 4)),
    }
    if historical:
        pcd_float32 = samplers.PersistentContrastiveDivergence(n, n, NUM_SAMPLES, NUM_SWEEPS, uniform_bits=32)
        pa_float32 = samplers.PopulationAnnealing(n, n, NUM_SAMPLES, NUM_SWEEPS, num_temperatures=4,
                                                  uniform_bits=32)
        every_sweep = samplers.PopulationAnnealing(n, n, NUM_SAMPLES, NUM_SWEEPS)
        jit_gibbs = make_jit_gibbs(n)
        jobs.update({
            "PCD update, float32 uniforms (before)": lambda i: pcd_float32.update(*params[i % 2], seed=(i, 8)),
            "PA update, persistent 4 × 10, float32 uniforms (before)": lambda i: pa_float32.update(
                *params[i % 2], seed=(i, 9)),
            "PA update, persistent 40 × 1 (before)": lambda i: every_sweep.update(*params[i % 2], seed=(i, 6)),
            "PCD sweeps with jit_compile=True": lambda i: jit_gibbs(pcd.samples, *params[i % 2],
                                                                   tf.constant([i, 5])),
        })
    return jobs


def sampler_table(sizes, repeats, historical):
    print(f"ms per call, median of {repeats} interleaved repetitions after 2 warm-up calls; {NUM_SAMPLES} samples, "
          f"{NUM_SWEEPS} sweeps, float32")
    print("| RBM | workload | ms | × floor |")
    print("|---|---|---:|---:|")
    for n in sizes:
        medians, _ = harness.interleaved_medians(workloads(n, historical), warmup=2, repeats=repeats)
        floor = next(iter(medians.values()))
        for name, ms in medians.items():
            print(f"| {n}+{n} | {name} | {ms:.1f} | {ms / floor:.2f} |", flush=True)


def ais_table(repeats):
    rng = np.random.default_rng(1)
    params = [tf.constant(rng.normal(0, 0.1, shape), tf.float32) for shape in ([200], [200], [200, 200])]
    job = {"ais": lambda i: samplers.ais_log_z(*params, seed=(i, 0))}
    first = harness.call_seconds(job["ais"], 0)
    medians, _ = harness.interleaved_medians(job, warmup=1, repeats=repeats)
    print(f"\nAIS log Z, RBM 200+200, 1000 betas × 1024 chains, float32: first call {first:.2f} s (includes tracing), "
          f"median of {repeats} further calls {medians['ais'] / 1e3:.2f} s")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15, help="interleaved repetitions per workload")
    parser.add_argument("--sizes", default="100,200", help="comma-separated RBM side sizes")
    parser.add_argument("--ais_repeats", type=int, default=3, help="timed AIS calls after the first")
    parser.add_argument("--historical", action="store_true", help="also the settings of earlier versions and XLA")
    args = parser.parse_args()
    sampler_table([int(n) for n in args.sizes.split(",")], args.repeats, args.historical)
    ais_table(args.ais_repeats)


if __name__ == "__main__":
    main()
