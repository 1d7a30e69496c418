"""DVAE, DVAE++ and DVAE#: the model, its training and evaluation. `dvae.load_run(run_dir)` loads a trained run
(dvae/api.py); it is imported on first use, so that `import dvae` alone loads neither TensorFlow nor the data."""


def __getattr__(name):
    if name == "load_run":
        from dvae.api import load_run
        return load_run
    raise AttributeError(f"module 'dvae' has no attribute {name!r}")
