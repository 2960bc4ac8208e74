"""The index file: one uncompressed .npz holding the postings arrays and a JSON metadata blob.

Plain formats only (numpy arrays and JSON, no pickle). Written to a temporary name in the same folder and
renamed, so a reader never sees half a file. The metadata records the format version and the corpus
fingerprint; a file of another version or built from other documents is rejected, and the caller rebuilds.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from index.errors import IndexFileError

log = logging.getLogger(__name__)

FORMAT_VERSION = 4
_ARRAYS = ("indptr", "doc_ids", "tfs", "doc_len")


@dataclass(frozen=True)
class IndexFile:
    meta: dict[str, Any]
    arrays: dict[str, np.ndarray]


def write_index(path: Path, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    """Atomically write the index to `path` (temp file in the same folder, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    blob = json.dumps({**meta, "format_version": FORMAT_VERSION}, ensure_ascii=False).encode("utf-8")
    handle, temp_name = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as temp:
            np.savez(temp, meta=np.frombuffer(blob, dtype=np.uint8), **{k: arrays[k] for k in _ARRAYS})
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


def read_index(path: Path, expected_fingerprint: str | None = None) -> IndexFile:
    """Read an index file; IndexFileError when missing, corrupt, of another version or another corpus."""
    try:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(data["meta"].tobytes().decode("utf-8"))
            if meta.get("format_version") != FORMAT_VERSION:
                raise IndexFileError(f"{path}: format version {meta.get('format_version')} != {FORMAT_VERSION}")
            if expected_fingerprint is not None and meta.get("fingerprint") != expected_fingerprint:
                raise IndexFileError(f"{path}: built from other documents (corpus changed)")
            arrays = {name: data[name] for name in _ARRAYS}
    except FileNotFoundError as exc:
        raise IndexFileError(f"{path}: no index file yet") from exc
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise IndexFileError(f"{path}: unreadable ({exc})") from exc
    return IndexFile(meta, arrays)
