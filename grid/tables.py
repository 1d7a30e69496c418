"""A grid's tables from its runs: each entry is the test NLL's mean ± standard deviation over the cell's seeds.

The layout is the experiment set's (rows from `row_fields`, columns from `column_field`). A row's lowest mean is
bold only when the test of `grid.statistics` (paired where the set's columns share seeds, else Student or Welch)
calls it lower than every other finished entry of the row, Holm-adjusted over those comparisons, with at least two
seeds on both sides; otherwise nothing in the row is bold. The comparisons of docs/RESULTS.md use the same rule.
Markdown for reading, CSV with full precision, and a TensorBoard HParams experiment with one session per run.
"""
import csv
import dataclasses
import os
import shutil
import statistics

from dvae_sharp.configs import experiments, paper
from dvae_sharp.dvae.runner import run_files
from dvae_sharp.dvae.runner.errors import first_line
from dvae_sharp.grid import statistics as tests

TABLE_METRIC = "test/neg_ll"
HPARAMS_METRICS = ("test/neg_ll", "val/neg_ll", "test/neg_elbo")
HPARAMS_FIELDS = ("dataset", "struct", "baseline", "k", "sampler", "seed", "beta", "num_train_iter", "sampler_chains",
                  "sampler_sweeps")
MISSING_MARKS = {run_files.PARTIAL: "(partial)", run_files.CORRUPT: "(corrupt)", run_files.MISSING: "–"}
COLUMN_TITLES = {"baseline": lambda b: paper.BASELINE_SPECS[b].paper_column,
                 "sampler": lambda s: experiments.SAMPLERS[s].title}


@dataclasses.dataclass
class Entry:
    """One table entry: the finished seeds' values (and those seeds, in the same order) and every seed's status."""
    values: list
    statuses: list
    seeds: list = dataclasses.field(default_factory=list)
    cell: object = None  # the cell, seed aside

    @property
    def n(self):
        return len(self.values)

    @property
    def mean(self):
        return statistics.fmean(self.values) if self.values else None

    @property
    def sd(self):
        return statistics.stdev(self.values) if self.n > 1 else None

    def by_seed(self):
        return dict(zip(self.seeds, self.values))


def entries(matched):
    """{cell without its seed: Entry} from {cell: FoundRun or None}, in the cells' order."""
    grouped = {}
    for cell, found in matched.items():
        entry = grouped.setdefault(cell.without_seed(), Entry([], [], cell=cell.without_seed()))
        status = found.status if found else run_files.MISSING
        entry.statuses.append(status)
        if status == run_files.FINISHED:
            entry.values.append(found.results["metrics"][TABLE_METRIC])
            entry.seeds.append(cell.seed)
    return grouped


def compare(first, second, paired=False):
    """The statistics test of first − second: paired over the seeds both finished, or two-sample; None when a side
    has fewer than two seeds."""
    if paired:
        a, b = first.by_seed(), second.by_seed()
        common = sorted(set(a) & set(b))
        return tests.paired([a[s] for s in common], [b[s] for s in common])
    return tests.two_sample(first.values, second.values)


def row_winner(row_entries, paired=False, confirm=None):
    """The column of the row's lowest mean when it is lower than each other finished entry with Holm-adjusted
    p < ALPHA over those comparisons (and `confirm(best entry, other entry)` holds for each, where given), else
    None."""
    finished = sorted((e.mean, c) for c, e in row_entries.items() if e.n)
    if len(finished) < 2:
        return None
    best, others = finished[0][1], [c for _, c in finished[1:]]
    found = [compare(row_entries[best], row_entries[c], paired) for c in others]
    if any(test is None for test in found):
        return None
    adjusted = tests.holm([test.p for test in found])
    if all(test.difference < 0 and p < tests.ALPHA for test, p in zip(found, adjusted)) and \
            (confirm is None or all(confirm(row_entries[best], row_entries[c]) for c in others)):
        return best
    return None


def entry_text(entry, seeds, bold=False):
    if entry is None:
        return ""
    if not entry.n:
        marks = [MISSING_MARKS[s] for s in (run_files.CORRUPT, run_files.PARTIAL) if s in entry.statuses]
        return (marks or ["–"])[0]
    text = f"{entry.mean:.2f}" + (f" ± {entry.sd:.2f}" if entry.sd is not None else "")
    text = f"**{text}**" if bold else text
    return text + (f" (n={entry.n})" if entry.n != len(seeds) else "")


def layout(experiment_set, table_entries):
    """[(row values, {column value: Entry})] in table order, and the column values in order."""
    rows, columns = {}, {}
    for cell, entry in table_entries.items():
        row = tuple(getattr(cell, name) for name in experiment_set.row_fields)
        column = getattr(cell, experiment_set.column_field)
        rows.setdefault(row, {})[column] = entry
        columns[column] = None
    return list(rows.items()), list(columns)


