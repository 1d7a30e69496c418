"""reproduce.py on fake run directories: grids, commands parsed by run.py's flags, statuses, tables, HParams, and
the local job runner with a fake run.py. Nothing here trains a model."""
import csv
import json
import os
import shlex
import subprocess
import sys
import textwrap

import pytest

import configs
import reproduce
from configs import experiments
from dvae import result_tables

REPO = reproduce.RUN_SCRIPT.parent
CPU_SMALL = experiments.BUDGETS["cpu-small"]


def cells_of(name):
    return experiments.EXPERIMENT_SETS[name].cells()


def run_main(args, capsys):
    """reproduce.main's exit status and its stdout lines."""
    status = reproduce.main(args)
    return status, capsys.readouterr().out.splitlines()


def write_fake_run(log_dir, cell, test_nll=None, budget=CPU_SMALL):
    """A run directory as run.py leaves it: config.json always, results.json when `test_nll` is given."""
    directory = result_tables.run_dir(cell, log_dir)
    directory.mkdir(parents=True)
    config_flags = {k: v for k, v in budget.items() if k != "summary_every"}
    config = configs.make_config(dataset=cell.dataset, struct=cell.struct, baseline=cell.baseline, k=cell.k,
                                 qupa=experiments.SAMPLERS[cell.sampler].qupa, **config_flags).to_dict()
    (directory / "config.json").write_text(json.dumps(config))
    if test_nll is not None:
        metrics = {"test/neg_ll": test_nll, "val/neg_ll": test_nll + 0.5, "test/neg_elbo": test_nll + 5.0,
                   "val/neg_elbo": test_nll + 5.5}
        results = {"metrics": metrics, "best_step": 15000, "final_step": config["num_train_iter"], "config": config}
        (directory / "results.json").write_text(json.dumps(results))
    return directory


# --- grids -----------------------------------------------------------------------------------------------------

def test_table1_is_every_dataset_struct_k_and_baseline_with_population_annealing():
    cells = cells_of("table1")
    assert len(cells) == 2 * 4 * 3 * 8 == 192
    assert {(c.dataset, c.struct, c.k, c.baseline) for c in cells} == {
        (d, s, k, b) for d in configs.DATASETS for s in configs.STRUCTS for k in (1, 5, 25) for b in configs.BASELINES}
    assert {c.sampler for c in cells} == {"pa"}


def test_mnist_lin_row_is_all_baselines_at_k1_and_the_dvae_sharp_ones_at_k5():
    cells = cells_of("mnist-lin-row")
    assert len(cells) == 13
    assert {(c.dataset, c.struct, c.sampler) for c in cells} == {("binarized_mnist", "1-layer-lin", "pa")}
    assert [c.baseline for c in cells if c.k == 1] == list(configs.BASELINES)
    assert [c.baseline for c in cells if c.k == 5] == [b for b in configs.BASELINES if b.startswith("dvaes_")]


def test_table2_runs_each_of_its_cells_with_both_samplers():
    grid, = experiments.EXPERIMENT_SETS["table2"].grids
    cells = cells_of("table2")
    assert len(cells) == len(grid.datasets) * len(grid.structs) * len(grid.baselines) * len(grid.ks) * 2
    assert "dvaes_power" in grid.baselines and grid.ks == (1,) and set(grid.datasets) == set(configs.DATASETS)
    by_run = {}
    for cell in cells:
        by_run.setdefault((cell.dataset, cell.struct, cell.baseline, cell.k), []).append(cell.sampler)
    assert all(samplers == ["pa", "pcd"] for samplers in by_run.values())


def test_filters_select_a_subset(capsys):
    status, lines = run_main(["--set=table1", "--dataset=omniglot", "--k=1,25", "--list"], capsys)
    assert status == 0 and len(lines) == 4 * 2 * 8
    assert all(line.split()[2].startswith("omniglot/") and line.split()[2].split("/")[3] in ("1", "25")
               for line in lines)


