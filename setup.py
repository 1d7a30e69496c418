"""Build shim: the project's metadata and layout are in pyproject.toml, which `pip install .` and `python -m build`
read; this file lets tools that call `setup.py` directly build the same distributions."""
from setuptools import setup

setup()
