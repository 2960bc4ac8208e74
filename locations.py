"""Where Footnote's files are: the bundled corpus and the data folder, from a source checkout or once installed.

From a source checkout (this file beside pyproject.toml and seeds/, as an editable install runs it) the bundled
corpus is the checkout's seeds/ and the data folder is the checkout's data/, as they always were. Installed
(`pip install .`, pipx, a wheel) the seeds, with their catalog, glossary and user dictionary, are package data of
the `seeds` package (importlib.resources), and the data folder is the platform's user data folder (platformdirs:
~/.local/share/footnote on Linux), because site-packages is neither the user's nor writable. CORPUS_DIR,
DATA_DIR and DATABASE_PATH override each; `footnote doctor` says which folders are in use and why.
"""

from __future__ import annotations

import importlib.resources
import os
from dataclasses import dataclass
from pathlib import Path

APP_NAME = "footnote"
_HERE = Path(__file__).resolve().parent


def source_checkout() -> Path | None:
    """The source checkout Footnote runs from, or None when it runs installed."""
    if (_HERE / "pyproject.toml").is_file() and (_HERE / "seeds").is_dir():
        return _HERE
    return None


def bundled_corpus() -> Path:
    """The seeds corpus: the checkout's seeds/, else the installed `seeds` package's folder."""
    checkout = source_checkout()
    if checkout is not None:
        return checkout / "seeds"
    return Path(str(importlib.resources.files("seeds")))


def default_data_dir() -> Path:
    """The checkout's data/, else the platform's user data folder for Footnote."""
    checkout = source_checkout()
    if checkout is not None:
        return checkout / "data"
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


@dataclass(frozen=True)
class Folders:
    """The folders in use, each with why it is that one (for `footnote doctor`)."""

    corpus: Path
    corpus_why: str
    data: Path
    data_why: str
    database: Path
    database_why: str

    def describe(self) -> str:
        return (
            f"corpus {self.corpus} ({self.corpus_why}); data {self.data} ({self.data_why}); "
            f"database {self.database} ({self.database_why})"
        )


def _same(a: Path, b: Path) -> bool:
    return a.expanduser().resolve() == b.expanduser().resolve()


def folders_in_use(corpus: Path, data: Path, database: Path) -> Folders:
    """Why each folder is the one in use: the default for a checkout or an install, a variable, or --corpus."""
    installed = source_checkout() is None
    if _same(corpus, bundled_corpus()):
        corpus_why = "the bundled seeds, installed as package data" if installed else "the checkout's seeds/"
    elif os.environ.get("CORPUS_DIR") and _same(corpus, Path(os.environ["CORPUS_DIR"])):
        corpus_why = "CORPUS_DIR"
    else:
        corpus_why = "--corpus"
    if os.environ.get("DATA_DIR"):
        data_why = "DATA_DIR"
    else:
        data_why = "the user data folder, as installed" if installed else "the checkout's data/"
    database_why = "DATABASE_PATH" if os.environ.get("DATABASE_PATH") else "in the data folder"
    return Folders(corpus, corpus_why, data, data_why, database, database_why)
