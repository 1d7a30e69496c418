"""The built distributions: a wheel and an sdist build, and the wheel installed into a clean virtual environment
gives working `dvae-run`, `dvae-reproduce` and `dvae-plot` commands and `dvae.load_run` (the heavy dependencies are taken from this environment
through a .pth file, so nothing is downloaded)."""
import pathlib
import site
import subprocess
import sys
import tarfile
import zipfile

import pytest

REPO = pathlib.Path(__file__).resolve().parent.parent
PACKAGES = ("configs", "data", "dvae", "grid", "samplers", "smoothing")

pytestmark = pytest.mark.slow


def test_wheel_and_sdist_build_and_the_installed_commands_work(tmp_path):
    built = subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(tmp_path / "dist"),
                            str(REPO)], capture_output=True, text=True)
    assert built.returncode == 0, built.stderr[-3000:]
    wheel, = (tmp_path / "dist").glob("*.whl")
    sdist, = (tmp_path / "dist").glob("*.tar.gz")
    names = zipfile.ZipFile(wheel).namelist()
    assert {"run.py", "reproduce.py"} <= set(names)
    assert all(any(n.startswith(f"{package}/") for n in names) for package in PACKAGES)
    assert not any(n.startswith("tests/") for n in names)
    assert any(n.endswith("/constraints.txt") for n in tarfile.open(sdist).getnames())
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
    imported = subprocess.run([str(venv / "bin" / "python"), "-c",
                               "import dvae, run, smoothing; print(dvae.__file__, dvae.load_run.__module__)"],
                              capture_output=True, text=True, cwd=elsewhere)
    assert str(purelib) in imported.stdout and "dvae.api" in imported.stdout, imported.stderr[-2000:]
