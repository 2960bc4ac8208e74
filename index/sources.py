"""What an index of a corpus folder is made from, and so when a stored one is current: where the index file
lives (`index_path`), the corpus files' bytes, the catalog, glossary and user dictionary, the tokeniser settings,
and a digest of the code that shapes the index (`_source_key`, `tokenizer_key`), read once per open (`_Sources`).

Hashing every corpus file on every load cost ~9 s at 131k files. An index file therefore keeps each file's stat
(size, mtime_ns, ctime_ns, inode) and content digest as they were when it was built (`FileStats`); a load
trusts the stored digest of a file whose stat is unchanged and reads and hashes only the others. The source
key is the same hash over the same digests either way, so an added, removed or renamed file changes it as
before, and a file whose stat changed but whose bytes did not (touched, copied back) leaves it unchanged.

The limit of any stat check is a file rewritten with the same size within one tick of the file system's clock
after its stat was taken: its stat is unchanged. As git does with "racy" index entries, a file whose mtime or
ctime is not at least `RACY_NS` (2 s) older than the moment its stats were taken is never trusted: it is
hashed on every load. (A same-size edit whose mtime is put back, `touch -r`, still changes the ctime, which
nothing but the kernel sets.) Builds trust nothing (`trust_stats=False`): they read every file anyway."""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import opencc

from index.analysis import TokenizerSpec
from index.corpus import document_names, read_data_file
from index.errors import CorpusError
from index.formats import FORMAT_CODE
from index.glossary import Glossary
from index.indexfile import FORMAT_VERSION, FileStats, read_file_stats
from index.passages import MAX_PASSAGE_CHARS
from index.tokencache import TOKEN_CACHE_VERSION
from index.tokenize import DEFAULT_SEGMENTER, segmenter_version

log = logging.getLogger(__name__)

# A file changed this close to when its stat was taken may have been changed again within the same clock tick
# (Linux file times advance by the kernel's tick, some file systems' by seconds): it is always hashed.
RACY_NS = 2_000_000_000


def _writable(folder: Path) -> bool:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / ".write-probe"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError:
        return False
    return True


def index_path(corpus_dir: Path, data_dir: Path) -> Path:
    """One index file per corpus folder inside the data folder."""
    key = hashlib.sha256(str(corpus_dir.resolve()).encode()).hexdigest()[:10]
    return data_dir / "index" / f"{corpus_dir.name or 'corpus'}-{key}.npz"


# The code whose behaviour shapes the index: a change to any of it invalidates index files and token caches
# (ranking.py: its BM25 parameters; indexfile.py: what an index keeps; build.py: the name tables it builds).
_INDEX_CODE = (
    "corpus.py", "passages.py", "duplicates.py", "tokenize.py", "normalize.py", "glossary.py", "crosslang.py",
    "romanize.py", "aliases.py", "build.py", "bm25.py", "ranking.py", "indexfile.py", "storeddocuments.py",
    "analysis.py", *FORMAT_CODE,
)  # fmt: skip
# analysis.py is hashed whole (it holds only the analysis of documents: passage_terms and the analysis arrays);
# hashing the source of two of its functions with inspect cost a cold start ~30 ms of tokenizing engine code.
_TOKEN_CODE = ("passages.py", "duplicates.py", "tokenize.py", "normalize.py", "glossary.py", "analysis.py")


