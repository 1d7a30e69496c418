"""Where the compiled training step (or the evaluation) spends its time: a per-op profile by part of the model.

For each (struct, k), a fresh `Trainer.train_step` (networks alone by default: PCD with 1 chain and 1 sweep) is
warmed up, its wall time measured beside the network floor of benchmarks/harness.py (interleaved medians), and then
`--steps` steps run under the TensorFlow profiler. Each op event of the trace (its own time on the thread that ran
it) is put in one group by its name and type; the table gives each group's ms per step and its share of the mean
wall time of the profiled steps, and the rest of those steps (executor scheduling, function call, copies, and the
profiler's own overhead) as "outside ops". With `--workload=evaluation` the workload is, per struct, one call of
the evaluator's log-weights on 1000 test images × 20 posterior samples, beside the floor of benchmarks/evaluation.py.

To attribute ops, this script (and only it) wraps the model's parts in name scopes: `encoder`, `decoder`
(reconstruction cost), `prior` (log p(ζ) − log q(ζ|x)), `sampler` and `loss` (objective, weight decay). Gradient
ops carry the scope of the op they differentiate. Name scopes change node names only, never the arithmetic.

    DVAE_DATA_DIR=... python -m benchmarks.profile_step [--structs 1-layer-lin,4-layer-nonlin] [--ks 5,25]
        [--baseline dvaes_power] [--sampler_chains 1] [--sampler_sweeps 1] [--steps 10] [--warmup 3]
        [--repeats 15] [--grappler JSON] [--by group|type|group-type] [--workload train_step|evaluation]

`--grappler` replaces the project's graph-optimiser options (`training.reproducible_graphs`) by the given
`tf.config.optimizer.set_experimental_options` dictionary, e.g. '{"disable_meta_optimizer": false}'.
Run with TF_NUM_INTRAOP_THREADS=1 TF_NUM_INTEROP_THREADS=1 for a profile on one core.
"""
import argparse
import collections
import functools
import glob
import json
import pathlib
import re
import tempfile

import tensorflow as tf
from tensorflow.tsl.profiler.protobuf import xplane_pb2

from dvae_sharp import configs
from dvae_sharp import data
from benchmarks import evaluation, harness
from dvae_sharp.configs import paper
from dvae_sharp.dvae.model import encoder as encoder_lib, discrete_vae as model_lib, priors
from dvae_sharp.dvae.runner import training

BATCH = 100
MATMULS = {"MatMul", "_MklMatMul", "_MklNativeMatMul", "_FusedMatMul", "_MklFusedMatMul", "_MklNativeFusedMatMul",
           "BatchMatMulV2", "_MklBatchMatMulV2"}
RANDOM = {"StatelessRandomUniformV2", "StatelessRandomGetKeyCounter", "Less"}  # uniform draws and u < σ(l)
BATCH_NORM = re.compile(r"/(moments|batchnorm)(_\d+)?/")  # tf.nn.moments, tf.nn.batch_normalization scopes
SLICES = {"StridedSlice", "StridedSliceGrad", "Slice", "ConcatV2", "Split", "SplitV", "Tile", "Pack", "Unpack",
          "Reshape", "Identity", "Fill", "ZerosLike", "OnesLike", "BroadcastTo"}


def scoped(name, function):
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        with tf.name_scope(name):
            return function(*args, **kwargs)
    return wrapper


def add_name_scopes(model):
    """Wraps the model's parts in name scopes (this process only)."""
    encoder_lib.HierarchicalEncoder.__call__ = scoped("encoder", encoder_lib.HierarchicalEncoder.__call__)
    model.reconstruction_cost = scoped("decoder", model.reconstruction_cost)
    model.relaxation.log_prior_ratio = scoped("prior", model.relaxation.log_prior_ratio)
    model.weight_decay = scoped("loss", model.weight_decay)
    priors.RBMPrior.training_log_z = scoped("sampler", priors.RBMPrior.training_log_z)
    priors.RBMPrior.discrete_log_prob = scoped("prior", priors.RBMPrior.discrete_log_prob)  # the evaluation's
    training.objectives.training_loss = scoped("loss", training.objectives.training_loss)


