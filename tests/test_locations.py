"""Where an installed Footnote finds its seeds and keeps its data, and what the wheel ships."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import locations
from doctor import check_folders

from .conftest import ROOT, SEEDS
from .test_doctor import settings


def test_from_the_checkout_the_seeds_and_data_are_the_checkouts():
    assert locations.source_checkout() == ROOT
    assert locations.bundled_corpus() == SEEDS
    assert locations.default_data_dir() == ROOT / "data"


def test_installed_the_seeds_are_package_data_and_data_goes_to_the_user_data_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(locations, "_HERE", tmp_path / "site-packages")  # where an installed locations.py is
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    assert locations.source_checkout() is None
    corpus = locations.bundled_corpus()
    assert {"catalog.toml", "glossary.toml", "userdict.txt"} <= {p.name for p in corpus.iterdir()}
    assert locations.default_data_dir() == tmp_path / "home" / ".local" / "share" / "footnote"


def test_doctor_says_which_folders_are_in_use_and_why(tmp_path, monkeypatch):
    monkeypatch.delenv("CORPUS_DIR", raising=False)
    monkeypatch.delenv("DATABASE_PATH", raising=False)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    check = check_folders(settings(SEEDS, tmp_path / "data", tmp_path / "data" / "footnote.sqlite3"))
    assert check.detail == (
        f"corpus {SEEDS} (the checkout's seeds/); data {tmp_path / 'data'} (DATA_DIR); "
        f"database {tmp_path / 'data' / 'footnote.sqlite3'} (in the data folder)"
    )
    monkeypatch.setenv("CORPUS_DIR", str(tmp_path / "mine"))
    assert f"corpus {tmp_path / 'mine'} (CORPUS_DIR)" in check_folders(settings(tmp_path / "mine", tmp_path)).detail
    assert "(--corpus)" in check_folders(settings(tmp_path / "other", tmp_path)).detail


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    # From a copy of the sources: setuptools would otherwise reuse (and ship) a stale build/ of the checkout.
    source = out / "source"

    def ignore(folder: str, names: list[str]) -> set[str]:
        top = {"data", "build"} if Path(folder) == ROOT else set()
        return {n for n in names if n.startswith(".") or n in top or n.endswith(".egg-info") or n == "__pycache__"}

    shutil.copytree(ROOT, source, ignore=ignore)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(source)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    [built] = out.glob("footnote-*.whl")
    return built


def test_the_wheel_ships_the_seeds_their_data_and_every_module(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    seeds = {f"seeds/{p.name}" for p in SEEDS.iterdir() if p.suffix in (".txt", ".toml", ".md", ".py")}
    assert seeds <= names and {"seeds/catalog.toml", "seeds/glossary.toml", "seeds/userdict.txt"} <= names
    assert {f"index/data/{p.name}" for p in (ROOT / "index" / "data").glob("*.txt")} <= names
    modules = {
        p.relative_to(ROOT).as_posix() for folder in ("index", "cogs", "store") for p in (ROOT / folder).rglob("*.py")
    }
    assert modules <= names and "locations.py" in names
