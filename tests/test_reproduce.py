"""reproduce.py on fake run directories: grids and seeds, commands parsed by run.py's flags, statuses, tables with
mean ± sd, HParams, the local launcher and the commands file with a fake run.py. Nothing here trains a model."""
import csv
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from dvae_sharp import configs
from dvae_sharp import reproduce
from dvae_sharp.configs import experiments
from dvae_sharp.grid import local, runs, tables

REPO = local.RUN_SCRIPT.parent
CPU_SMALL = experiments.BUDGETS["cpu-small"]


def cells_of(name, seeds=(1,)):
    return experiments.EXPERIMENT_SETS[name].cells(seeds)


def run_main(args, capsys):
    """reproduce.main's exit status and its stdout lines."""
    status = reproduce.main(args)
    return status, capsys.readouterr().out.splitlines()


def write_fake_run(log_dir, cell, test_nll=None, budget="cpu-small", directory=None):
    """A run directory as run.py leaves it: config.json always, results.json when `test_nll` is given."""
    directory = directory or runs.run_dir(cell, log_dir)
    directory.mkdir(parents=True)
    config = runs.expected_config(cell, budget)
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
    assert {c.sampler for c in cells} == {"pa"} and {c.seed for c in cells} == {1}


def test_seeds_multiply_the_cells_and_keep_a_cells_seeds_together():
    cells = cells_of("mnist-lin-row", seeds=(1, 2))
    assert len(cells) == 26
    assert [c.seed for c in cells[:4]] == [1, 2, 1, 2] and cells[0].without_seed() == cells[1].without_seed()


def test_study_sets_hold_the_row_the_samplers_and_the_trend():
    assert len(cells_of("mnist-lin-study")) == 16 and {c.k for c in cells_of("mnist-lin-study")} == {1, 5}
    samplers = cells_of("mnist-lin-samplers")
    assert len(samplers) == 16 and {(c.sampler, c.k) for c in samplers} == {("pa", 1), ("pcd", 1)}
    assert [c.baseline for c in cells_of("mnist-lin-trend")] == list(experiments.TREND_BASELINES)


def test_filters_select_a_subset(capsys):
    status, lines = run_main(["--set=table1", "--dataset=omniglot", "--k=1,25", "--list"], capsys)
    assert status == 0 and len(lines) == 4 * 2 * 8
    assert all("/omniglot/" in line and line.split()[1].split("/")[-1] in ("1", "25") for line in lines)


# --- commands --------------------------------------------------------------------------------------------------

PARSE_WITH_RUN_FLAGS = textwrap.dedent("""
    import json, pathlib, shlex, sys
    import dvae_sharp
    from dvae_sharp import configs, run
    checkout_run_py = str(pathlib.Path(dvae_sharp.__file__).resolve().parent.parent / "run.py")
    parsed = []
    for line in sys.stdin.read().splitlines():
        words = shlex.split(line)
        assert words[:2] == [sys.executable, checkout_run_py], words
        run.FLAGS.unparse_flags()
        run.FLAGS(["run.py", *words[2:]])
        run.config_from_flags()
        given = {word[2:].split("=", 1)[0] for word in words[2:]}
        parsed.append({name: run.FLAGS[name].value for name in given})
    print(json.dumps({"parsed": parsed}))
""")


def parse_commands_with_run_flags(lines):
    """Each command's flags as run.py's absl parser reads them, after make_config validated them."""
    completed = subprocess.run([sys.executable, "-c", PARSE_WITH_RUN_FLAGS], input="\n".join(lines), cwd=REPO,
                               capture_output=True, text=True)
    assert completed.returncode == 0, completed.stderr[-2000:]
    return json.loads(completed.stdout)["parsed"]


@pytest.mark.parametrize("set_name,budget", [("table1", "paper"), ("mnist-lin-samplers", "cpu-small")])
def test_printed_commands_parse_with_run_flags_and_match_cell_seed_and_budget(set_name, budget, tmp_path, capsys):
    data_dir = tmp_path / "data dir"
    status, lines = run_main([f"--set={set_name}", f"--budget={budget}", "--seeds=1,3", f"--log_dir={tmp_path}",
                              f"--data_dir={data_dir}", "--print-commands"], capsys)
    cells = cells_of(set_name, seeds=(1, 3))
    assert status == 0 and len(lines) == len(cells)
    for cell, flags in zip(cells, parse_commands_with_run_flags(lines)):
        sampler = experiments.SAMPLERS[cell.sampler]
        assert flags == {"dataset": cell.dataset, "struct": cell.struct, "baseline": cell.baseline, "k": cell.k,
                         "qupa": sampler.qupa, "seed": cell.seed,
                         "log_dir": str(tmp_path / f"seed{cell.seed}" / sampler.log_subdir),
                         "data_dir": str(data_dir), **experiments.BUDGETS[budget]}


