"""DVAE, DVAE++ and DVAE# in TensorFlow 2: the project's one importable name.

    import dvae_sharp
    run = dvae_sharp.load_run("logs/make-run/binarized_mnist/1-layer-lin/dvaes_power/1")

Its subpackages are the repository's top-level folders: `dvae_sharp.dvae` (`.model`: networks, relaxations, priors,
objectives, evaluation; `.runner`: experiment, trainer, run files, interrupts, summaries, progress, provenance),
`dvae_sharp.smoothing`, `dvae_sharp.samplers`, `dvae_sharp.data`, `dvae_sharp.configs` and `dvae_sharp.grid`, plus the
commands `dvae_sharp.run` and `dvae_sharp.reproduce`. The wheel installs them inside this package, so installing the
project adds this one name to site-packages and a user's own `data`, `configs` or `run` module shadows nothing of
ours. In a checkout they stay where the layout puts them, beside this folder, and are found through it: the folder
above is appended to this package's search path when it is this project's checkout.

`load_run` is imported on first use, so `import dvae_sharp` alone loads neither TensorFlow nor the data.
"""
import pathlib

_CHECKOUT = pathlib.Path(__file__).resolve().parent.parent
if (_CHECKOUT / "setup.py").is_file() and (_CHECKOUT / "dvae" / "__init__.py").is_file():
    __path__.append(str(_CHECKOUT))


def __getattr__(name):
    if name == "load_run":
        from dvae_sharp.dvae.api import load_run
        return load_run
    raise AttributeError(f"module 'dvae_sharp' has no attribute {name!r}")