def markdown_row(values, row_entries, columns, seeds, paired=False, confirm=None):
    bold = row_winner(row_entries, paired, confirm)
    texts = [entry_text(row_entries.get(c), seeds, bold == c) for c in columns]
    return "| " + " | ".join([*map(str, values), *texts]) + " |"


def describe_budget(config):
    return (f"{config['num_train_iter']} training steps; prior sampler with {config['sampler_chains']} chains × "
            f"{config['sampler_sweeps']} sweeps per step; log Z by AIS with {config['ais_num_betas']} temperatures × "
            f"{config['ais_num_chains']} chains; {config['eval_iw_samples']} importance samples per test image "
            f"({config['val_iw_samples']} in validation)")


def caption(budget, matched, seeds, paired=False):
    budgets = sorted({describe_budget(found.config) for found in matched.values() if found and found.results})
    budget_text = " | ".join(budgets) if budgets else f"no finished run yet (requested --budget={budget})"
    samplers = ", ".join(dict.fromkeys(experiments.SAMPLERS[c.sampler].title for c in matched))
    seed_text = ", ".join(map(str, seeds))
    spread = "mean ± sd over seeds" if len(seeds) > 1 else "one seed"
    test = "paired t test over seeds" if paired else "t test (Student's where the seed variances agree, else Welch's)"
    return (f"Test negative log-likelihood in nats, {spread} ({seed_text}; lower is better; (n=…): seeds finished "
            f"when fewer). Bold: a row's lowest mean that the {test} calls lower than every other entry of the row, "
            f"p < {tests.ALPHA:g} after Holm's correction over the row (n ≥ 2 for both). Budget: {budget_text}. "
            f"Sampler: {samplers}. – not run; (partial) "
            f"started but not finished; blank: not part of the set.")


def markdown_table(experiment_set, budget, matched, seeds, confirm=None):
    """The set's table; `confirm(best entry, other entry)` may veto a bold entry (see row_winner)."""
    rows, columns = layout(experiment_set, entries(matched))
    paired = experiment_set.paired
    titles = [*experiment_set.row_fields, *(COLUMN_TITLES[experiment_set.column_field](c) for c in columns)]
    lines = [f"### {experiment_set.title}", "", caption(budget, matched, seeds, paired), "",
             "| " + " | ".join(titles) + " |", "|" + "---|" * len(experiment_set.row_fields) + "---:|" * len(columns)]
    lines += [markdown_row(values, row_entries, columns, seeds, paired, confirm) for values, row_entries in rows]
    return "\n".join(lines) + "\n"


def write_csv(path, experiment_set, matched):
    """Per column: mean, sd and n of the finished seeds (full precision), or the status words when none."""
    rows, columns = layout(experiment_set, entries(matched))
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([*experiment_set.row_fields, *(f"{c}{suffix}" for c in columns for suffix in
                                                       ("", "_sd", "_n"))])
        for values, row_entries in rows:
            texts = []
            for column in columns:
                entry = row_entries.get(column)
                if entry is None:
                    texts += ["", "", ""]
                elif entry.n:
                    texts += [repr(entry.mean), repr(entry.sd) if entry.sd is not None else "", str(entry.n)]
                else:
                    texts += ["/".join(sorted(set(entry.statuses))), "", "0"]
            writer.writerow([*values, *texts])


def write_hparams(directory, matched):
    """A TensorBoard HParams experiment with one session per finished run; the directory is rewritten. A write
    that fails (a full disk, say) raises run_files.RunFileError with one line."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf
    try:
        _write_hparams(directory, matched)
    except tf.errors.OpError as error:
        raise run_files.RunFileError(f"cannot write {directory}: {first_line(error)}") from None


def _write_hparams(directory, matched):
    import tensorflow as tf
    from tensorboard.plugins.hparams import api as hp
    shutil.rmtree(directory, ignore_errors=True)
    domains = {"dataset": hp.Discrete(list(paper.DATASETS)), "struct": hp.Discrete(list(paper.STRUCTS)),
               "baseline": hp.Discrete(list(paper.BASELINES)), "sampler": hp.Discrete(list(experiments.SAMPLERS))}
    writer = tf.summary.create_file_writer(str(directory))
    with writer.as_default():
        hp.hparams_config(hparams=[hp.HParam(name, domains.get(name)) for name in HPARAMS_FIELDS],
                          metrics=[hp.Metric(name) for name in HPARAMS_METRICS])
    writer.close()
    for cell, found in matched.items():
        if found and found.results:
            session = tf.summary.create_file_writer(str(directory / cell.name))
            with session.as_default():
                hp.hparams({name: found.config[name] for name in HPARAMS_FIELDS})
                for name in HPARAMS_METRICS:
                    tf.summary.scalar(name, found.results["metrics"][name], step=found.results["final_step"])
            session.close()
