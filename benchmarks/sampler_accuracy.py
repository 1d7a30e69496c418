"""Accuracy against cost of the RBM samplers, measured against exact enumeration.

Table 1: log Z error of AIS and of one population-annealing anneal from β = 0 at several budgets on the easy and
hard oracle RBMs (12+20; samplers/oracle_rbms.py), the exact value beside each estimate.
Table 2: a slowly drifting RBM sequence mimicking training: parameters move linearly from the easy to the hard RBM
over `--drift_calls` calls; every sampler is called once per step (1000 samples, 40 sweeps) and compared with the
exact log Z and moments of that step. The samplers' Gibbs sweeps draw 16-bit uniforms unless the row says float32.
Table 3: 16-bit against float32 uniforms over `--uniform_repeats` seeds of the first drift length.

    python -m benchmarks.sampler_accuracy [--repeats 5] [--drift_calls 200,1000] [--hard_weight_std 2]
                                          [--uniform_repeats 16]
"""
import argparse
import time

import numpy as np
import tensorflow as tf

from dvae_sharp import samplers
from dvae_sharp.samplers.oracle_rbms import oracle_rbm


def oracle(kind, hard_weight_std=2.0, n1=12, n2=20, seed=1):
    """The oracle RBMs of the tests (samplers/oracle_rbms.py), 12+20 by default."""
    return oracle_rbm(kind, n1, n2, seed, hard_weight_std)


def tensors(params):
    return [tf.constant(p, tf.float32) for p in params]


def timed(function):
    start = time.perf_counter()
    result = function()
    return result, time.perf_counter() - start


def ais_estimate(params, budget, seed):
    num_betas, num_chains = budget
    (log_z, _), seconds = timed(lambda: samplers.ais_log_z(*params, num_betas=num_betas, num_chains=num_chains,
                                                            seed=seed))
    return float(log_z), seconds


def pa_estimate(params, budget, seed):
    num_temperatures, num_particles = budget
    pa = samplers.PopulationAnnealing(12, 20, num_particles=num_particles, num_sweeps=num_temperatures,
                                      persistent=False, seed=int(seed[0]))
    pa.update(*params, seed=seed)
    _, seconds = timed(lambda: pa.update(*params, seed=seed[::-1]))
    return float(pa.log_z.numpy()), seconds


def budget_table(repeats):
    rows = []
    plans = [("AIS", ais_estimate, [(b, c) for b in (100, 300, 1000) for c in (256, 1024)]),
             ("PA", pa_estimate, [(t, p) for t in (40, 100, 300) for p in (100, 1000)])]
    seeds = np.random.default_rng(0).integers(0, 2 ** 31 - 1, size=(repeats, 2))
    for kind in ("easy", "hard"):
        params = tensors(oracle(kind))
        exact = float(samplers.exact_log_z(*oracle(kind)))
        for name, estimate, budgets in plans:
            estimate(params, budgets[0], seeds[0])
            for budget in budgets:
                results = [estimate(params, budget, seed) for seed in seeds]
                errors = np.array([value - exact for value, _ in results])
                rows.append(f"| {kind} | {name} | {budget[0]} × {budget[1]} | {exact:.4f} | {errors.mean():+.4f} | "
                            f"{errors.std(ddof=1):.4f} | {np.abs(errors).max():.4f} | "
                            f"{1e3 * np.median([s for _, s in results]):.0f} |")
    print(f"log Z error over {repeats} seeds, RBM 12+20 (float32; AIS time includes its single call, PA time one "
          "anneal after warm-up)")
    print("| RBM | method | betas or temperatures × chains or particles | exact log Z | mean error | sd | max abs "
          "error | ms |")
    print("|---|---|---|---:|---:|---:|---:|---:|")
    print("\n".join(rows))


DRIFT_SAMPLERS = {
    "PCD": lambda seed: samplers.PersistentContrastiveDivergence(12, 20, 1000, 40, seed=seed),
    "PCD, float32 uniforms": lambda seed: samplers.PersistentContrastiveDivergence(12, 20, 1000, 40, seed=seed,
                                                                              uniform_bits=32),
    "PA persistent, 40 temperatures × 1 sweep": lambda seed: samplers.PopulationAnnealing(
        12, 20, 1000, 40, seed=seed),
    "PA persistent, 8 temperatures × 5 sweeps": lambda seed: samplers.PopulationAnnealing(
        12, 20, 1000, 40, seed=seed, num_temperatures=8),
    "PA persistent, 4 temperatures × 10 sweeps (training default)": lambda seed: samplers.PopulationAnnealing(
        12, 20, 1000, 40, seed=seed, num_temperatures=4),
    "PA persistent, 4 × 10, float32 uniforms": lambda seed: samplers.PopulationAnnealing(
        12, 20, 1000, 40, seed=seed, num_temperatures=4, uniform_bits=32),
    "PA persistent, 1 temperature × 40 sweeps": lambda seed: samplers.PopulationAnnealing(
        12, 20, 1000, 40, seed=seed, num_temperatures=1),
    "PA re-anneal, 40 temperatures × 1 sweep": lambda seed: samplers.PopulationAnnealing(
        12, 20, 1000, 40, seed=seed, persistent=False),
}


