"""The benchmarks' one timing harness and their floors: the bare work a measured step cannot do without.

Every benchmark interleaves its workloads within each repetition (so that load from other processes hits them
alike), takes medians, and prints each time beside a floor measured in the same run:

    Gibbs floor     sweeps × (two matmuls [S, n1]×[n1, n2] and [S, n2]×[n2, n1] and two uniform draws), in one
                    tf.while_loop, each product multiplied by its uniforms so that nothing is pruned
    network floor   the dense layers' matmuls of the encoder groups and the decoder: forward, and with
                    `backward` also dY·Wᵀ and xᵀ·dY per layer (no dY·Wᵀ into the data input of the first group);
                    `rows_by_network` gives each network's rows (group 0 runs once per image), and `data_rows` the
                    rows of the later groups' first-layer product with x and its kernel gradient (once per image)
    uniforms        float32 uniform draws [rows, columns] (one per latent unit and row), summed
    likelihood      softplus over [rows, pixels] and its row sums, with `backward` also its derivative σ: the
                    transcendental work of the Bernoulli likelihood −log p(x|z) = Σ softplus((1 − 2x)·l), which no
                    form of it can skip
"""
import time

import numpy as np
import tensorflow as tf

from dvae_sharp import samplers


def call_seconds(function, index):
    """Wall seconds of `function(index)`, its outputs copied to the host."""
    start = time.perf_counter()
    result = function(index)
    tf.nest.map_structure(lambda t: t.numpy() if hasattr(t, "numpy") else t, result)
    return time.perf_counter() - start


def interleaved_medians(jobs, warmup=2, repeats=15, case_seconds=None):
    """({name: median ms}, repetitions) of `jobs` ({name: function(index)}) after `warmup` untimed rounds; with
    `case_seconds`, fewer repetitions (not below 5) when `repeats` rounds would take longer."""
    round_seconds = 0.0
    for index in range(max(1, warmup)):
        round_seconds = sum(call_seconds(job, index) for job in jobs.values())
    if case_seconds:
        repeats = min(repeats, max(5, int(case_seconds / max(round_seconds, 1e-9))))
    times = {name: [] for name in jobs}
    for repetition in range(repeats):
        for name, job in jobs.items():
            times[name].append(call_seconds(job, warmup + repetition))
    return {name: 1e3 * float(np.median(values)) for name, values in times.items()}, repeats


def _gibbs_ops(num_chains, left, right, sweeps, uniform_bits):
    rng = np.random.default_rng(0)
    w = tf.constant(rng.uniform(0, 1.0 / max(left, right), (left, right)), tf.float32)
    z1 = tf.constant(rng.uniform(0, 1, (num_chains, left)) < 0.5, tf.float32)

    def build(seed):
        def body(t, z1):
            seed_right, seed_left = tf.unstack(
                tf.random.experimental.stateless_split(tf.random.experimental.stateless_fold_in(seed, t), 2))
            uniform_right = samplers.stateless_uniform(tf.constant([num_chains, right]), seed_right, tf.float32,
                                                       uniform_bits)
            z2 = tf.matmul(z1, w) * uniform_right
            uniform_left = samplers.stateless_uniform(tf.constant([num_chains, left]), seed_left, tf.float32,
                                                      uniform_bits)
            return t + 1, tf.matmul(z2, w, transpose_b=True) * uniform_left
        return [tf.while_loop(lambda t, _: t < sweeps, body, (tf.constant(0), z1))[1]]
    return build


def dense_chains(config):
    """(fan_in, fan_out) of every dense layer, one list per network: the encoder groups, then the decoder."""
    structure, pixels = config.structure, config.input_size
    hidden = [structure.hidden_units] * structure.hidden_layers
    outputs = 2 if config.spec.prior == "gaussian_integral" else 1
    units = structure.units_per_group
    sizes = [[pixels + g * units] + hidden + [units * outputs] for g in range(structure.num_groups)]
    sizes.append([structure.num_latents] + hidden + [pixels])
    return [list(zip(s[:-1], s[1:])) for s in sizes]


def training_networks(config, batch, k):
    """The `networks` floor option of a training step on `batch` images with k samples each: what depends on x
    alone (group 0, the later groups' x W_x and their kernel gradients) on the images, the rest on batch·k rows."""
    networks = len(dense_chains(config))
    return (config, [batch] + [batch * k] * (networks - 1), True, batch if k > 1 else None)


def _network_ops(config, rows_by_network, backward, data_rows=None):
    rng = np.random.default_rng(0)
    chains = dense_chains(config)
    weights = [[tf.constant(rng.normal(0, a ** -0.5, (a, b)), tf.float32) for a, b in chain] for chain in chains]
    inputs = [tf.constant(rng.normal(0, 1, (rows, chain[0][0])), tf.float32)
              for rows, chain in zip(rows_by_network, chains)]
    pixels, later_groups = config.input_size, range(1, len(chains) - 1)
    if data_rows:  # the later groups' first layer: x W_x on data_rows rows, the samples' part on every row
        data = tf.constant(rng.normal(0, 1, (data_rows, pixels)), tf.float32)
        for index in later_groups:
            inputs[index] = inputs[index][:, pixels:]

    def build(seed):
        outputs = []
        for index, (x, ws) in enumerate(zip(inputs, weights)):
            split = bool(data_rows) and index in later_groups
            if split:
                outputs.append(tf.reduce_sum(tf.matmul(data, ws[0][:pixels])))
                ws = [ws[0][pixels:]] + ws[1:]
            activations = [x]
            for w in ws:
                activations.append(tf.matmul(activations[-1], w))
            outputs.append(tf.reduce_sum(activations[-1]))
            if not backward:
                continue
            grad = activations[-1]
            for layer in reversed(range(len(ws))):
                outputs.append(tf.reduce_sum(tf.matmul(activations[layer], grad, transpose_a=True)))
                if split and layer == 0:  # x^T dY_x, with dY_x the per-image sum of dY (not a matmul)
                    outputs.append(tf.reduce_sum(tf.matmul(data, grad[:data_rows], transpose_a=True)))
                if layer > 0 or index > 0:
                    grad = tf.matmul(grad, ws[layer], transpose_b=True)
            outputs.append(tf.reduce_sum(grad))
        return outputs
    return build


def _likelihood_ops(rows, pixels, backward=False):
    logits = tf.constant(np.random.default_rng(0).normal(0, 3, (rows, pixels)), tf.float32)
    return lambda seed: [tf.reduce_sum(tf.nn.softplus(logits), -1)] + (
        [tf.reduce_sum(tf.sigmoid(logits), -1)] if backward else [])


def _uniform_ops(rows, columns):
    return lambda seed: [tf.reduce_sum(tf.random.stateless_uniform([rows, columns], seed), -1)]


def floor(networks=None, gibbs=None, uniforms=None, likelihood=None, seed_offset=0):
    """function(i) running, in one tf.function (so that independent parts may overlap as in a step), the network
    floor `networks` = (config, rows_by_network, backward[, data_rows]), the Gibbs floor `gibbs` = (num_chains,
    left, right, sweeps, uniform_bits), the uniform draws `uniforms` = (rows, columns) and the likelihood floor
    `likelihood` = (rows, pixels[, backward]); any may be None."""
    parts = [make(*options) for make, options in ((_network_ops, networks), (_gibbs_ops, gibbs),
                                                  (_uniform_ops, uniforms), (_likelihood_ops, likelihood)) if options]

    @tf.function
    def run(seed):
        return [output for part in parts for output in part(seed)]
    return lambda i: run(tf.constant([i, seed_offset]))
