"""The figures of docs/RESULTS.md (matplotlib, PNG), drawn from the committed runs under docs/results.

    test-nll-by-baseline.png   mean test NLL ± sd over seeds per baseline, k = 1 and k = 5
    pa-vs-pcd.png              the same at k = 1 for population annealing and PCD side by side
    budget-trend.png           validation NLL against training steps for the trend baselines
"""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from configs import experiments, paper  # noqa: E402
from grid import curves, results_doc, tables, trend  # noqa: E402

COLUMN = results_doc.COLUMN
LINE = {"cpu-small": ":", "cpu-small-100k": "-", "cpu-small-paper-sampler": "--"}


def _entries(set_name, study):
    return tables.entries(results_doc.matched(set_name, study))


def _error_bars(axis, entries, offsets, label, marker):
    xs = [x for x, e in zip(offsets, entries) if e is not None and e.n]
    ys = [e.mean for e in entries if e is not None and e.n]
    errors = [e.sd or 0.0 for e in entries if e is not None and e.n]
    if xs:  # a series without finished runs gets no legend entry
        axis.errorbar(xs, ys, yerr=errors, fmt=marker, capsize=4, label=label)


def test_nll_by_baseline(path):
    found = _entries("mnist-lin-study", "cpu-small")
    figure, axis = plt.subplots(figsize=(9, 4.5))
    positions = range(len(paper.BASELINES))
    for k, shift, marker in ((1, -0.12, "o"), (5, 0.12, "s")):
        entries = [next((e for c, e in found.items() if (c.baseline, c.k) == (b, k)), None) for b in paper.BASELINES]
        _error_bars(axis, entries, [p + shift for p in positions], f"k = {k}", marker)
    _finish(axis, "test NLL (nats), mean ± sd over seeds", "binarized MNIST, 1-layer-lin, cpu-small budget")
    axis.set_xticks(list(positions), [COLUMN[b] for b in paper.BASELINES], rotation=30, ha="right")
    return _save(figure, path)


def pa_vs_pcd(path):
    found = _entries("mnist-lin-samplers", "cpu-small")
    figure, axis = plt.subplots(figsize=(9, 4.5))
    positions = range(len(paper.BASELINES))
    for sampler, shift, marker in (("pa", -0.12, "o"), ("pcd", 0.12, "^")):
        entries = [next((e for c, e in found.items() if (c.baseline, c.sampler) == (b, sampler)), None)
                   for b in paper.BASELINES]
        _error_bars(axis, entries, [p + shift for p in positions], experiments.SAMPLERS[sampler].title, marker)
    _finish(axis, "test NLL (nats), mean ± sd over seeds", "k = 1: population annealing versus PCD, cpu-small")
    axis.set_xticks(list(positions), [COLUMN[b] for b in paper.BASELINES], rotation=30, ha="right")
    return _save(figure, path)


def budget_trend(path):
    figure, axis = plt.subplots(figsize=(8, 4.5))
    colours = dict(zip(experiments.TREND_BASELINES, ("tab:blue", "tab:orange", "tab:green")))
    for study in trend.STUDIES:
        label, line = trend.TITLES[study], LINE[study]
        for cell, run in results_doc.matched("mnist-lin-trend", study, seeds=(1,)).items():
            if run is None:
                continue
            history = curves.evaluations(run.directory)
            steps = [e["step"] for e in history if "val/neg_ll" in e]
            values = [e["val/neg_ll"] for e in history if "val/neg_ll" in e]
            axis.plot(steps, values, line, color=colours[cell.baseline], marker=".",
                      label=f"{COLUMN[cell.baseline]}, {label}")
    _finish(axis, "validation NLL (nats, 20 samples)", "k = 5, seed 1: training length and sampler")
    axis.set_xlabel("training step")
    return _save(figure, path)


def _finish(axis, ylabel, title):
    axis.set_ylabel(ylabel)
    axis.set_title(title)
    axis.grid(alpha=0.3)
    if axis.get_legend_handles_labels()[0]:
        axis.legend(fontsize=8)
    else:
        axis.set_yticks([])
        axis.text(0.5, 0.5, "no finished runs yet", transform=axis.transAxes, ha="center", va="center")


def _save(figure, path):
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def draw_all(directory):
    directory.mkdir(parents=True, exist_ok=True)
    return [test_nll_by_baseline(directory / "test-nll-by-baseline.png"), pa_vs_pcd(directory / "pa-vs-pcd.png"),
            budget_trend(directory / "budget-trend.png")]
