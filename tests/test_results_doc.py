"""docs/RESULTS.md matches the committed runs: every generated block equals what `reproduce.py --results` writes,
every figure it embeds exists, and the budget-trend figure gives the number of runs behind each point."""
import re

from dvae_sharp.configs import experiments
from dvae_sharp.grid import committed, results_doc, runs


def test_committed_tables_equal_the_tables_regenerated_from_docs_results():
    text = results_doc.RESULTS_DOC.read_text()
    regenerated = results_doc.render_blocks()
    in_doc = results_doc.committed_blocks(text, regenerated)
    for name, markdown in regenerated.items():
        assert in_doc[name] == markdown, f"block '{name}' is stale: run `python reproduce.py --results`"


def test_every_embedded_figure_exists():
    text = results_doc.RESULTS_DOC.read_text()
    figures = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert len(figures) == 4
    for figure in figures:
        assert (results_doc.RESULTS_DOC.parent / figure).is_file(), figure


def test_committed_results_are_all_readable_and_of_known_budgets():
    found = [run for study in committed.RESULTS_ROOT.iterdir() for run in runs.find_runs(study)]
    assert found and all(run.status == "finished" for run in found)
    for run in found:
        study = run.directory.relative_to(committed.RESULTS_ROOT).parts[0]
        budget = {k: v for k, v in experiments.BUDGETS[study].items() if k != "summary_every"}
        assert all(run.config[name] == value for name, value in budget.items()), run.directory


def test_numbers_that_round_to_zero_print_without_a_sign():
    assert results_doc._number(-0.0004, 3) == "0.000"
    assert results_doc._number(-0.0006, 3) == "-0.001"
    assert results_doc._number(-0.44) == "-0.44"
    assert results_doc._number(float("nan")) == "–" and results_doc._number(None) == "–"


def test_the_budget_trend_figure_gives_each_line_the_number_of_runs_on_disk(tmp_path, monkeypatch):
    """The n of each point in the legend, against a count of the results.json files under docs/results."""
    from matplotlib import pyplot
    from dvae_sharp.grid import figures
    drawn = []
    monkeypatch.setattr(figures, "_save", lambda figure, path: drawn.append(figure))
    figures.budget_trend_test(tmp_path / "trend.png")
    legend = [text.get_text() for text in drawn[0].axes[0].get_legend().get_texts()]
    pyplot.close(drawn[0])

    def on_disk(study, baseline):
        return len(list((committed.RESULTS_ROOT / study).glob(
            f"seed*/pa/binarized_mnist/1-layer-lin/{baseline}/5/results.json")))

    for baseline in experiments.TREND_BASELINES:
        by_length = [on_disk(study, baseline) for study in ("cpu-small", "cpu-small-100k", "cpu-small-1m")]
        counts = ", ".join(str(n) for n in by_length if n)
        assert f"{committed.COLUMN[baseline]} (n = {counts})" in legend, legend
        paper = on_disk("cpu-small-paper-sampler", baseline)
        assert f"{committed.COLUMN[baseline]}, 1000 × 40 sampler (n = {paper})" in legend, legend
