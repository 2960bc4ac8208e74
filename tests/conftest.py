"""Shared fixtures: the bundled seeds corpus and one engine over it (built once per test session)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from index.engine import Engine

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
SHARED = ROOT.parent / "shared"

logging.getLogger("jieba").setLevel(logging.WARNING)


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("data")


@pytest.fixture(scope="session")
def engine(data_dir: Path) -> Engine:
    return Engine.open(SEEDS, data_dir)


@pytest.fixture(scope="session")
def analyzer(engine: Engine):
    return engine.analyzer
