"""Zip containers (.docx, .epub): refuse archives that are not zips, are damaged, or would expand too far."""

from __future__ import annotations

import io
import zipfile

from index.errors import CorpusError
from index.formats import MAX_UNZIPPED_BYTES, MAX_ZIP_RATIO, MB, describe


def open_zip(name: str, fmt: str, data: bytes, required: str) -> zipfile.ZipFile:
    """The archive, once its declared sizes are within the limits and it holds `required` (a member name)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise CorpusError(f"{name}: not a readable {describe(fmt)} (damaged zip archive: {exc})") from None
    total = sum(member.file_size for member in members)
    if total > MAX_UNZIPPED_BYTES:
        raise CorpusError(
            f"{name}: refused, it would expand to {total / MB:,.0f} MB (more than {MAX_UNZIPPED_BYTES // MB} MB): "
            "a zip bomb, or not a real document"
        )
    for member in members:
        if member.file_size > MB and member.file_size > MAX_ZIP_RATIO * max(1, member.compress_size):
            raise CorpusError(
                f"{name}: refused, {member.filename} expands {member.file_size // max(1, member.compress_size):,}"
                f" times ({member.file_size / MB:,.0f} MB): a zip bomb, or not a real document"
            )
    if required not in archive.namelist():
        raise CorpusError(f"{name}: not a {describe(fmt)} (a zip archive without {required})")
    return archive


def read_member(name: str, archive: zipfile.ZipFile, member: str) -> bytes:
    try:
        return archive.read(member)
    except (zipfile.BadZipFile, OSError, ValueError, KeyError, EOFError) as exc:
        raise CorpusError(f"{name}: damaged archive, cannot read {member} ({exc})") from None
