"""MurmurHash3 (x86, 32 bits) of many strings at once, in numpy.

A hashed feature's column is `abs(murmurhash3_32(text, seed=0))` of scikit-learn, the
hash the models were trained with. Called once per string it costs a Python call and an
encoding, and the new words of a batch bring a hundred thousand character n-grams. Here
they are hashed together: the UTF-8 bytes of all of them in one array, every slice's
next four-byte block read at once (its last one cut to the slice's own bytes), the same
arithmetic on all of them, block after block. The hashes are scikit-learn's bit for bit
(tests/test_features.py); a lone surrogate raises `UnicodeEncodeError` as it does there.
"""

from __future__ import annotations

import numpy as np

_C1 = np.uint32(0xCC9E2D51)
_C2 = np.uint32(0x1B873593)
_BYTES = np.array([0, 0xFF, 0xFFFF, 0xFFFFFF, 0xFFFFFFFF], dtype=np.uint32)  # the first n bytes of a block


def utf8(text: str) -> tuple[np.ndarray, np.ndarray]:
    """The UTF-8 bytes of `text` and where each of its characters starts among them,
    with the end appended (so character i is bytes[at[i]:at[i + 1]])."""
    data = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    starts = np.flatnonzero((data & 0xC0) != 0x80)  # not a continuation byte
    return data, np.append(starts, len(data))


def murmurhash3_32(data: np.ndarray, starts: np.ndarray, stops: np.ndarray, seed: int = 0) -> np.ndarray:
    """Signed 32-bit MurmurHash3 of each slice `data[start:stop]` (int32, one per slice)."""
    starts = np.asarray(starts, dtype=np.int64)
    lengths = np.asarray(stops, dtype=np.int64) - starts
    # The four bytes from each position as a little-endian uint32 (zeros past the end).
    wide = np.concatenate([data, np.zeros(3, dtype=np.uint8)]).astype(np.uint32)
    quads = wide[:-3] | wide[1:-2] << np.uint32(8) | wide[2:-1] << np.uint32(16) | wide[3:] << np.uint32(24)
    h = np.full(len(lengths), seed, dtype=np.uint32)
    for b in range(0, int(lengths.max(initial=0)), 4):
        at = np.flatnonzero(lengths > b)  # the slices that still have bytes from here on
        if len(at) == len(lengths):
            at = slice(None)
        rest = np.minimum(lengths[at] - b, 4)
        k = _rotl((quads[starts[at] + b] & _BYTES[rest]) * _C1, 15) * _C2
        mixed = h[at] ^ k
        h[at] = np.where(rest == 4, _rotl(mixed, 13) * np.uint32(5) + np.uint32(0xE6546B64), mixed)
    h ^= lengths.astype(np.uint32)
    h ^= h >> np.uint32(16)
    h *= np.uint32(0x85EBCA6B)
    h ^= h >> np.uint32(13)
    h *= np.uint32(0xC2B2AE35)
    h ^= h >> np.uint32(16)
    return h.view(np.int32)


def columns(hashes: np.ndarray, size: int) -> np.ndarray:
    """`abs(hash) % size` as Python computes it (abs(-2**31) does not overflow here)."""
    return (np.abs(hashes.astype(np.int64)) % size).astype(np.int32)


def _rotl(x: np.ndarray, r: int) -> np.ndarray:
    return (x << np.uint32(r)) | (x >> np.uint32(32 - r))
