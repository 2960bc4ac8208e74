"""Index files: one uncompressed .npz holding numpy arrays and a JSON metadata blob, and what an index file holds
(`save` writes a built index as postings, passages as offsets into the documents with their texts in one UTF-8
block, links, and the corpus files' stats; `_from_file` reads it back as `_Built`, its passages a
`StoredPassages` that builds each passage when it is read).

Plain formats only (numpy arrays and JSON, no pickle). Written to a temporary name in the same folder and
renamed, so a reader never sees half a file. The metadata records the format version and the corpus
fingerprint; a file of another version or built from other documents is rejected, and the caller rebuilds.

The same container holds the token cache kept beside an index (`write_arrays` / `read_arrays`): per-document
passages, near-duplicate signatures and token counts, so a rebuild after a small corpus change re-tokenises only
the documents that changed.

A file may also carry a `source_key` (a hash of the corpus files' bytes, the corpus data files, the tokeniser
settings and the code that shapes the index). `read_index(path, source_key=...)` checks it before decoding the
metadata, so an unchanged corpus is recognised without reading and re-analysing its documents; the corpus
files' stats and digests (`FileStats`, `read_file_stats`) let index/sources.py compute that key without reading
the files whose stat did not change.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import struct
import tempfile
import threading
import zipfile
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from index.bm25 import BM25Index, BM25Params
from index.corpus import DocumentInfo, extract
from index.crosslang import Links
from index.errors import CorpusError, IndexFileError
from index.passages import Location, Passage
from index.storeddocuments import StoredDocuments, document_columns
from index.storedpassages import StoredPassages

log = logging.getLogger(__name__)

# 7: passage texts stored (p_text, p_text_ptr); the corpus files' stats (stat_*). 8: the documents as columns.
FORMAT_VERSION = 8
_ARRAYS = ("indptr", "doc_ids", "tfs", "doc_len")
_META = "meta"
_SOURCE_KEY = "source_key"
# The corpus files' stats and content digests when the index was built (FileStats): read on their own, before
# the source key is checked, and left out of `read_arrays`' arrays.
_STAT_PREFIX = "stat_"
_STAT_NAMES, _STAT_NUMBERS, _STAT_DIGESTS, _STAT_TAKEN = "stat_names", "stat_numbers", "stat_digests", "stat_taken"


@dataclass(frozen=True)
class FileStats:
    """What was known of each corpus file when its index was built: its path relative to the corpus folder,
    its stat (size, mtime_ns, ctime_ns, inode) and the sha256 hex digest of its bytes; and when the stats were
    taken (`taken_ns`, wall clock, before the first of them). index/sources.py decides from them which files
    must be hashed again."""

    names: list[str]
    numbers: np.ndarray  # int64, one row (size, mtime_ns, ctime_ns, inode) per name
    digests: list[str]
    taken_ns: int

    def arrays(self) -> dict[str, np.ndarray]:
        names = "\0".join(self.names).encode("utf-8", "surrogateescape")
        digests = "".join(self.digests).encode("ascii")
        return {
            _STAT_NAMES: np.frombuffer(names, dtype=np.uint8),
            _STAT_NUMBERS: np.asarray(self.numbers, dtype=np.int64).reshape(len(self.numbers), 4),
            _STAT_DIGESTS: np.frombuffer(digests, dtype=np.uint8),
            _STAT_TAKEN: np.asarray([self.taken_ns], dtype=np.int64),
        }

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> FileStats:
        raw = arrays[_STAT_NAMES].tobytes().decode("utf-8", "surrogateescape")
        numbers = np.asarray(arrays[_STAT_NUMBERS], dtype=np.int64).reshape(-1, 4)
        names = raw.split("\0") if len(numbers) else []
        digests = arrays[_STAT_DIGESTS].tobytes().decode("ascii")
        if len(names) != len(numbers) or len(digests) != 64 * len(numbers):
            raise ValueError("file stats of different lengths")
        return cls(names, numbers, [digests[i : i + 64] for i in range(0, len(digests), 64)],
                   int(arrays[_STAT_TAKEN][0]))  # fmt: skip


@dataclass(frozen=True)
class IndexFile:
    meta: dict[str, Any]
    arrays: dict[str, np.ndarray]


def write_arrays(path: Path, meta: dict[str, Any], arrays: dict[str, np.ndarray], source_key: str = "") -> None:
    """Atomically write `arrays` and a JSON `meta` blob to `path` (temp file in the same folder, then rename)."""
    if _META in arrays or _SOURCE_KEY in arrays:
        raise ValueError(f"array names {_META!r} and {_SOURCE_KEY!r} are reserved")
    path.parent.mkdir(parents=True, exist_ok=True)
    blob = json.dumps(meta, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    members = {_META: np.frombuffer(blob, dtype=np.uint8), **arrays}
    if source_key:
        members[_SOURCE_KEY] = np.frombuffer(source_key.encode("ascii"), dtype=np.uint8)
    handle, temp_name = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as temp:
            np.savez(temp, **members)
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


def read_arrays(path: Path, source_key: str | None = None, checksums: Checksums | None = None) -> IndexFile:
    """Read a file written by `write_arrays`: its meta and every array. IndexFileError when missing or corrupt,
    or when `source_key` is given and the file was written for other sources (checked before the meta is read).

    Large arrays are memory-mapped, read-only, straight from the (uncompressed) file rather than read: a
    100k-passage index opens without copying its postings, and only the pages a query touches are read. The
    mapping outlives a rebuild, which replaces the file by renaming a new one over it. Every member is checked
    against its CRC-32 (zipfile checks the ones it reads; `_mapped_member` the mapped ones): a damaged file is
    IndexFileError, and the caller rebuilds."""
    try:
        with zipfile.ZipFile(path) as archive, open(path, "rb") as handle:
            members = {info.filename.removesuffix(".npy"): info for info in archive.infolist()}
            if _META not in members:
                raise KeyError(_META)
            if source_key is not None:
                stored = _read_member(archive, members[_SOURCE_KEY]).tobytes() if _SOURCE_KEY in members else b""
                if stored.decode("ascii") != source_key:
                    raise IndexFileError(f"{path}: built from other files (corpus, settings or code changed)")
            meta = _decode_json(_read_member(archive, members[_META]).tobytes())
            if not isinstance(meta, dict):
                raise IndexFileError(f"{path}: unreadable (metadata is not an object)")
            arrays = {}
            for name, info in members.items():
                if name in (_META, _SOURCE_KEY) or name.startswith(_STAT_PREFIX):
                    continue
                mapped = _mapped_member(path, handle, info, checksums)
                arrays[name] = mapped if mapped is not None else _read_member(archive, info)
    except FileNotFoundError as exc:
        raise IndexFileError(f"{path}: no index file yet") from exc
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise IndexFileError(f"{path}: unreadable ({exc})") from exc
    return IndexFile(meta, arrays)


def _decode_json(blob: bytes) -> Any:
    """JSON decoded with the cyclic garbage collector paused: the many lists and dicts decoding makes would
    otherwise trigger collections that walk them all again (a third of the decoding time of a large index's
    metadata). The objects are collected as usual afterwards."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return json.loads(blob.decode("utf-8"))
    finally:
        if enabled:
            gc.enable()