# --- commands --------------------------------------------------------------------------------------------------

PARSE_WITH_RUN_FLAGS = textwrap.dedent("""
    import json, shlex, sys
    import configs, run
    parsed = []
    for line in sys.stdin.read().splitlines():
        words = shlex.split(line)
        assert words[:2] == ["python", "run.py"], words
        run.FLAGS.unparse_flags()
        run.FLAGS(["run.py", *words[2:]])
        configs.make_config(**{name: run.FLAGS[name].value for name in run.CONFIG_FLAGS})
        given = {word[2:].split("=", 1)[0] for word in words[2:]}
        parsed.append({name: run.FLAGS[name].value for name in given})
    defaults = {name: run.FLAGS[name].default for name in run.FLAGS}
    print(json.dumps({"parsed": parsed, "defaults": defaults}))
""")


def parse_commands_with_run_flags(lines):
    """Each command's flags as run.py's absl parser reads them, after make_config validated them."""
    completed = subprocess.run([sys.executable, "-c", PARSE_WITH_RUN_FLAGS], input="\n".join(lines), cwd=REPO,
                               capture_output=True, text=True)
    assert completed.returncode == 0, completed.stderr[-2000:]
    return json.loads(completed.stdout)


@pytest.mark.parametrize("set_name,budget", [("table1", "paper"), ("table2", "cpu-small")])
def test_printed_commands_parse_with_run_flags_and_match_cell_and_budget(set_name, budget, tmp_path, capsys,
                                                                         monkeypatch):
    monkeypatch.chdir(REPO)
    data_dir = tmp_path / "data dir"
    status, lines = run_main([f"--set={set_name}", f"--budget={budget}", f"--log_dir={tmp_path}",
                              f"--data_dir={data_dir}", "--print-commands"], capsys)
    cells = cells_of(set_name)
    assert status == 0 and len(lines) == len(cells)
    answer = parse_commands_with_run_flags(lines)
    for cell, flags in zip(cells, answer["parsed"]):
        sampler = experiments.SAMPLERS[cell.sampler]
        assert flags == {"dataset": cell.dataset, "struct": cell.struct, "baseline": cell.baseline, "k": cell.k,
                         "qupa": sampler.qupa, "log_dir": str(tmp_path / sampler.log_subdir),
                         "data_dir": str(data_dir), **experiments.BUDGETS[budget]}
    assert all(CPU_SMALL[name] != answer["defaults"][name] for name in CPU_SMALL if name != "summary_every")


def test_commands_of_the_two_samplers_use_separate_log_dirs(capsys):
    status, lines = run_main(["--set=table2", "--struct=1-layer-lin", "--dataset=omniglot", "--print-commands"],
                             capsys)
    assert status == 0 and len(lines) == 2
    pa, pcd = (dict(word[2:].split("=", 1) for word in shlex.split(line)[2:]) for line in lines)
    assert (pa["qupa"], pcd["qupa"]) == ("True", "False")
    assert (pa["log_dir"], pcd["log_dir"]) == ("logs/paper/pa", "logs/paper/pcd")


# --- statuses and errors ---------------------------------------------------------------------------------------

def test_list_reports_finished_partial_and_missing_runs(tmp_path, capsys):
    finished, from_config, from_checkpoint, missing = cells_of("mnist-lin-row")[:4]
    write_fake_run(tmp_path, finished, test_nll=90.0)
    write_fake_run(tmp_path, from_config)
    (result_tables.run_dir(from_checkpoint, tmp_path) / "checkpoints").mkdir(parents=True)
    (result_tables.run_dir(missing, tmp_path)).mkdir(parents=True)
    status, lines = run_main(["--set=mnist-lin-row", f"--log_dir={tmp_path}", "--list"], capsys)
    assert status == 0 and len(lines) == 13
    statuses = {line.split()[2]: (line.split()[0], line.split()[1]) for line in lines}
    assert statuses[finished.experiment_id] == ("finished", "pa")
    assert statuses[from_config.experiment_id] == statuses[from_checkpoint.experiment_id] == ("partial", "pa")
    assert statuses[missing.experiment_id] == ("missing", "pa")
    assert sum(s == "missing" for s, _ in statuses.values()) == 10


