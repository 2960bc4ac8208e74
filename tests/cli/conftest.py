"""Shared by the CLI tests: the environment a `footnote` subprocess runs with."""

import os

import pytest

from ..conftest import SEEDS


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """The seeds corpus, a fresh data folder per test module, no Discord token, quiet logs."""
    data = tmp_path_factory.mktemp("cli-data")
    environment = {**os.environ, "DATA_DIR": str(data), "CORPUS_DIR": str(SEEDS), "LOG_LEVEL": "WARNING"}
    environment.pop("DISCORD_TOKEN", None)
    return environment