def group_of(name, op_type):
    """The table row of one op, from its node name and type (first rule that matches)."""
    backward = name.startswith("gradient_tape/")
    scope = name.removeprefix("gradient_tape/").split("/")[0]
    direction = "backward" if backward else "forward"
    if name.startswith("fused_adam") or "ApplyAdam" in op_type:
        return "Adam update"
    if scope == "sampler":
        return "prior sampler"
    if scope in ("encoder", "decoder") and op_type in MATMULS:
        return f"dense matmuls, {direction}"
    if "OverlappingMixture/sample" in name:
        return "smoothing: sample ζ and its implicit gradient"
    if "OverlappingMixture/log_prob" in name:
        return f"smoothing: log q(ζ|x), {direction}"
    if BATCH_NORM.search(name):
        return f"batch norm, {direction}"
    if op_type in ("Tanh", "TanhGrad"):
        return "tanh"
    if scope == "decoder":
        return f"reconstruction −log p(x|ζ) (bias, BCE), {direction}"
    if scope == "prior" and op_type in MATMULS:
        return f"prior: mean-field and energy matmuls, {direction}"
    if scope == "prior" and op_type in SLICES:
        return f"prior: split/concat of ζ and b(ζ), {direction}"
    if scope == "prior":
        return f"prior: b(ζ), log r(ζ), entropies, {direction}"
    if scope.startswith("FactorialBernoulli"):  # its log_prob and entropy, named FactorialBernoulli_CONSTRUCTED_AT_…
        return "posterior: log q(z|x) and entropy of binary z"
    if scope == "encoder" and op_type in RANDOM:
        return "posterior samples: uniform draws"
    if scope == "encoder":
        return f"encoder: bias, tile, concat, {direction}"
    if scope == "loss":
        return "loss: IW weights, weight decay"
    return "other: seeds, KL warm-up, reads"


def op_times(trace_dir, steps, by):
    """{group or op type: ms per step} of the op events in the trace under `trace_dir`."""
    space = xplane_pb2.XSpace()
    space.ParseFromString(pathlib.Path(glob.glob(f"{trace_dir}/**/*.xplane.pb", recursive=True)[0]).read_bytes())
    totals = collections.Counter()
    for plane in space.planes:
        metadata = plane.event_metadata
        for line in plane.lines:
            if line.name == "python":
                continue
            for event in line.events:
                label = metadata[event.metadata_id].name
                if ":" not in label or "::" in label:
                    continue
                name, op_type = label.rsplit(":", 1)
                label = {"group": group_of(name, op_type), "type": op_type,
                         "group-type": f"{group_of(name, op_type)} · {op_type}"}[by]
                totals[label] += event.duration_ps * 1e-9 / steps
    return totals


def training_case(struct, k, args, dataset, batches, temp_dir):
    """(the training step as job(i), its network floor as job(i))."""
    config = configs.make_config(struct=struct, baseline=args.baseline, k=k, sampler="pcd",
                                 sampler_chains=args.sampler_chains, sampler_sweeps=args.sampler_sweeps)
    model = model_lib.DiscreteVAE(config, dataset.train_mean)
    add_name_scopes(model)
    trainer = training.Trainer(model, config, temp_dir / f"{struct}-{k}")
    step = lambda i: trainer.train_step(batches[i % len(batches)])  # noqa: E731
    return step, harness.floor(networks=harness.training_networks(config, BATCH, k))


def evaluation_case(struct, k, args, dataset, batches, temp_dir):
    """(one evaluator call, 1000 test images × 20 posterior samples, as job(i); its network floor as job(i))."""
    config, model, call = evaluation.evaluator_call(struct, args.baseline, dataset.test, dataset.train_mean)
    add_name_scopes(model)
    return lambda i: call(tf.constant([i, 2], tf.int64)), evaluation.floor_function(config)


# workload -> (its case, whether it runs once per k of --ks)
WORKLOADS = {"train_step": (training_case, True), "evaluation": (evaluation_case, False)}


