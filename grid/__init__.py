"""Grids of runs: cells as run.py commands, the local and Slurm launchers, tables, figures and docs/RESULTS.md."""
