"""Installs the DVAE / DVAE++ / DVAE# reproduction: `pip install -e .`"""
import pathlib

from setuptools import setup

REQUIREMENTS = [
    line.strip()
    for line in (pathlib.Path(__file__).parent / "requirements.txt").read_text().splitlines()
    if line.strip() and not line.startswith("#")
]

setup(
    name="dvae-sharp-tf2",
    version="0.1.0",
    description="Open TensorFlow 2 reproduction of DVAE, DVAE++ and DVAE# (discrete VAEs with Boltzmann priors)",
    python_requires=">=3.11",
    packages=["dvae", "smoothing", "samplers", "data", "configs"],
    py_modules=["run", "reproduce"],
    install_requires=REQUIREMENTS,
)
