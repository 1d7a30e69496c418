"""The built distributions: a wheel and an sdist build; the wheel adds one name, `dvae_sharp`, to site-packages; and,
installed into a clean virtual environment, it gives working `dvae-run`, `dvae-reproduce` and `dvae-plot` commands and
`dvae_sharp.load_run`, also inside a user's project that has its own `data`, `configs`, `run` and `grid` modules (the
heavy dependencies are taken from this environment through a .pth file, so nothing is downloaded)."""
import pathlib
import site
import subprocess
import sys
import tarfile
import zipfile

import pytest

REPO = pathlib.Path(__file__).resolve().parent.parent
PACKAGES = ("configs", "data", "dvae", "dvae/model", "dvae/runner", "grid", "samplers", "smoothing")
TINY_RUN = ["--dataset=binarized_mnist", "--struct=1-layer-lin", "--baseline=dvaes_power", "--k=1",
            "--num_train_iter=20", "--eval_every=20", "--train_batchsize=20", "--sampler_chains=8",
            "--sampler_sweeps=1", "--ais_num_betas=2", "--ais_num_chains=2", "--val_iw_samples=2",
            "--eval_iw_samples=2", "--eval_batchsize=5000"]
# A user's project whose own modules carry the generic names of the repository's folders.
USER_MODULES = {"data.py": "MINE = 'data'\n", "run.py": "MINE = 'run'\n", "grid.py": "MINE = 'grid'\n",
                "configs/__init__.py": "MINE = 'configs'\n"}
USER_SCRIPT = """
import sys
import configs, data, grid, run
import dvae_sharp
trained = dvae_sharp.load_run(sys.argv[1], data_dir=sys.argv[2])
samples = trained.sample(4, seed=1, num_sweeps=2)
import configs as c2, data as d2, grid as g2, run as r2
assert (c2.MINE, d2.MINE, g2.MINE, r2.MINE) == ("configs", "data", "grid", "run"), "a user module was replaced"
print(dvae_sharp.__file__, dvae_sharp.load_run.__module__, samples.means.shape, trained.step)
"""

pytestmark = pytest.mark.slow


def test_wheel_and_sdist_build_and_the_installed_commands_work(tmp_path, mnist_dir):
    built = subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(tmp_path / "dist"),
                            str(REPO)], capture_output=True, text=True)
    assert built.returncode == 0, built.stderr[-3000:]
    wheel, = (tmp_path / "dist").glob("*.whl")
    sdist, = (tmp_path / "dist").glob("*.tar.gz")
    names = zipfile.ZipFile(wheel).namelist()
    top_level = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert top_level == {"dvae_sharp"}, top_level
    assert {"dvae_sharp/run.py", "dvae_sharp/reproduce.py"} <= set(names)
    assert all(f"dvae_sharp/{package}/__init__.py" in names for package in PACKAGES)
    assert {"constraints.txt", "setup.py", "run.py", "dvae_sharp/__init__.py"} <= {
        n.split("/", 1)[1] for n in tarfile.open(sdist).getnames() if "/" in n}
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    purelib = next(venv.glob("lib/python*/site-packages"))
    (purelib / "dependencies.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
                    str(wheel)], check=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    helped = subprocess.run([str(venv / "bin" / "dvae-run"), "--help"], capture_output=True, text=True,
                            cwd=elsewhere)
    assert helped.returncode == 0 and "--baseline" in helped.stdout and "--seed" in helped.stdout
    listed = subprocess.run([str(venv / "bin" / "dvae-reproduce"), "--set=mnist-lin-row", "--list",
                             f"--log_dir={tmp_path / 'logs'}"], capture_output=True, text=True, cwd=elsewhere)
    assert listed.returncode == 0 and len(listed.stdout.splitlines()) == 13, listed.stderr[-2000:]
    plotted = subprocess.run([str(venv / "bin" / "dvae-plot"), "--help"], capture_output=True, text=True,
                             cwd=elsewhere)
    assert plotted.returncode == 0 and "--out_dir" in plotted.stdout
    project = tmp_path / "user-project"
    for name, text in USER_MODULES.items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(text)
    trained = subprocess.run([str(venv / "bin" / "dvae-run"), *TINY_RUN, f"--log_dir={tmp_path / 'runs'}",
                              f"--data_dir={mnist_dir}"], capture_output=True, text=True, cwd=project)
    assert trained.returncode == 0, trained.stderr[-2000:]
    run_dir = tmp_path / "runs" / "binarized_mnist" / "1-layer-lin" / "dvaes_power" / "1"
    used = subprocess.run([str(venv / "bin" / "python"), "-c", USER_SCRIPT, str(run_dir), str(mnist_dir)],
                          capture_output=True, text=True, cwd=project)
    assert used.returncode == 0, used.stderr[-2000:]
    assert str(purelib / "dvae_sharp") in used.stdout and "dvae_sharp.dvae.api (4, 784) 20" in used.stdout, used.stdout