def drift_run(make_sampler, path, exact_log_z, exact_moments, repeat=0):
    """Per-call log Z error and moment error in units of the independent-sample standard error; `repeat` picks the
    seeds (constructor seed 1 + repeat, update seeds (step, 17 + repeat))."""
    sampler = make_sampler(1 + repeat)
    log_z_errors, moment_z_scores, seconds = [], [], []
    for step, params in enumerate(path):
        samples, elapsed = timed(lambda: sampler.update(*params, seed=(step, 17 + repeat)).numpy())
        seconds.append(elapsed)
        log_z_errors.append(float(sampler.log_z.numpy()) - exact_log_z[step])
        z1, z2 = samples[:, :12], samples[:, 12:]
        estimates = np.concatenate([z1.mean(0), z2.mean(0), (z1.T @ z2 / len(samples)).ravel()])
        exact = exact_moments[step]
        moment_z_scores.append((estimates - exact) / np.sqrt(np.maximum(exact * (1 - exact), 1e-4) / len(samples)))
    return np.array(log_z_errors), np.array(moment_z_scores), np.median(seconds[1:])


def drift_path(num_calls, hard_weight_std):
    """The drifting parameters (float32 tensors) with the exact log Z and moments of every call."""
    easy, hard = oracle("easy"), oracle("hard", hard_weight_std)
    raw = [[(1 - s) * e + s * h for e, h in zip(easy, hard)] for s in np.linspace(0, 1, num_calls)]
    exact_log_z = [float(samplers.exact_log_z(*p)) for p in raw]
    exact_moments = [np.concatenate([m.numpy().ravel() for m in samplers.exact_moments(*p)]) for p in raw]
    return [tensors(p) for p in raw], exact_log_z, exact_moments


def drift_table(num_calls, hard_weight_std):
    path, exact_log_z, exact_moments = drift_path(num_calls, hard_weight_std)
    print(f"\nDrift easy → hard (weight std {hard_weight_std}) 12+20 over {num_calls} calls (1000 samples, 40 sweeps "
          "per call, float32). log Z error: PCD keeps n ln 2 (not estimated). Moment error: RMS over the "
          "12 + 20 + 240 first and cross moments of (estimate - exact) / sqrt(p(1-p)/1000), averaged over calls; "
          "1.0 = as good as 1000 independent exact samples.")
    print("| sampler | mean abs log Z error | final log Z error | RMS moment z-score, all calls | same, last 10 % "
          "| max abs z-score | ms per call |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, make_sampler in DRIFT_SAMPLERS.items():
        log_z_errors, z_scores, seconds = drift_run(make_sampler, path, exact_log_z, exact_moments)
        tail = z_scores[-max(1, num_calls // 10):]
        log_z_cells = ("—", "—") if name.startswith("PCD") else (f"{np.abs(log_z_errors).mean():.4f}",
                                                        f"{log_z_errors[-1]:+.4f}")
        print(f"| {name} | {log_z_cells[0]} | {log_z_cells[1]} | {np.sqrt((z_scores ** 2).mean()):.2f} | "
              f"{np.sqrt((tail ** 2).mean()):.2f} | {np.abs(z_scores).max():.1f} | {1e3 * seconds:.1f} |")


UNIFORM_COMPARISON = ["PCD", "PCD, float32 uniforms", "PA persistent, 4 temperatures × 10 sweeps (training default)",
                      "PA persistent, 4 × 10, float32 uniforms"]


def uniform_table(num_calls, hard_weight_std, repeats):
    """16-bit against float32 Gibbs uniforms over `repeats` seeds of the drift: the per-call log Z error increment
    (its mean would show a bias of the sampled distribution), the spread of the final error, and the moments."""
    path, exact_log_z, exact_moments = drift_path(num_calls, hard_weight_std)
    print(f"\nGibbs uniforms over {repeats} seeds, drift easy → hard (weight std {hard_weight_std}) over {num_calls} "
          "calls. Increment = change of the log Z error from one call to the next (mean ± standard error over all "
          "calls and seeds); moment z-scores as in the drift table, RMS over all seeds.")
    print("| sampler | log Z error increment | sd of final log Z error | mean abs log Z error | RMS moment z-score, "
          "all calls | same, last 10 % | last 10 %, range over seeds |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name in UNIFORM_COMPARISON:
        runs = [drift_run(DRIFT_SAMPLERS[name], path, exact_log_z, exact_moments, repeat) for repeat in range(repeats)]
        errors = np.array([log_z_errors for log_z_errors, _, _ in runs])
        z_scores = np.array([z for _, z, _ in runs])
        tail = z_scores[:, -max(1, num_calls // 10):]
        increments = np.diff(errors, axis=1).ravel()
        log_z_cells = ("—", "—", "—") if name.startswith("PCD") else (
            f"{increments.mean():+.1e} ± {increments.std(ddof=1) / np.sqrt(increments.size):.1e}",
            f"{errors[:, -1].std(ddof=1):.4f}", f"{np.abs(errors).mean():.4f}")
        per_seed = np.sqrt((tail ** 2).mean(axis=(1, 2)))
        print(f"| {name} | {' | '.join(log_z_cells)} | {np.sqrt((z_scores ** 2).mean()):.2f} | "
              f"{np.sqrt((tail ** 2).mean()):.2f} | {per_seed.min():.2f}–{per_seed.max():.2f} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="seeds per budget in table 1")
    parser.add_argument("--drift_calls", default="200,1000", help="comma-separated lengths of the drift sequence")
    parser.add_argument("--hard_weight_std", type=float, default=2.0, help="weight std of the drift's end point")
    parser.add_argument("--uniform_repeats", type=int, default=16,
                        help="seeds of the 16-bit against float32 uniforms table (0 skips it)")
    parser.add_argument("--skip_budgets", action="store_true", help="only run the drift tables")
    args = parser.parse_args()
    if not args.skip_budgets:
        budget_table(args.repeats)
    for num_calls in args.drift_calls.split(","):
        drift_table(int(num_calls), args.hard_weight_std)
    if args.uniform_repeats:
        uniform_table(int(args.drift_calls.split(",")[0]), args.hard_weight_std, args.uniform_repeats)


if __name__ == "__main__":
    main()