def profile_case(struct, k, args, dataset, batches, temp_dir):
    step, network_floor = WORKLOADS[args.workload][0](struct, k, args, dataset, batches, temp_dir)
    medians, _ = harness.interleaved_medians({"step": step, "floor": network_floor}, args.warmup, args.repeats)
    trace_dir = str(temp_dir / f"trace-{struct}-{k}")
    tf.profiler.experimental.start(trace_dir)
    profiled = [1e3 * harness.call_seconds(step, i) for i in range(args.steps)]
    tf.profiler.experimental.stop()
    medians["profiled"] = sum(profiled) / len(profiled)
    return medians, op_times(trace_dir, args.steps, args.by)


def print_case(struct, k, medians, totals):
    wall, floor = medians["profiled"], medians["floor"]
    case = struct if k is None else f"{struct}, k = {k}"
    print(f"\n### {case}: step {medians['step']:.1f} ms unprofiled (median), network floor {floor:.1f} ms "
          f"({medians['step'] / floor:.2f}× floor); {wall:.1f} ms profiled (mean), the 100 % below\n")
    print("| op group | ms | % of step |")
    print("|---|---:|---:|")
    for label, ms in totals.most_common():
        if ms >= 0.005 * wall:
            print(f"| {label} | {ms:.2f} | {100 * ms / wall:.1f} |")
    small = sum(ms for ms in totals.values() if ms < 0.005 * wall)
    print(f"| smaller groups (< 0.5 % each) | {small:.2f} | {100 * small / wall:.1f} |")
    outside = wall - sum(totals.values())
    print(f"| outside ops (executor, call, copies) | {outside:.2f} | {100 * outside / wall:.1f} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--structs", default="1-layer-lin,4-layer-nonlin", help="comma-separated structures")
    parser.add_argument("--ks", default="5,25", help="comma-separated samples per data point")
    parser.add_argument("--baseline", default="dvaes_power", choices=paper.BASELINES)
    parser.add_argument("--sampler_chains", type=int, default=1, help="PCD chains (1: networks alone)")
    parser.add_argument("--sampler_sweeps", type=int, default=1, help="PCD sweeps per step")
    parser.add_argument("--steps", type=int, default=10, help="profiled steps")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps first (≥ 1)")
    parser.add_argument("--repeats", type=int, default=15, help="unprofiled, interleaved timing repetitions")
    parser.add_argument("--grappler", default=None, help="graph-optimiser options (JSON) instead of the project's")
    parser.add_argument("--by", default="group", choices=["group", "type", "group-type"],
                        help="rows: model part, op type, or both")
    parser.add_argument("--workload", default="train_step", choices=sorted(WORKLOADS),
                        help="the training step, or one evaluator call (1000 images × 20 samples; --ks unused)")
    args = parser.parse_args()
    if args.grappler:
        options = json.loads(args.grappler)
        training.reproducible_graphs = lambda: tf.config.optimizer.set_experimental_options(options)
    training.reproducible_graphs()  # as a run sets them, also for the evaluation workload, which builds no Trainer
    dataset = data.load_dataset("binarized_mnist")
    batches = [tf.constant(dataset.train[i * BATCH:(i + 1) * BATCH], tf.float32) for i in range(8)]
    workload = (f"the training step, baseline {args.baseline}, PCD {args.sampler_chains} × {args.sampler_sweeps}, "
                f"batches of {BATCH}" if args.workload == "train_step" else
                f"one evaluator call, baseline {args.baseline}, {evaluation.BATCH} images × {evaluation.REPS} samples")
    print(f"Per-op profile of {workload}, {args.steps} profiled calls; graph options: "
          f"{args.grappler or 'the project default'}.")
    with tempfile.TemporaryDirectory() as temp:
        for struct in args.structs.split(","):
            for k in [int(k) for k in args.ks.split(",")] if WORKLOADS[args.workload][1] else [None]:
                print_case(struct, k, *profile_case(struct, k, args, dataset, batches, pathlib.Path(temp)))


if __name__ == "__main__":
    main()