def read_file_stats(path: Path) -> FileStats | None:
    """The corpus files' stats stored in the index file at `path` (FileStats); None when there is no such file,
    it is unreadable or of another format version, or it has none."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = {info.filename.removesuffix(".npy"): info for info in archive.infolist()}
            wanted = (_STAT_NAMES, _STAT_NUMBERS, _STAT_DIGESTS, _STAT_TAKEN)
            if not all(name in members for name in wanted):
                return None
            return FileStats.from_arrays({name: _read_member(archive, members[name]) for name in wanted})
    except (OSError, ValueError, KeyError, IndexError, zipfile.BadZipFile, UnicodeDecodeError):
        return None


_MAP_MIN_BYTES = 1 << 20  # smaller arrays are simply read
_LOCAL_HEADER = struct.Struct("<4s22xHH")  # signature, (version .. uncompressed size), name length, extra length


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> np.ndarray:
    with archive.open(info) as member:
        return np.lib.format.read_array(member, allow_pickle=False)


def _member_layout(handle: BinaryIO, info: zipfile.ZipInfo) -> tuple[int, int, tuple[int, ...], bool, np.dtype]:
    """Where a stored .npy member's bytes start in the file, where its data starts, and its shape, order and
    dtype (ValueError when it is not a plain array of its stated size)."""
    handle.seek(info.header_offset)
    signature, name_length, extra_length = _LOCAL_HEADER.unpack(handle.read(_LOCAL_HEADER.size))
    if signature != b"PK\x03\x04":
        raise ValueError(f"member {info.filename}: bad local header")
    start = info.header_offset + _LOCAL_HEADER.size + name_length + extra_length
    handle.seek(start)
    version = np.lib.format.read_magic(handle)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(handle)
    else:
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(handle)
    offset = handle.tell()
    size = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if dtype.hasobject or offset + size > start + info.file_size:
        raise ValueError(f"member {info.filename}: not a plain array of its stated size")
    return start, offset, shape, fortran, dtype


def _mapped(info: zipfile.ZipInfo) -> bool:
    return info.compress_type == zipfile.ZIP_STORED and info.file_size >= _MAP_MIN_BYTES


def _member_crc(path: Path, start: int, info: zipfile.ZipInfo) -> int:
    # ~70 ms per 100 MB; the pages read are the ones a query would read anyway.
    member = np.memmap(path, dtype=np.uint8, mode="r", offset=start, shape=(info.file_size,))
    try:
        return zlib.crc32(memoryview(member))
    finally:
        del member


def _identity(handle: BinaryIO) -> tuple[int, int, int, int]:
    stat = os.fstat(handle.fileno())
    return (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns)


class Checksums:
    """The CRC-32 of an index file's memory-mapped members, computed in a background thread (zlib releases the
    GIL) while the load does its other work: ~0.5 s over a 1.8 GB index that no longer adds to a load. Results
    apply only to the same file (device, inode, size, mtime); `read_arrays` computes any it lacks itself.
    `cancel()` stops the thread between members (the index is to be rebuilt)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._cancelled = threading.Event()
        self._found: tuple[tuple[int, int, int, int], dict[tuple[str, int], int]] | None = None
        self._thread = threading.Thread(target=self._run, name="index-checksums", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            with open(self._path, "rb") as handle, zipfile.ZipFile(handle) as archive:
                identity = _identity(handle)
                found: dict[tuple[str, int], int] = {}
                for info in archive.infolist():
                    if self._cancelled.is_set():
                        return
                    if _mapped(info):
                        start = _member_layout(handle, info)[0]
                        found[(info.filename, info.header_offset)] = _member_crc(self._path, start, info)
            self._found = (identity, found)
        except (OSError, ValueError, zipfile.BadZipFile):
            return  # the load reads (and reports) the file itself

    def crc(self, identity: tuple[int, int, int, int], info: zipfile.ZipInfo) -> int | None:
        """The CRC-32 of member `info` of the file with this identity, if the thread computed it."""
        self._thread.join()
        if self._found is None or self._found[0] != identity:
            return None
        return self._found[1].get((info.filename, info.header_offset))

    def cancel(self) -> None:
        self._cancelled.set()


def _mapped_member(
    path: Path, handle: BinaryIO, info: zipfile.ZipInfo, checksums: Checksums | None = None
) -> np.ndarray | None:
    """A large stored (uncompressed) .npy member as a read-only view of a memory map of the file; None when it
    is small or compressed."""
    if not _mapped(info):
        return None
    start, offset, shape, fortran, dtype = _member_layout(handle, info)
    if int(np.prod(shape, dtype=np.int64)) == 0:
        return None
    # Integrity: the member's bytes must match the CRC-32 the zip recorded when it was written (a mapped array
    # skips zipfile's own check). Flipped bytes would otherwise be served as postings (IndexError on every
    # matching query, or wrong scores) and never rebuilt.
    crc = checksums.crc(_identity(handle), info) if checksums is not None else None
    if crc is None:
        crc = _member_crc(path, start, info)
    if crc != info.CRC:
        raise ValueError(f"member {info.filename}: checksum mismatch (the file is damaged)")
    mapped = np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=shape, order="F" if fortran else "C")
    return np.asarray(mapped)  # a plain ndarray view; it keeps the map open