@dataclass
class _Sources:
    """What an index of a corpus folder is made from, read once by Engine.open."""

    corpus_dir: Path
    glossary: Glossary
    spec: TokenizerSpec
    extra: list[bytes]
    names: list[str]  # the document files, relative to corpus_dir ("/"-separated), in corpus order
    source_key: str
    digests: list[str]  # each file's content digest (sha256 hex of its bytes), as `names`
    blobs: dict[str, bytes]  # the bytes of the files read (not those trusted by their stat), by path string
    index_file: Path | None
    file_stats: FileStats | None = None  # what an index built from these sources records (None: nothing readable)
    trusted: int = 0  # how many files' digests were taken from the index file's stats rather than hashed
    mode: str = "search"
    data_dir: Path | None = None

    @functools.cached_property
    def files(self) -> list[Path]:
        """The document files' paths (made only when wanted: a load that finds its index current needs none)."""
        return [self.corpus_dir.joinpath(name) for name in self.names]

    @functools.cached_property
    def contents(self) -> dict[Path, str]:
        """Each document file's content digest, by path."""
        return dict(zip(self.files, self.digests, strict=True))

    @property
    def size(self) -> int:
        """The corpus files' total size in bytes."""
        if self.file_stats is None:
            return sum(len(blob) for blob in self.blobs.values())
        return int(self.file_stats.numbers[:, 0].sum())

    def untrusted(self) -> _Sources:
        """These sources with every file read and hashed (for a build, which must read what it hashed)."""
        if not self.trusted:
            return self
        return _Sources.read(self.corpus_dir, self.data_dir, self.mode, trust_stats=False)

    @property
    def extracted_dir(self) -> Path | None:
        """Where the text extracted from PDF, HTML, .docx and EPUB documents is kept (a writable data folder)."""
        return Path(self.spec.cache_dir) / "extracted" if self.spec.cache_dir is not None else None

    @classmethod
    def read(cls, corpus_dir: Path, data_dir: Path | None, mode: str, *, trust_stats: bool = True) -> _Sources:
        """The sources; with `trust_stats`, a file whose stat matches the one the index file recorded is not
        read, its recorded digest is used (see the module docstring)."""
        corpus_dir = corpus_dir.resolve()
        spec = _tokenizer_spec(corpus_dir, data_dir, mode)
        glossary = spec.glossary
        userdict = corpus_dir / "userdict.txt"
        extra = [
            mode.encode(),
            (read_data_file(corpus_dir / "glossary.toml", quiet=True) or b"") if len(glossary) else b"",
        ]
        if userdict.exists():
            extra.append(read_data_file(userdict, quiet=True) or b"")
        names = document_names(corpus_dir)
        index_file = index_path(corpus_dir, data_dir) if data_dir is not None else None
        known = read_file_stats(index_file) if trust_stats and index_file is not None else None
        source_key, digests, blobs, file_stats, trusted = _source_key(corpus_dir, names, extra, known)
        if known is not None:
            log.debug("source key: %d of %d files trusted by their stat", trusted, len(names))
        return cls(corpus_dir, glossary, spec, extra, names, source_key, digests, blobs, index_file,
                   file_stats, trusted, mode, data_dir)  # fmt: skip


def index_source_key(corpus_dir: Path, data_dir: Path | None, mode: str = "search") -> str:
    """The source key an index of `corpus_dir` must carry for Engine.open to use it as it is (reads and hashes
    the corpus files whose stat differs from the index file's record; builds nothing)."""
    return _Sources.read(corpus_dir, data_dir, mode).source_key


def _tokenizer_spec(corpus_dir: Path, data_dir: Path | None, mode: str) -> TokenizerSpec:
    """How a corpus folder is tokenised: its glossary and user dictionary, jieba's cache in the data folder."""
    if not corpus_dir.is_dir():
        raise CorpusError(f"corpus folder not found: {corpus_dir}")
    userdict = corpus_dir / "userdict.txt"
    cache_dir = data_dir if data_dir is not None and _writable(data_dir) else None
    return TokenizerSpec(
        mode,
        (str(userdict),) if userdict.exists() else (),
        str(cache_dir) if cache_dir is not None else None,
        Glossary.load(corpus_dir / "glossary.toml"),
    )


# -- what an index depends on ----------------------------------------------------------------------------


def _code_digest(names: Sequence[str]) -> bytes:
    digest = hashlib.sha256()
    package = Path(__file__).parent
    for name in names:
        digest.update(name.encode())
        digest.update((package / name).read_bytes())
    for data in sorted((package / "data").glob("*.txt")):
        digest.update(data.read_bytes())
    digest.update(f"{DEFAULT_SEGMENTER} {segmenter_version(DEFAULT_SEGMENTER)} {opencc.__version__}".encode())
    return digest.digest()


def tokenizer_key(extra: Sequence[bytes]) -> str:
    """What the token cache depends on: tokeniser mode, glossary, user dictionary and the tokenising code."""
    digest = hashlib.sha256(f"tokens {TOKEN_CACHE_VERSION} {MAX_PASSAGE_CHARS}".encode())
    digest.update(_code_digest(_TOKEN_CODE))
    for blob in extra:
        digest.update(hashlib.sha256(blob).digest())
    return digest.hexdigest()[:24]