# --- statuses and errors ---------------------------------------------------------------------------------------

def test_list_reports_finished_corrupt_partial_and_missing_runs(tmp_path, capsys):
    finished, corrupt, from_config, from_checkpoint, missing = cells_of("mnist-lin-row")[:5]
    write_fake_run(tmp_path, finished, test_nll=90.0)
    (write_fake_run(tmp_path, corrupt, test_nll=91.0) / "results.json").write_text("{")
    write_fake_run(tmp_path, from_config)
    (runs.run_dir(from_checkpoint, tmp_path) / "checkpoints").mkdir(parents=True)
    status, lines = run_main(["--set=mnist-lin-row", f"--log_dir={tmp_path}", "--list"], capsys)
    assert status == 0 and len(lines) == 13
    statuses = {line.split()[1]: line.split()[0] for line in lines}
    assert statuses[finished.name] == "finished" and statuses[corrupt.name] == "corrupt"
    assert statuses[from_config.name] == statuses[from_checkpoint.name] == "partial"
    assert statuses[missing.name] == "missing" and list(statuses.values()).count("missing") == 9


@pytest.mark.parametrize("args,message", [
    (["--set=table3", "--list"], "--set=table3 is unknown"),
    (["--budget=huge", "--table"], "--budget=huge is unknown"),
    (["--dataset=cifar", "--table"], "--dataset=cifar is not in set table1"),
    (["--set=mnist-lin-row", "--k=25", "--jobs=1"], "--k=25 is not in set mnist-lin-row"),
    (["--set=mnist-lin-row", "--k=5", "--baseline=dvaepp_exp", "--table"], "select no run"),
    (["--jobs=0"], "--jobs=0 must be an integer from 1 to 1024"),
    (["--seeds=1,x", "--list"], "--seeds=1,x"),
    (["--seeds=2,2", "--list"], "distinct"),
    (["--launcher=slurm", "--slurm_time=soon"], "--slurm_time=soon"),
    (["--launcher=slurm", "--cpus_per_job=0"], "--cpus_per_job=0 must be an integer from 1 to 4096"),
    (["--set=table1"], "say what to do"),
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


def test_table_shows_mean_and_sd_over_seeds_marks_missing_and_states_the_budget(tmp_path, capsys):
    cell = {(c.baseline, c.k, c.seed): c for c in cells_of("mnist-lin-row", seeds=(1, 2, 3))}
    for seed, value in ((1, 88.0), (2, 89.0), (3, 90.0)):
        write_fake_run(tmp_path, cell["dvaes_power", 1, seed], test_nll=value)
    write_fake_run(tmp_path, cell["dvae_spike_exp", 1, 1], test_nll=91.25)
    write_fake_run(tmp_path, cell["dvae_spike_exp", 1, 2], test_nll=92.25)
    write_fake_run(tmp_path, cell["dvaes_exp", 5, 1])
    status, lines = run_main(["--set=mnist-lin-row", "--seeds=1,2,3", "--budget=cpu-small", f"--log_dir={tmp_path}",
                              "--table"], capsys)
    assert status == 0
    markdown = (tmp_path / "mnist-lin-row.md").read_text()
    k1, k5 = markdown_rows(markdown)
    assert k1[3] == "91.75 ± 0.71 (n=2)" and k1[10] == "**89.00 ± 1.00**" and k1[4] == "–"
    assert k5[3] == "" and k5[8] == "(partial)"
    assert "mean ± sd over seeds (1, 2, 3" in markdown and "20000 training steps" in markdown
    with open(tmp_path / "mnist-lin-row.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert float(rows[0]["dvaes_power"]) == 89.0 and float(rows[0]["dvaes_power_sd"]) == 1.0
    assert rows[0]["dvaes_power_n"] == "3" and rows[0]["dvaepp_exp"] == "missing"


def test_table_finds_a_run_made_by_hand_by_its_configuration(tmp_path, capsys):
    cell = cells_of("table2")[0]
    write_fake_run(tmp_path, cell, test_nll=95.5, directory=tmp_path / "by-hand" / cell.experiment_id)
    status, lines = run_main(["--set=table2", f"--log_dir={tmp_path}", "--budget=cpu-small", "--table"], capsys)
    assert status == 0 and "95.50" in "\n".join(lines)


def test_table_refuses_two_finished_runs_of_one_cell_and_names_a_corrupt_results_file(tmp_path, capsys):
    cell = cells_of("table2")[0]
    write_fake_run(tmp_path, cell, test_nll=95.5)
    write_fake_run(tmp_path, cell, test_nll=96.5, directory=tmp_path / "copy")
    with pytest.raises(SystemExit, match="two finished runs of one configuration"):
        reproduce.main(["--set=table2", f"--log_dir={tmp_path}", "--budget=cpu-small", "--table"])
    (tmp_path / "copy" / "results.json").write_text('{"metrics": ')
    with pytest.raises(SystemExit, match=str(tmp_path / "copy" / "results.json")):
        reproduce.main(["--set=table2", f"--log_dir={tmp_path}", "--budget=cpu-small", "--table"])


def test_table_writes_an_hparams_experiment_with_one_session_per_finished_run(tmp_path, capsys):
    import tensorflow as tf
    from tensorboard.plugins.hparams import metadata, plugin_data_pb2
    finished, partial = cells_of("table2")[:2]
    write_fake_run(tmp_path, finished, test_nll=95.0)
    write_fake_run(tmp_path, partial)
    (tmp_path / "hparams" / "stale").mkdir(parents=True)
    run_main(["--set=table2", "--budget=cpu-small", f"--log_dir={tmp_path}", "--table"], capsys)

    def plugin_values(path):
        events = [e for f in path.glob("events.out.tfevents.*") for e in tf.compat.v1.train.summary_iterator(str(f))]
        return {v.tag: v for e in events for v in e.summary.value}
    experiment = plugin_values(tmp_path / "hparams")[metadata.EXPERIMENT_TAG]
    data = plugin_data_pb2.HParamsPluginData.FromString(experiment.metadata.plugin_data.content)
    assert [h.name for h in data.experiment.hparam_infos] == list(tables.HPARAMS_FIELDS)
    root = tmp_path / "hparams"
    sessions = [path for path in [root, *root.rglob("*")] if list(path.glob("events.out.tfevents.*"))]
    assert sessions == [root, root / finished.name] and not (root / "stale").exists()
    session = plugin_values(sessions[1])
    start = plugin_data_pb2.HParamsPluginData.FromString(
        session[metadata.SESSION_START_INFO_TAG].metadata.plugin_data.content).session_start_info
    assert start.hparams["baseline"].string_value == finished.baseline
    assert start.hparams["seed"].number_value == 1 and start.hparams["num_train_iter"].number_value == 20000
    assert tf.make_ndarray(session["test/neg_ll"].tensor) == pytest.approx(95.0)


# --- the local launcher and the commands file, with a fake run.py ----------------------------------------------

FAKE_RUN_PY = textwrap.dedent("""
    import json, os, pathlib, signal, sys, time
    flags = dict(arg[2:].split("=", 1) for arg in sys.argv[1:])
    run_dir = pathlib.Path(flags["log_dir"], flags["dataset"], flags["struct"], flags["baseline"], flags["k"])
    run_dir.mkdir(parents=True, exist_ok=True)
    with open(pathlib.Path(os.environ["FAKE_INVOCATIONS"]), "a") as log:
        log.write(f"{flags['baseline']} {flags['seed']} {os.environ.get('TF_NUM_INTRAOP_THREADS')}\\n")
    print("fake run of", run_dir, flush=True)
    if flags["baseline"] == os.environ.get("FAKE_STOPPED_BASELINE"):
        def save_and_exit(signum, frame):
            (run_dir / "stopped").write_text(signal.Signals(signum).name)
            sys.exit(128 + signum)
        signal.signal(signal.SIGTERM, save_and_exit)
        (run_dir / "started").write_text("yes")
        time.sleep(60)
    if flags["baseline"] == os.environ.get("FAKE_FAILING_BASELINE"):
        sys.exit("fake failure")
    (run_dir / "results.json").write_text(json.dumps({"metrics": {"test/neg_ll": 90.0}, "config": {},
                                                      "final_step": 1}))
""")


@pytest.fixture
def fake_run_py(tmp_path, monkeypatch):
    """Replaces run.py by a script that logs its call, then writes results.json, fails or waits for SIGTERM."""
    script = tmp_path / "fake_run.py"
    script.write_text(FAKE_RUN_PY)
    monkeypatch.setattr(local, "RUN_SCRIPT", script)
    monkeypatch.setenv("FAKE_INVOCATIONS", str(tmp_path / "invocations.txt"))
    for name in local.THREAD_VARIABLES:
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
    threads = max(1, len(os.sched_getaffinity(0)) // 2)
    assert sorted(fake_run_py.read_text().splitlines()) == [
        f"{b} 1 {threads}" for b in ("dvaepp_exp", "dvaepp_power", "dvaes_power")]
    assert any(" skip " in line and "dvae_spike_exp" in line for line in lines)
    assert sum(" start " in line for line in lines) == 3
    assert any("FAILED" in line and "dvaepp_power" in line and "exit 1" in line for line in lines)
    assert sum(" done " in line for line in lines) == 2 and "failed: seed1/pa/" in lines[-1]
    log = (partial / "stdout.log").read_text()
    assert log.startswith("earlier attempt\n") and "fake run of" in log and "--baseline=dvaepp_exp" in log
    monkeypatch.delenv("FAKE_FAILING_BASELINE")
    assert run_main([*args[:-1], "--jobs=1"], capsys)[0] == 0
    assert fake_run_py.read_text().splitlines()[-1] == "dvaepp_power 1 None"


def test_sigterm_to_the_launcher_is_forwarded_and_waits_for_the_children(tmp_path, fake_run_py):
    """reproduce.py as its own process: SIGTERM reaches the running child, which saves and exits; the launcher
    then exits with 143 and starts nothing more."""
    environment = {**os.environ, "FAKE_STOPPED_BASELINE": "dvaes_power", "PYTHONPATH": str(REPO)}
    launcher = subprocess.Popen(
        [sys.executable, "-c", "import sys; from dvae_sharp import reproduce; from dvae_sharp.grid import local; "
         "local.RUN_SCRIPT = sys.argv[1]; "
         "sys.exit(reproduce.main(sys.argv[2:]))", str(tmp_path / "fake_run.py"), "--set=mnist-lin-row", "--k=1",
         "--baseline=dvaes_power,dvae_spike_exp", f"--log_dir={tmp_path}", "--jobs=1", "--seeds=1"],
        env=environment, stdout=subprocess.PIPE, text=True, cwd=REPO)
    run_dir = runs.run_dir(next(c for c in cells_of("mnist-lin-row") if c.baseline == "dvaes_power"), tmp_path)
    deadline = time.monotonic() + 60
    while not (run_dir / "started").exists():
        assert time.monotonic() < deadline and launcher.poll() is None
        time.sleep(0.1)
    launcher.send_signal(signal.SIGTERM)
    out, _ = launcher.communicate(timeout=60)
    assert launcher.returncode == 143, out
    assert (run_dir / "stopped").read_text() == "SIGTERM" and "Stopped by SIGTERM" in out
    assert fake_run_py.read_text().splitlines() == ["dvae_spike_exp 1 None", "dvaes_power 1 None"]


def test_worker_threads_share_the_cores_only_with_several_workers(monkeypatch):
    for name in local.THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    assert not set(local.THREAD_VARIABLES) & set(local.worker_environment(1))
    many = local.worker_environment(64)
    assert {many[name] for name in local.THREAD_VARIABLES} == {"1"}


def test_commands_file_runs_under_xargs_and_as_an_indexed_job(tmp_path, fake_run_py, capsys):
    """The two ways docs/REPRODUCING.md runs a commands file: `xargs -P` and one line per indexed job."""
    log_dir = tmp_path / "logs"
    status, lines = run_main(["--set=mnist-lin-trend", "--budget=smoke", "--seeds=1,2", f"--log_dir={log_dir}",
                              "--print-commands"], capsys)
    commands = tmp_path / "commands.txt"
    commands.write_text("\n".join(lines) + "\n")
    subprocess.run(f"xargs -P 2 -d '\\n' -I CMD sh -c CMD < {commands}", shell=True, check=True, cwd="/")
    index_job = f'sed -n "$((JOB_COMPLETION_INDEX + 1))p" {commands} | sh'
    for index in range(len(lines)):
        subprocess.run(index_job, shell=True, check=True, env={**os.environ, "JOB_COMPLETION_INDEX": str(index)})
    invocations = fake_run_py.read_text().splitlines()
    assert len(invocations) == 2 * len(lines) == 12
    assert all((runs.run_dir(c, log_dir) / "results.json").exists() for c in cells_of("mnist-lin-trend", (1, 2)))