def write_index(path: Path, meta: dict[str, Any], arrays: dict[str, np.ndarray], source_key: str = "") -> None:
    """Atomically write the index to `path`: the postings arrays (and any others given) and the metadata."""
    missing = [name for name in _ARRAYS if name not in arrays]
    if missing:
        raise ValueError(f"an index needs the arrays {', '.join(missing)}")
    write_arrays(path, {**meta, "format_version": FORMAT_VERSION}, arrays, source_key)


def read_index(
    path: Path,
    expected_fingerprint: str | None = None,
    *,
    source_key: str | None = None,
    checksums: Checksums | None = None,
) -> IndexFile:
    """Read an index file; IndexFileError when missing, corrupt, of another version or another corpus.
    `checksums`: its members' CRC-32 being computed meanwhile (`Checksums`)."""
    index = read_arrays(path, source_key, checksums)
    meta = index.meta
    if meta.get("format_version") != FORMAT_VERSION:
        raise IndexFileError(f"{path}: format version {meta.get('format_version')} != {FORMAT_VERSION}")
    if expected_fingerprint is not None and meta.get("fingerprint") != expected_fingerprint:
        raise IndexFileError(f"{path}: built from other documents (corpus changed)")
    missing = [name for name in _ARRAYS if name not in index.arrays]
    if missing:
        raise IndexFileError(f"{path}: unreadable (no {', '.join(missing)} array)")
    return index


