"""docs/RESULTS.md matches the committed runs: every generated block equals what `reproduce.py --results` writes,
and every figure it embeds exists."""
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
