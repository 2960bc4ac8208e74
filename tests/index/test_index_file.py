import shutil

import numpy as np
import pytest

from index.engine import Engine
from index.errors import IndexFileError
from index.indexfile import read_index, write_index
from index.sources import index_path

from ..conftest import SEEDS


@pytest.fixture
def corpus(tmp_path):
    folder = tmp_path / "corpus"
    shutil.copytree(SEEDS, folder)
    return folder


def test_save_load_and_stale_rebuild(corpus, tmp_path):
    data = tmp_path / "data"
    first = Engine.open(corpus, data)
    path = index_path(corpus, data)
    assert path.exists()
    meta = read_index(path).meta
    assert meta["fingerprint"] == first.version and meta["format_version"] >= 1
    assert not list(path.parent.glob("*.tmp"))

    second = Engine.open(corpus, data)  # loaded, not rebuilt: same passages and same scores
    assert [p.text for p in second.passages] == [p.text for p in first.passages]
    query = first.analyze("GPT-5.2 错误率")
    np.testing.assert_allclose(second.scores(query), first.scores(query))

    (corpus / "2026-01-01-new.txt").write_text("全新的文档:英伟达发布了新的芯片 Rubin。\n", encoding="utf-8")
    third = Engine.open(corpus, data)
    assert third.version != first.version
    assert any("Rubin" in p.text for p in third.passages)
    assert read_index(path).meta["fingerprint"] == third.version


def test_read_index_rejects_other_corpus_and_garbage(tmp_path):
    path = tmp_path / "i.npz"
    arrays = {k: np.zeros(1, dtype=np.int32) for k in ("indptr", "doc_ids", "tfs", "doc_len")}
    write_index(path, {"fingerprint": "abc"}, arrays)
    assert read_index(path, "abc").meta["fingerprint"] == "abc"
    with pytest.raises(IndexFileError, match="other documents"):
        read_index(path, "xyz")
    path.write_bytes(b"not an npz")
    with pytest.raises(IndexFileError, match="unreadable"):
        read_index(path)
    with pytest.raises(IndexFileError):
        read_index(tmp_path / "missing.npz")


def test_corrupt_index_is_rebuilt(corpus, tmp_path):
    data = tmp_path / "data"
    engine = Engine.open(corpus, data)
    index_path(corpus, data).write_bytes(b"\x00garbage")
    again = Engine.open(corpus, data)
    assert len(again.passages) == len(engine.passages)


def test_unwritable_data_folder_still_answers(corpus, tmp_path, caplog):
    # A data folder that cannot be created (its parent is a file): chmod would not stop root, this does.
    blocker = tmp_path / "blocker"
    blocker.write_text("")
    engine = Engine.open(corpus, blocker / "data")
    assert not engine.ask("Sora 留存率").abstained
    assert "could not save the index" in caplog.text


def test_large_arrays_are_memory_mapped_and_survive_a_rebuild_renamed_over_them(tmp_path):
    path = tmp_path / "index.npz"
    big = np.arange(600_000, dtype=np.int32)  # 2.4 MB: mapped; the small ones are read
    small = np.array([3, 1, 2], dtype=np.int64)
    arrays = {"indptr": small, "doc_ids": big, "tfs": big.astype(np.uint16), "doc_len": small}
    write_index(path, {"fingerprint": "a"}, arrays)
    loaded = read_index(path).arrays
    assert isinstance(loaded["doc_ids"].base, np.memmap) and not loaded["doc_ids"].flags.writeable
    assert not isinstance(loaded["indptr"].base, np.memmap)
    for name, array in arrays.items():
        np.testing.assert_array_equal(loaded[name], array)
        assert loaded[name].dtype == array.dtype
    # A new index written to a temp name and renamed over the file does not change the arrays in use.
    write_index(path, {"fingerprint": "b"}, {**arrays, "doc_ids": big[::-1].copy()})
    np.testing.assert_array_equal(loaded["doc_ids"], big)
    np.testing.assert_array_equal(read_index(path).arrays["doc_ids"], big[::-1])


def test_truncated_index_is_unreadable_not_a_crash(tmp_path):
    path = tmp_path / "index.npz"
    big = np.arange(600_000, dtype=np.int32)
    write_index(path, {"fingerprint": "a"}, {"indptr": big, "doc_ids": big, "tfs": big, "doc_len": big})
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(IndexFileError):
        read_index(path)


@pytest.mark.parametrize("member", ["doc_ids", "tfs", "indptr"])
def test_a_mapped_array_with_flipped_bytes_is_detected_and_rebuilt(corpus, tmp_path, monkeypatch, caplog, member):
    """Issue 14, point 4: flipped bytes in a memory-mapped postings array raised IndexError on every matching
    query, and the file was never rebuilt. Every member is now checked against its zip CRC-32 at load."""
    import logging
    import zipfile

    import index.indexfile

    monkeypatch.setattr(index.indexfile, "_MAP_MIN_BYTES", 1)  # map the seeds' small arrays as a big index's
    data = tmp_path / "data"
    good = Engine.open(corpus, data)
    expected = [r.passage.pid for r in good.ask("GPT-5.2 错误率", k=5).results]
    path = index_path(corpus, data)
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(f"{member}.npy")
    raw = bytearray(path.read_bytes())
    data_end = info.header_offset + 30 + len(info.filename) + len(info.extra) + info.file_size
    for offset in range(data_end - 64, data_end, 3):  # the array's last bytes, past its .npy header
        raw[offset] ^= 0xFF
    path.write_bytes(bytes(raw))

    caplog.set_level(logging.INFO)
    reopened = Engine.open(corpus, data)
    assert "checksum mismatch" in caplog.text
    assert [r.passage.pid for r in reopened.ask("GPT-5.2 错误率", k=5).results] == expected
    read_index(path)  # the rebuilt file is whole again


def test_checksums_computed_meanwhile_apply_only_to_the_file_they_were_computed_on(corpus, tmp_path, monkeypatch):
    """A load computes the mapped members' CRC-32 in a thread while it checks the corpus (index.indexfile
    Checksums). If the file is replaced meanwhile (a rebuild renames a new file over it), those checksums are
    not used: a damaged replacement is still refused."""
    import os
    import zipfile

    import index.indexfile
    from index.indexfile import Checksums

    monkeypatch.setattr(index.indexfile, "_MAP_MIN_BYTES", 1)
    data = tmp_path / "data"
    Engine.open(corpus, data)
    path = index_path(corpus, data)
    checksums = Checksums(path)
    read_index(path, checksums=checksums)  # the good file, its checksums from the thread
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("doc_ids.npy")
    raw = bytearray(path.read_bytes())
    data_end = info.header_offset + 30 + len(info.filename) + len(info.extra) + info.file_size
    raw[data_end - 5] ^= 0xFF
    damaged = path.with_name("damaged.tmp")
    damaged.write_bytes(bytes(raw))
    os.replace(damaged, path)  # another inode, the same name
    with pytest.raises(IndexFileError, match="checksum mismatch"):
        read_index(path, checksums=checksums)