# -- what an index file holds ------------------------------------------------------------------------------


@dataclass
class _Built:
    documents: Sequence[DocumentInfo]  # a list when built here; a StoredDocuments when read from an index file
    passages: Sequence[Passage]  # a list when built here; a StoredPassages when read from an index file
    bm25: BM25Index
    en_to_zh: PackedLinks
    zh_to_en: PackedLinks
    fingerprint: str
    stats: tuple = ()  # the figures of the build's log line (_BUILT_MESSAGE)
    names: dict[str, dict[str, str]] = field(default_factory=dict)  # index.build.name_tables
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, why) of documents the build could not read


# Links as stored and held: each term's targets as one "target quality target quality ..." string (terms are
# Han words or lowercase English stems, never containing a space), unpacked for the few terms of a question.
# JSON decodes a 100k-passage corpus' links in 0.02 s this way, 0.27 s as nested lists.
PackedLinks = dict[str, str]


def pack_links(links: Links) -> PackedLinks:
    return {term: " ".join(f"{target} {quality:.6g}" for target, quality in targets) for term, targets in links.items()}


def unpack_links(packed: str) -> list[tuple[str, float]]:
    parts = packed.split(" ")
    return [(target, float(quality)) for target, quality in zip(parts[::2], parts[1::2], strict=True)]


