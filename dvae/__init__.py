"""DVAE, DVAE++ and DVAE#: the model (`dvae_sharp.dvae.model`), the run around it (`dvae_sharp.dvae.runner`) and
their use from Python: `load_run` (dvae/api.py, imported on first use), the SavedModel export and `dvae-plot`."""


def __getattr__(name):
    if name == "load_run":
        from dvae_sharp.dvae.api import load_run
        return load_run
    raise AttributeError(f"module 'dvae_sharp.dvae' has no attribute {name!r}")
