"""The two pictures of a run (matplotlib, PNG): what its model draws and how its bounds moved.

    samples.png   100 prior samples (pixel probabilities of p(x|z), z from the RBM by population annealing), the first
                  100 validation images and their reconstructions (one z ~ q(z|x) each)
    bounds.png    against training steps: the training objective (−ELBO or the negative IW bound, every summary
                  step), the validation and test −ELBO and NLL of each evaluation, the final test NLL of the best
                  model ± its Monte-Carlo standard error; beside it the AIS log Z of each evaluation ± its standard
                  error, the prior sampler's running log Z and the final test's log Z
"""
import os
import pathlib
import tempfile

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from dvae_sharp.dvae.runner import event_files, summaries  # noqa: E402

TRAINING_OBJECTIVES = (summaries.objective_tag(False), summaries.objective_tag(True))
EVALUATION_CURVES = (("val/neg_elbo", "validation −ELBO", "tab:green", "--"), ("test/neg_elbo", "test −ELBO",
                     "tab:red", "--"), ("val/neg_ll", "validation NLL", "tab:green", "-"),
                     ("test/neg_ll", "test NLL", "tab:red", "-"))


def samples_figure(trained, path, seed=1, num_sweeps=1000):
    """Writes samples.png of a loaded run (dvae.api.TrainedModel) to `path`."""
    valid = trained.dataset.valid[:100]
    panels = (("prior samples", trained.sample(100, seed=seed, num_sweeps=num_sweeps).means),
              ("validation images", valid), ("reconstructions", trained.reconstruct(valid, seed=seed)))
    figure, axes = plt.subplots(1, 3, figsize=(12, 4.4))
    for axis, (title, images) in zip(axes, panels):
        axis.imshow(summaries.image_grid(images)[0, :, :, 0], cmap="gray", vmin=0, vmax=255)
        axis.set_title(title)
        axis.axis("off")
    figure.suptitle(_title(trained.config, f"{trained.checkpoint} model, step {trained.step}"))
    return _save(figure, path)


def curves(run_dir):
    """{tag: [(step, value), …]} of what bounds.png draws: the training objective and the sampler's log Z from the
    event files, and each evaluation tag (with `log_z/ais_stderr`) from evaluations.json."""
    found = event_files.scalars(run_dir, TRAINING_OBJECTIVES + ("log_z/sampler",))
    history = event_files.evaluations(run_dir)
    for tag in [tag for tag, *_ in EVALUATION_CURVES] + ["log_z/ais", "log_z/ais_stderr"]:
        points = [(entry["step"], entry[tag]) for entry in history if tag in entry]
        if points:
            found[tag] = points
    return found


def bounds_figure(run_dir, config, results, path):
    """Writes bounds.png of the run in `run_dir` to `path` from its curves and results (None if not finished)."""
    found = curves(run_dir)
    figure, (bounds, log_z) = plt.subplots(1, 2, figsize=(13, 4.6), gridspec_kw={"width_ratios": [3, 2]})
    for tag in TRAINING_OBJECTIVES:
        if tag in found:
            bounds.plot(*zip(*found[tag]), color="tab:blue", alpha=0.6, label=f"training objective ({tag})")
    for tag, label, colour, line in EVALUATION_CURVES:
        if tag in found:
            bounds.plot(*zip(*found[tag]), line, color=colour, marker=".", label=label)
    if results is not None:
        bounds.errorbar([results["final_step"]], [results["metrics"]["test/neg_ll"]],
                        yerr=[results.get("test_neg_ll_mc_stderr") or 0.0], fmt="*", color="black", markersize=10,
                        capsize=4, label=f"final test NLL (best step {results['best_step']})")
    _finish(bounds, "nats", "bounds")
    if "log_z/ais" in found:
        steps, values = zip(*found["log_z/ais"])
        errors = dict(found.get("log_z/ais_stderr", []))
        log_z.errorbar(steps, values, yerr=[errors.get(step, 0.0) for step in steps], fmt="o-", color="tab:purple",
                       markersize=3, capsize=3, label="AIS log Z")
    if "log_z/sampler" in found:
        log_z.plot(*zip(*found["log_z/sampler"]), color="tab:gray", alpha=0.7, label="sampler's running log Z")
    if results is not None:
        log_z.errorbar([results["final_step"]], [results["log_z"]], yerr=[results["log_z_stderr"]], fmt="*",
                       color="black", markersize=10, capsize=4, label="final test's AIS log Z")
    _finish(log_z, "log Z", "log partition function of the RBM prior")
    figure.suptitle(_title(config, "finished" if results is not None else "not finished"))
    return _save(figure, path)


def _title(config, state):
    return (f"{config.dataset} / {config.struct} / {config.baseline} / k = {config.k} (seed {config.seed}, "
            f"{config.sampler}): {state}")


def _finish(axis, ylabel, title):
    axis.set_xlabel("training step")
    axis.set_ylabel(ylabel)
    axis.set_title(title)
    axis.grid(alpha=0.3)
    if axis.get_legend_handles_labels()[0]:
        axis.legend(fontsize=8)
    else:
        axis.text(0.5, 0.5, "nothing recorded yet", transform=axis.transAxes, ha="center", va="center")


def _save(figure, path):
    """Saves the PNG atomically (temporary file, then rename) and closes the figure."""
    path = pathlib.Path(path)
    figure.tight_layout()
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".png")
    os.close(handle)
    try:
        figure.savefig(temp, dpi=100)
        os.replace(temp, path)
    finally:
        plt.close(figure)
        if os.path.exists(temp):
            os.unlink(temp)
    return path
