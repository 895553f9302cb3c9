"""Tracker tests work in their own folder: MLflow puts artefacts in ./mlruns by default."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _in_tmp_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
