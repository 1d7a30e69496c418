"""The figures of docs/RESULTS.md (matplotlib, PNG), drawn from the committed runs under docs/results.

    test-nll-by-baseline.png   mean test NLL ± sd over seeds per baseline, k = 1 and k = 5
    pa-vs-pcd.png              the same at k = 1 for population annealing and PCD side by side
    budget-trend-test.png      the final test NLL of the trend baselines against the training length
    budget-trend.png           validation NLL against training steps for the trend baselines
"""
import dataclasses

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from dvae_sharp.configs import experiments, paper  # noqa: E402
from dvae_sharp.grid import committed, curves, tables, trend  # noqa: E402

COLUMN = committed.COLUMN
LINE = {"cpu-small": ":", "cpu-small-100k": "-", "cpu-small-1m": "-.", "cpu-small-paper-sampler": "--"}
COLOURS = dict(zip(experiments.TREND_BASELINES, ("tab:blue", "tab:orange", "tab:green")))


def _entries(set_name, study):
    return tables.entries(committed.matched(set_name, study))


def _seeds(entries):
    counts = sorted({e.n for e in entries if e is not None and e.n})
    return "n = " + "/".join(map(str, counts)) + " seeds" if counts else "no runs"


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
        _error_bars(axis, entries, [p + shift for p in positions], f"k = {k} ({_seeds(entries)})", marker)
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
        _error_bars(axis, entries, [p + shift for p in positions],
                    f"{experiments.SAMPLERS[sampler].title} ({_seeds(entries)})", marker)
    _finish(axis, "test NLL (nats), mean ± sd over seeds", "k = 1: population annealing versus PCD, cpu-small")
    axis.set_xticks(list(positions), [COLUMN[b] for b in paper.BASELINES], rotation=30, ha="right")
    return _save(figure, path)


def budget_trend_test(path):
    """Final test NLL against training steps (log scale): mean ± sd over seeds where several, a single run ± its
    standard error (Monte-Carlo and AIS) where one; the legend gives each line's n per point, in the order of the
    steps (points beside each other would hide labels on them). The paper's sampler at 20000 steps is drawn as open
    markers beside it."""
    figure, axis = plt.subplots(figsize=(8, 4.5))
    for baseline in experiments.TREND_BASELINES:
        cell = experiments.Cell("binarized_mnist", "1-layer-lin", baseline, 5, "pa")
        for studies, marker, fill in ((("cpu-small", "cpu-small-100k", "cpu-small-1m"), "o-", None),
                                      (("cpu-small-paper-sampler",), "s", "none")):
            points = []
            for study in studies:
                found = committed.entry(study, cell)
                if found.n == 1:
                    single = committed.results(study, dataclasses.replace(cell, seed=found.seeds[0]))
                    points.append((trend.STEPS[study], found.mean, trend.single_se(single), 1))
                elif found.n:
                    points.append((trend.STEPS[study], found.mean, found.sd, found.n))
            if points:
                label = (COLUMN[baseline] + (", 1000 × 40 sampler" if fill else "")
                         + f" (n = {', '.join(str(p[3]) for p in points)})")
                axis.errorbar([p[0] * (1.08 if fill else 1) for p in points], [p[1] for p in points],
                              yerr=[p[2] for p in points], fmt=marker, color=COLOURS[baseline], mfc=fill, capsize=4,
                              label=label)
    _finish(axis, "test NLL (nats, 1000 samples)", "k = 5: final test against training length (100 × 10 sampler)")
    axis.set_xscale("log")
    lengths = sorted(set(trend.STEPS.values()))
    axis.set_xticks(lengths, [f"{n:,}" for n in lengths])
    axis.minorticks_off()
    axis.set_xlim(lengths[0] / 1.5, lengths[-1] * 1.5)
    axis.set_xlabel("training steps")
    return _save(figure, path)


def budget_trend(path):
    figure, axis = plt.subplots(figsize=(8, 4.5))
    for study in trend.STUDIES:
        label, line = committed.STUDY_TITLES[study], LINE[study]
        for cell, run in committed.matched("mnist-lin-trend", study, seeds=(1,)).items():
            if run is None or run.results is None:
                continue
            history = curves.evaluations(run.directory)
            steps = [e["step"] for e in history if "val/neg_ll" in e]
            values = [e["val/neg_ll"] for e in history if "val/neg_ll" in e]
            axis.plot(steps, values, line, color=COLOURS[cell.baseline], marker=".",
                      label=f"{COLUMN[cell.baseline]}, {label} (seed 1)")
    _finish(axis, "validation NLL (nats, 20 samples)", "k = 5, seed 1: validation during training")
    axis.set_xscale("log")
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
            budget_trend_test(directory / "budget-trend-test.png"), budget_trend(directory / "budget-trend.png")]
