"""Fixtures of the launcher tests: a real SLURM cluster (see cluster.py)."""

from tests.launch.cluster import cluster, slurm  # noqa: F401  (fixtures)
