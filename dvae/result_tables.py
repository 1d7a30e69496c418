"""The grid's runs on disk and the paper-layout tables gathered from their `results.json` files.

A cell's run lives in `{log_dir}/{sampler}/{dataset}/{struct}/{baseline}/{k}` (sampler `pa` or `pcd`). Tables put
the test NLL of each finished run in the experiment set's layout (rows from `row_fields`, columns from
`column_field`) as Markdown and CSV; a TensorBoard HParams experiment holds one session per finished run.
"""
import csv
import json
import os
import shutil

from configs import experiments, paper

RESULTS_FILE, CONFIG_FILE, CHECKPOINT_DIR = "results.json", "config.json", "checkpoints"
FINISHED, PARTIAL, MISSING = "finished", "partial", "missing"
MARKDOWN_MARKS = {PARTIAL: "(partial)", MISSING: "–"}
TABLE_METRIC = "test/neg_ll"
HPARAMS_METRICS = ("test/neg_ll", "val/neg_ll", "test/neg_elbo")
HPARAMS_FIELDS = ("dataset", "struct", "baseline", "k", "qupa", "beta", "num_train_iter")
COLUMN_TITLES = {"baseline": lambda b: paper.BASELINE_SPECS[b].paper_column,
                 "sampler": lambda s: experiments.SAMPLERS[s].title}


def run_dir(cell, log_dir):
    return log_dir / experiments.SAMPLERS[cell.sampler].log_subdir / cell.experiment_id


def run_status(directory):
    if (directory / RESULTS_FILE).is_file():
        return FINISHED
    if (directory / CONFIG_FILE).is_file() or (directory / CHECKPOINT_DIR).is_dir():
        return PARTIAL
    return MISSING


def read_results(cells, log_dir):
    """{cell: (status, results dict or None)} for the selected cells."""
    gathered = {}
    for cell in cells:
        directory = run_dir(cell, log_dir)
        status = run_status(directory)
        results = json.loads((directory / RESULTS_FILE).read_text()) if status == FINISHED else None
        gathered[cell] = (status, results)
    return gathered


def table_rows(experiment_set, cells):
    """(row values, {column value: cell}) in table order, and the column values in order."""
    rows, columns = {}, {}
    for cell in cells:
        row = tuple(getattr(cell, name) for name in experiment_set.row_fields)
        column = getattr(cell, experiment_set.column_field)
        rows.setdefault(row, {})[column] = cell
        columns[column] = None
    return list(rows.items()), list(columns)


def metric_value(entry):
    status, results = entry
    return results["metrics"][TABLE_METRIC] if status == FINISHED else None


def markdown_row(values, row_cells, columns, gathered):
    """One Markdown table row; the lowest finished value is bold when the row has more than one."""
    numbers = [metric_value(gathered[row_cells[c]]) if c in row_cells else None for c in columns]
    finished = [number for number in numbers if number is not None]
    best = min(finished) if len(finished) > 1 else None
    texts = [markdown_text(gathered.get(row_cells.get(c)), number, best) for c, number in zip(columns, numbers)]
    return "| " + " | ".join([*map(str, values), *texts]) + " |"


def markdown_text(entry, number, best):
    """The test NLL to two decimals, a status mark, or blank for a cell outside the set."""
    if number is None:
        return MARKDOWN_MARKS[entry[0]] if entry else ""
    return f"**{number:.2f}**" if number == best else f"{number:.2f}"


def describe_budget(config):
    return (f"{config['num_train_iter']} training steps; prior sampler with {config['sampler_chains']} chains × "
            f"{config['sampler_sweeps']} sweeps per step; log Z by AIS with {config['ais_num_betas']} temperatures × "
            f"{config['ais_num_chains']} chains; {config['eval_iw_samples']} importance samples per test image "
            f"({config['val_iw_samples']} in validation)")


def caption(budget, gathered):
    budgets = sorted({describe_budget(results["config"]) for _, results in gathered.values() if results})
    if not budgets:
        budget_text = f"no finished run yet (requested --budget={budget})"
    else:
        budget_text = ("; runs differ: " if len(budgets) > 1 else "") + " | ".join(budgets)
    samplers = ", ".join(dict.fromkeys(experiments.SAMPLERS[c.sampler].title for c in gathered))
    return (f"Test negative log-likelihood in nats (lower is better; best of a row in bold). Budget: {budget_text}. "
            f"Sampler: {samplers}. – not run; (partial) started but not finished; blank: not part of the set.")


def markdown_table(experiment_set, budget, gathered):
    rows, columns = table_rows(experiment_set, list(gathered))
    titles = [*experiment_set.row_fields, *(COLUMN_TITLES[experiment_set.column_field](c) for c in columns)]
    lines = [f"### {experiment_set.title}", "", caption(budget, gathered), "",
             "| " + " | ".join(titles) + " |", "|" + "---|" * len(experiment_set.row_fields) + "---:|" * len(columns)]
    lines += [markdown_row(values, row_cells, columns, gathered) for values, row_cells in rows]
    return "\n".join(lines) + "\n"


def write_csv(path, experiment_set, gathered):
    """The same layout with run.py's names as headers, full-precision values and status words."""
    rows, columns = table_rows(experiment_set, list(gathered))
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([*experiment_set.row_fields, *columns])
        for values, row_cells in rows:
            texts = [csv_text(gathered[row_cells[c]]) if c in row_cells else "" for c in columns]
            writer.writerow([*values, *texts])


def csv_text(entry):
    value = metric_value(entry)
    return repr(value) if value is not None else entry[0]


def write_hparams(directory, gathered):
    """A TensorBoard HParams experiment with one session per finished run; the directory is rewritten."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf
    from tensorboard.plugins.hparams import api as hp
    shutil.rmtree(directory, ignore_errors=True)
    domains = {"dataset": hp.Discrete(list(paper.DATASETS)), "struct": hp.Discrete(list(paper.STRUCTS)),
               "baseline": hp.Discrete(list(paper.BASELINES)), "qupa": hp.Discrete([True, False])}
    writer = tf.summary.create_file_writer(str(directory))
    with writer.as_default():
        hp.hparams_config(hparams=[hp.HParam(name, domains.get(name)) for name in HPARAMS_FIELDS],
                          metrics=[hp.Metric(name) for name in HPARAMS_METRICS])
    writer.close()
    for cell, (_, results) in gathered.items():
        if results:
            write_hparams_session(directory / cell.sampler / cell.experiment_id, results, tf, hp)


def write_hparams_session(directory, results, tf, hp):
    writer = tf.summary.create_file_writer(str(directory))
    with writer.as_default():
        hp.hparams({name: results["config"][name] for name in HPARAMS_FIELDS})
        for name in HPARAMS_METRICS:
            tf.summary.scalar(name, results["metrics"][name], step=results["final_step"])
    writer.close()


def write_tables(experiment_set, name, cells, log_dir, budget):
    """Writes `{name}.md`, `{name}.csv` and `hparams/` under `log_dir`; returns the Markdown and the paths."""
    gathered = read_results(cells, log_dir)
    markdown = markdown_table(experiment_set, budget, gathered)
    log_dir.mkdir(parents=True, exist_ok=True)
    outputs = [log_dir / f"{name}.md", log_dir / f"{name}.csv", log_dir / "hparams"]
    outputs[0].write_text(markdown)
    write_csv(outputs[1], experiment_set, gathered)
    write_hparams(outputs[2], gathered)
    return markdown, outputs
