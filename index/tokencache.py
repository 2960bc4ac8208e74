"""The token cache beside an index file (`<index>.tokens.npz`): every document's analysis from the last build,
keyed by content, its catalog fields, and the duplicate decisions, so a rebuild after a small corpus change
analyses only the new or changed documents and decides duplicates only where the change can reach."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.analysis import _Analysis
from index.corpus import DocumentInfo
from index.errors import IndexFileError
from index.indexfile import _document_info, read_arrays, write_arrays

log = logging.getLogger(__name__)


TOKEN_CACHE_VERSION = 1


@dataclass(frozen=True)
class CacheKeys:
    """When a token cache may be reused: the same tokeniser (mode, glossary, user dictionary, tokenising code)
    for its token bags; also the same catalog and corpus folder for its documents' catalog fields."""

    tokenizer: str
    catalog: str
    corpus_dir: str


@dataclass
class TokenCache:
    """The analysis of every document of the last build, keyed by content, plus the documents' catalog fields.
    Lives beside the index file (`token_cache_path`)."""

    keys: CacheKeys
    documents: list[dict]  # {"info": DocumentInfo fields, "body_start": int}, in analysis order
    analysis: _Analysis
    # The last build's duplicate decisions (per row: KEPT, SKIPPED or the row it duplicates, rows of this
    # analysis) and each document's place in that build's corpus order: a rebuild decides only what changed.
    decisions: np.ndarray | None = None
    ranks: np.ndarray | None = None

    def rows_by_content(self) -> dict[tuple[str, int], int]:
        return {(d["info"]["fingerprint"], d["body_start"]): i for i, d in enumerate(self.documents)}

    def infos(self) -> dict[str, tuple[DocumentInfo, int]]:
        return {d["info"]["doc_id"]: (_document_info(d["info"]), d["body_start"]) for d in self.documents}

    def save(self, path: Path) -> None:
        meta = {
            "version": TOKEN_CACHE_VERSION,
            "keys": vars(self.keys),
            "documents": self.documents,
            "labels": self.analysis.labels,
            "terms": self.analysis.terms,
        }
        arrays = self.analysis.arrays()
        if self.decisions is not None and self.ranks is not None:
            arrays |= {"decisions": self.decisions.astype(np.int64), "ranks": self.ranks.astype(np.int64)}
        write_arrays(path, meta, arrays)

    @classmethod
    def load(cls, path: Path, keys: CacheKeys) -> TokenCache | None:
        """The cache at `path` if it was made by the same tokeniser; None otherwise (a build then analyses
        every document)."""
        try:
            stored = read_arrays(path)
            meta = stored.meta
            if meta.get("version") != TOKEN_CACHE_VERSION or meta.get("keys", {}).get("tokenizer") != keys.tokenizer:
                log.info("token cache %s is for another tokeniser; not used", path)
                return None
            analysis = _Analysis.from_arrays(stored.arrays, meta["labels"], meta["terms"])
            if analysis.n_docs != len(meta["documents"]):
                raise IndexFileError(f"{path}: unreadable (document count mismatch)")
            decisions, ranks = stored.arrays.get("decisions"), stored.arrays.get("ranks")
            if (
                decisions is None
                or ranks is None
                or len(decisions) != len(analysis.key_len)
                or len(ranks) != analysis.n_docs
            ):
                decisions = ranks = None
            return cls(CacheKeys(**meta["keys"]), meta["documents"], analysis, decisions, ranks)
        except IndexFileError as exc:
            log.info("no token cache: %s", exc)
        except (KeyError, TypeError) as exc:
            log.info("token cache %s unreadable (%s); not used", path, exc)
        return None


def token_cache_path(index_file: Path) -> Path:
    return index_file.with_name(index_file.stem + ".tokens.npz")
