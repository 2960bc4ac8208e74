"""Ragged arrays as numpy offset tables: the helpers the build's array code shares (a document's passage rows,
a passage's token bag: `ptr[i]:ptr[i+1]`)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def concat(arrays: Sequence[np.ndarray], dtype: type, tail: tuple[int, ...] = ()) -> np.ndarray:
    return np.concatenate(arrays).astype(dtype, copy=False) if arrays else np.zeros((0, *tail), dtype=dtype)


def offsets(sizes: Sequence[np.ndarray]) -> np.ndarray:
    ptr = np.zeros(sum(len(s) for s in sizes) + 1, dtype=np.int64)
    if len(ptr) > 1:
        np.cumsum(np.concatenate(sizes), out=ptr[1:])
    return ptr


def ranges(starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """Concatenation of arange(start, stop) for each pair, vectorised (int32 when the values allow)."""
    sizes = (stops - starts).astype(np.int64)
    total = int(sizes.sum())
    if not total:
        return np.zeros(0, dtype=np.int64)
    dtype = np.int32 if int(stops.max()) < 2**31 else np.int64
    ends = np.cumsum(sizes)
    result = np.arange(total, dtype=dtype)
    result += np.repeat((starts.astype(np.int64) - (ends - sizes)).astype(dtype), sizes)
    return result