@pytest.mark.parametrize("args,message", [
    (["--set=table3", "--list"], "--set=table3 is unknown"),
    (["--budget=huge", "--table"], "--budget=huge is unknown"),
    (["--dataset=cifar", "--table"], "--dataset=cifar is not in set table1"),
    (["--set=mnist-lin-row", "--k=25", "--jobs=1"], "--k=25 is not in set mnist-lin-row"),
    (["--set=mnist-lin-row", "--k=5", "--baseline=dvaepp_exp", "--table"], "select no run"),
    (["--jobs=0"], "--jobs=0 must be >= 1"),
    (["--set=table1"], "one of the arguments"),
])
def test_bad_input_is_a_one_line_error_with_status_2_and_writes_nothing(args, message, tmp_path, capsys):
    log_dir = tmp_path / "logs"
    with pytest.raises(SystemExit) as exit_info:
        reproduce.main([*args, f"--log_dir={log_dir}"])
    error = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert error.count("\n") == 1 and error.startswith("reproduce.py: error: ") and message in error
    assert not log_dir.exists()


# --- tables ----------------------------------------------------------------------------------------------------

def markdown_rows(text):
    """The table body of a Markdown table as lists of cell texts (header and rule excluded)."""
    lines = [line for line in text.splitlines() if line.startswith("| ")]
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in lines[1:]]