def _source_key(
    corpus_dir: Path, names: Sequence[str], extra: Sequence[bytes], known: FileStats | None = None
) -> tuple[str, list[str], dict[str, bytes], FileStats, int]:
    """A hash over everything an index of `corpus_dir` is made from: each document file's path (`names`, relative
    to `corpus_dir`) and bytes, the catalog, glossary, user dictionary, tokeniser mode, the index format and the
    code that shapes it. Also returns each file's content digest (sha256 hex of its bytes, which is a
    document's fingerprint; as `names`) and the bytes of the files read (by path string), so the documents are
    read once; the files' stats and digests to record in an index (FileStats); and how many files were
    trusted. A file whose current stat equals its stat in `known` (and is not racy there) is not read: its
    digest is taken from `known`."""
    taken_ns = time.time_ns()  # before the first stat: a file changed after its stat has a later mtime/ctime
    prefix = str(corpus_dir).rstrip(os.sep) + os.sep
    count = len(names)
    digests: list[str | None] = [None] * count
    numbers = np.full((count, 4), -1, dtype=np.int64)
    if known is not None and count:
        numbers[:] = _stats(prefix, names)
        if known.names == names:  # the usual case: the same files as at the build
            rows = np.arange(count)
        else:
            row_of = {name: row for row, name in enumerate(known.names)}
            rows = np.fromiter((row_of.get(name, -1) for name in names), np.int64, count)
        recorded = known.numbers[np.maximum(rows, 0)] if len(known.numbers) else np.full((count, 4), -2, np.int64)
        racy_after = known.taken_ns - RACY_NS
        trusted_mask = (
            (rows >= 0)
            & (numbers[:, 0] >= 0)
            & (numbers == recorded).all(axis=1)
            & (recorded[:, 1] < racy_after)
            & (recorded[:, 2] < racy_after)
        )
        known_digests = known.digests
        digests = [
            known_digests[row] if trust else None
            for row, trust in zip(rows.tolist(), trusted_mask.tolist(), strict=True)
        ]
    readable = np.ones(count, dtype=bool)
    blobs: dict[str, bytes] = {}
    trusted = count
    for i, name in enumerate(names):
        if digests[i] is not None:
            continue
        trusted -= 1
        path = prefix + name
        try:
            with open(path, "rb") as handle:  # plain open: pathlib costs more than the read for small files
                numbers[i] = _stat_numbers(os.fstat(handle.fileno()))  # before the read: see taken_ns
                blobs[path] = handle.read()
            digests[i] = hashlib.sha256(blobs[path]).hexdigest()
        except OSError as exc:
            digests[i] = f"unreadable: {exc}"
            readable[i] = False
    done: list[str] = digests  # type: ignore[assignment]  # every entry is set above
    digest = hashlib.sha256(f"index {FORMAT_VERSION}".encode())
    digest.update(_code_digest(_INDEX_CODE))
    for blob in extra:
        digest.update(hashlib.sha256(blob).digest())
    digest.update(hashlib.sha256(read_data_file(corpus_dir / "catalog.toml", quiet=True) or b"").digest())
    # One update of the joined records hashes the same bytes as one update per file, without 131k calls.
    digest.update("".join(f"{name}\0{content}\0" for name, content in zip(names, done, strict=True)).encode())
    if readable.all():
        stats = FileStats(list(names), numbers, done, taken_ns)
    else:
        keep = np.flatnonzero(readable).tolist()
        stats = FileStats([names[i] for i in keep], numbers[keep], [done[i] for i in keep], taken_ns)
    return digest.hexdigest()[:24], done, blobs, stats, trusted


def _stats(prefix: str, names: Sequence[str]) -> list[tuple[int, int, int, int]]:
    """Each file's (size, mtime_ns, ctime_ns, inode); (-1, -1, -1, -1) for a file that cannot be stat'ed."""
    stat = os.stat
    found: list[tuple[int, int, int, int]] = []
    append = found.append
    for name in names:
        try:
            result = stat(prefix + name)
        except OSError:
            append((-1, -1, -1, -1))
            continue
        append((result.st_size, result.st_mtime_ns, result.st_ctime_ns, result.st_ino))
    return found


def _stat_numbers(stat: os.stat_result) -> tuple[int, int, int, int]:
    return (stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino)


def _relative(corpus_dir: Path, name: str) -> str:
    """`Path(name).relative_to(corpus_dir).as_posix()` for a file found under `corpus_dir` (string slicing:
    pathlib's costs 0.4 s over 14k files)."""
    prefix = str(corpus_dir).rstrip(os.sep) + os.sep
    if not name.startswith(prefix):
        return Path(name).relative_to(corpus_dir).as_posix()
    return name[len(prefix) :].replace(os.sep, "/")


def _catalog_key(corpus_dir: Path) -> str:
    return hashlib.sha256(read_data_file(corpus_dir / "catalog.toml", quiet=True) or b"").hexdigest()[:24]