def save(
    path: Path,
    built: _Built,
    mode: str,
    *,
    source_key: str = "",
    texts: Mapping[str, str] | None = None,
    file_stats: FileStats | None = None,
) -> None:
    """Write the index (postings, passages as offsets into the documents and their texts, links). A passage's
    text is cut from its document's text in `texts` (by doc_id) when given (a build that kept no passage
    texts), else it is the passage's own. `file_stats` (the corpus files' stats and digests) let a later load
    skip hashing the files that did not change (index/sources.py). The token cache beside it is written by the
    build (`build(keep_analysis=...)`)."""
    bm25 = built.bm25
    doc_index = {doc.doc_id: i for i, doc in enumerate(built.documents)}
    labels: dict[str, int] = {}
    passages = built.passages
    meta = {
        "fingerprint": built.fingerprint,
        "mode": mode,
        "params": vars(bm25.params),
        "vocab": bm25.vocab,
        "documents": document_columns(built.documents),
        "passage_count": len(passages),
        "labels": [],
        "duplicates": {str(p.pid): [list(vars_loc(d)) for d in p.duplicates] for p in passages if p.duplicates},
        "en_to_zh": built.en_to_zh,
        "zh_to_en": built.zh_to_en,
        "names": built.names,
        "skipped": [list(item) for item in built.skipped],
    }
    arrays = {
        "indptr": bm25.indptr,
        "doc_ids": bm25.doc_ids,
        "tfs": bm25.tfs.astype(np.uint16) if len(bm25.tfs) and bm25.tfs.max() < 2**16 else bm25.tfs,
        "doc_len": bm25.doc_len,
        "weights": bm25.weights,
        "max_weight": bm25.max_weight,
        "p_doc": np.fromiter((doc_index[p.doc_id] for p in passages), np.int32, len(passages)),
        "p_paragraph": np.fromiter((p.paragraph for p in passages), np.int32, len(passages)),
        "p_start": np.fromiter((p.start for p in passages), np.int64, len(passages)),
        "p_end": np.fromiter((p.end for p in passages), np.int64, len(passages)),
        "p_label": np.fromiter(
            (-1 if p.label is None else labels.setdefault(p.label, len(labels)) for p in passages),
            np.int32,
            len(passages),
        ),
    }
    meta["labels"] = list(labels)
    # One UTF-8 block of every passage's text, passage i at p_text[p_text_ptr[i]:p_text_ptr[i + 1]] (a
    # bytearray grown in place: a list of the encoded texts joined would hold them twice).
    block = bytearray()
    text_ptr = np.zeros(len(passages) + 1, dtype=np.int64)
    for i, p in enumerate(passages, 1):
        block += (p.text if texts is None else texts[p.doc_id][p.start : p.end]).encode("utf-8", "surrogatepass")
        text_ptr[i] = len(block)
    arrays["p_text"] = np.frombuffer(block, dtype=np.uint8)
    arrays["p_text_ptr"] = text_ptr
    if file_stats is not None:
        arrays.update(file_stats.arrays())
    write_index(path, meta, arrays, source_key)


def _info_fields(info: DocumentInfo) -> dict:
    return {**vars(info), "languages": list(info.languages)}


def vars_loc(location: Location) -> tuple[str, int, int, int]:
    return (location.doc_id, location.paragraph, location.start, location.end)


def _from_file(index_file: IndexFile) -> _Built:
    """The index as stored, its passages a `StoredPassages` (each built when read, its text from the index's
    text block: loading reads no document)."""
    meta, arrays = index_file.meta, index_file.arrays
    bm25 = BM25Index(
        meta["vocab"],
        arrays["indptr"],
        arrays["doc_ids"],
        arrays["tfs"],
        arrays["doc_len"],
        BM25Params(**meta["params"]),
        weights=arrays.get("weights"),
        max_weight=arrays.get("max_weight"),
    )
    try:
        documents = StoredDocuments(meta["documents"])
    except ValueError as exc:
        raise IndexFileError(f"unreadable index ({exc})") from exc
    labels = meta["labels"]
    duplicates = {int(pid): tuple(Location(*d) for d in dups) for pid, dups in meta["duplicates"].items()}
    if "p_text" not in arrays or "p_text_ptr" not in arrays:
        raise IndexFileError("unreadable index (no passage texts)")
    passages = StoredPassages(
        documents.doc_ids,
        arrays["p_doc"],
        arrays["p_paragraph"],
        arrays["p_start"],
        arrays["p_end"],
        arrays["p_label"],
        labels,
        duplicates,
        arrays["p_text"],
        arrays["p_text_ptr"],
    )
    return _Built(
        documents,
        passages,
        bm25,
        meta["en_to_zh"],
        meta["zh_to_en"],
        meta["fingerprint"],
        names=meta.get("names", {}),
        skipped=[(str(path), str(why)) for path, why in meta.get("skipped", [])],
    )


def _read_text(path: Path, data: bytes | None = None, extracted_dir: Path | None = None) -> str:
    """A document's text as its reader extracts it (index.formats)."""
    try:
        return extract(path, data, extracted_dir).text
    except (OSError, CorpusError) as exc:
        raise IndexFileError(f"{path}: cannot read a document of the index ({exc})") from exc


def _document_info(fields: dict) -> DocumentInfo:
    divisions = tuple(tuple(division) for division in fields.get("divisions", ()))
    return DocumentInfo(**{**fields, "languages": tuple(fields["languages"]), "divisions": divisions})


def _decode(blobs: dict[str, bytes], path: str, extracted_dir: Path | None = None) -> str:
    """A document's text from the bytes read for its hash (released once read), else from its file."""
    return _read_text(Path(path), blobs.pop(path, None), extracted_dir)