def test_table_places_values_marks_missing_and_partial_and_states_the_budget(tmp_path, capsys):
    cell = {(c.baseline, c.k): c for c in cells_of("mnist-lin-row")}
    write_fake_run(tmp_path, cell["dvaes_power", 1], test_nll=88.5)
    write_fake_run(tmp_path, cell["dvae_spike_exp", 1], test_nll=91.25)
    write_fake_run(tmp_path, cell["dvaes_gi", 5], test_nll=87.125)
    write_fake_run(tmp_path, cell["dvaes_exp", 5])
    status, lines = run_main(["--set=mnist-lin-row", f"--log_dir={tmp_path}", "--table"], capsys)
    assert status == 0
    markdown = (tmp_path / "mnist-lin-row.md").read_text()
    assert markdown in "\n".join(lines) + "\n"
    header = next(line for line in markdown.splitlines() if line.startswith("| dataset"))
    assert [h.strip() for h in header.strip("|").split("|")][3:] == [
        configs.BASELINE_SPECS[b].paper_column for b in configs.BASELINES]
    k1, k5 = markdown_rows(markdown)
    assert k1 == ["binarized_mnist", "1-layer-lin", "1", "91.25", "–", "–", "–", "–", "–", "–", "**88.50**"]
    assert k5 == ["binarized_mnist", "1-layer-lin", "5", "", "", "", "87.12", "–", "(partial)", "–", "–"]
    assert "20000 training steps" in markdown and "100 chains × 10 sweeps" in markdown
    assert "300 temperatures × 256 chains" in markdown and "1000 importance samples per test image" in markdown
    assert "Sampler: population annealing." in markdown
    with open(tmp_path / "mnist-lin-row.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["k"] for row in rows] == ["1", "5"]
    assert float(rows[0]["dvaes_power"]) == 88.5 and rows[0]["dvaepp_exp"] == "missing"
    assert float(rows[1]["dvaes_gi"]) == 87.125 and rows[1]["dvaes_exp"] == "partial" and rows[1]["dvaepp_exp"] == ""


def test_table2_compares_the_samplers_side_by_side(tmp_path, capsys):
    pa, pcd = (c for c in cells_of("table2") if (c.dataset, c.struct) == ("omniglot", "2-layer-nonlin"))
    write_fake_run(tmp_path, pa, test_nll=100.0)
    write_fake_run(tmp_path, pcd, test_nll=101.5)
    status, _ = run_main(["--set=table2", "--dataset=omniglot", f"--log_dir={tmp_path}", "--table"], capsys)
    assert status == 0
    markdown = (tmp_path / "table2.md").read_text()
    assert "| dataset | struct | baseline | k | population annealing | PCD |" in markdown
    assert ["omniglot", "2-layer-nonlin", "dvaes_power", "1", "**100.00**", "101.50"] in markdown_rows(markdown)
    assert len(markdown_rows(markdown)) == 4 and "Sampler: population annealing, PCD." in markdown


def test_table_writes_an_hparams_experiment_with_one_session_per_finished_run(tmp_path, capsys):
    import tensorflow as tf
    from tensorboard.plugins.hparams import metadata, plugin_data_pb2
    finished, partial = cells_of("table2")[:2]
    write_fake_run(tmp_path, finished, test_nll=95.0)
    write_fake_run(tmp_path, partial)
    (tmp_path / "hparams" / "stale").mkdir(parents=True)
    run_main(["--set=table2", f"--log_dir={tmp_path}", "--table"], capsys)

    def plugin_values(path):
        events = [e for f in path.glob("events.out.tfevents.*") for e in tf.compat.v1.train.summary_iterator(str(f))]
        values = [v for e in events for v in e.summary.value]
        return {v.tag: v for v in values}
    experiment = plugin_values(tmp_path / "hparams")[metadata.EXPERIMENT_TAG]
    assert experiment.metadata.plugin_data.plugin_name == metadata.PLUGIN_NAME
    data = plugin_data_pb2.HParamsPluginData.FromString(experiment.metadata.plugin_data.content)
    assert [h.name for h in data.experiment.hparam_infos] == list(result_tables.HPARAMS_FIELDS)
    assert [m.name.tag for m in data.experiment.metric_infos] == list(result_tables.HPARAMS_METRICS)
    root = tmp_path / "hparams"
    sessions = [path for path in [root, *root.rglob("*")] if list(path.glob("events.out.tfevents.*"))]
    assert sessions == [root, root / "pa" / finished.experiment_id] and not (root / "stale").exists()
    session = plugin_values(sessions[1])
    start = plugin_data_pb2.HParamsPluginData.FromString(
        session[metadata.SESSION_START_INFO_TAG].metadata.plugin_data.content).session_start_info
    assert start.hparams["baseline"].string_value == finished.baseline
    assert start.hparams["qupa"].bool_value is True and start.hparams["num_train_iter"].number_value == 20000
    assert tf.make_ndarray(session["test/neg_ll"].tensor) == pytest.approx(95.0)


# --- local job runner ------------------------------------------------------------------------------------------

FAKE_RUN_PY = textwrap.dedent("""
    import json, os, pathlib, signal, sys, time
    flags = dict(arg[2:].split("=", 1) for arg in sys.argv[1:])
    run_dir = pathlib.Path(flags["log_dir"], flags["dataset"], flags["struct"], flags["baseline"], flags["k"])
    with open(pathlib.Path(os.environ["FAKE_INVOCATIONS"]), "a") as log:
        log.write(f"{flags['baseline']} {os.environ.get('TF_NUM_INTRAOP_THREADS')}\\n")
    print("fake run of", run_dir)
    if flags["baseline"] == os.environ.get("FAKE_INTERRUPTED_BASELINE"):
        def save_and_exit(*_):
            (run_dir / "interrupted").write_text("saved")
            sys.exit(1)
        signal.signal(signal.SIGINT, save_and_exit)
        os.kill(os.getppid(), signal.SIGINT)
        time.sleep(30)
    if flags["baseline"] == os.environ.get("FAKE_FAILING_BASELINE"):
        sys.exit("fake failure")
    (run_dir / "results.json").write_text(json.dumps({"metrics": {"test/neg_ll": 90.0}}))
""")


@pytest.fixture
def fake_run_py(tmp_path, monkeypatch):
    """Replaces run.py by a script that logs its call, then writes results.json, fails or waits for Ctrl-C."""
    script = tmp_path / "fake_run.py"
    script.write_text(FAKE_RUN_PY)
    monkeypatch.setattr(reproduce, "RUN_SCRIPT", script)
    monkeypatch.setenv("FAKE_INVOCATIONS", str(tmp_path / "invocations.txt"))
    for name in reproduce.THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return tmp_path / "invocations.txt"


def test_jobs_skip_finished_runs_resume_the_others_and_report_failures(tmp_path, fake_run_py, capsys,
                                                                       monkeypatch):
    monkeypatch.setenv("FAKE_FAILING_BASELINE", "dvaepp_power")
    log_dir = tmp_path / "logs"
    cell = {c.baseline: c for c in cells_of("mnist-lin-row") if c.k == 1}
    write_fake_run(log_dir, cell["dvae_spike_exp"], test_nll=92.0)
    partial = write_fake_run(log_dir, cell["dvaepp_exp"])
    (partial / "stdout.log").write_text("earlier attempt\n")
    args = ["--set=mnist-lin-row", "--k=1", "--baseline=dvae_spike_exp,dvaepp_exp,dvaepp_power,dvaes_power",
            f"--log_dir={log_dir}", "--jobs=2"]
    status, lines = run_main(args, capsys)

    assert status == 1
    invocations = sorted(fake_run_py.read_text().splitlines())
    threads = max(1, len(os.sched_getaffinity(0)) // 2)
    assert invocations == [f"{b} {threads}" for b in ("dvaepp_exp", "dvaepp_power", "dvaes_power")]
    assert any(" skip " in line and "dvae_spike_exp" in line for line in lines)
    assert sum(" start " in line for line in lines) == 3
    assert any("FAILED" in line and "dvaepp_power" in line and "exit 1" in line for line in lines)
    assert sum(" done " in line for line in lines) == 2 and "failed: pa " in lines[-1]
    log = (partial / "stdout.log").read_text()
    assert log.startswith("earlier attempt\n") and "fake run of" in log and "--baseline=dvaepp_exp" in log
    assert "fake failure" in (result_tables.run_dir(cell["dvaepp_power"], log_dir) / "stdout.log").read_text()
    assert json.loads((result_tables.run_dir(cell["dvae_spike_exp"], log_dir) / "results.json").read_text())[
        "metrics"]["test/neg_ll"] == 92.0

    monkeypatch.delenv("FAKE_FAILING_BASELINE")
    assert run_main([*args[:-1], "--jobs=1"], capsys)[0] == 0
    assert fake_run_py.read_text().splitlines()[-1] == "dvaepp_power None"


def test_ctrl_c_interrupts_each_child_once_and_exits_130(tmp_path, fake_run_py, capsys, monkeypatch):
    monkeypatch.setenv("FAKE_INTERRUPTED_BASELINE", "dvaes_power")
    args = ["--set=mnist-lin-row", "--k=1", "--baseline=dvaes_power", f"--log_dir={tmp_path}", "--jobs=1"]
    status, lines = run_main(args, capsys)
    run_dir = result_tables.run_dir(cells_of("mnist-lin-row")[7], tmp_path)
    assert status == 130 and "Interrupted" in lines[-1]
    assert (run_dir / "interrupted").read_text() == "saved"
    assert not (run_dir / "results.json").exists()


def test_worker_threads_share_the_cores_only_with_several_workers(monkeypatch):
    for name in reproduce.THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    assert not set(reproduce.THREAD_VARIABLES) & set(reproduce.worker_environment(1))
    many = reproduce.worker_environment(64)
    assert {many[name] for name in reproduce.THREAD_VARIABLES} == {"1"}
