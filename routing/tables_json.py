"""Write travel tables as JSON straight from numpy, without a Python int per cell.

``json.dumps`` of a 3,000 × 3,000 pair of tables builds 18 million Python ints
and their strings: several seconds. Here each block of rows becomes ASCII digits
with numpy arithmetic: every number right-aligned in a fixed width, padded with
spaces (JSON allows whitespace between tokens), so a row is one ``tobytes()``.
The file is a little larger than the tightest JSON and reads back identically.
"""

from __future__ import annotations

from typing import BinaryIO

import numpy as np

__all__ = ["write_tables_json"]

_ROWS = 256  # rows per block: bounds the digit buffer to a few tens of MB


def write_tables_json(out: BinaryIO, durations: np.ndarray, distances: np.ndarray) -> None:
    """Write ``{"durations": [[...]], "distances": [[...]]}`` to a binary stream.

    Parameters
    ----------
    out
        A binary stream (``sys.stdout.buffer``, a file opened ``"wb"``).
    durations, distances
        Non-negative integer tables.

    Raises
    ------
    ValueError
        If a table holds a negative number or is not two-dimensional.
    """
    out.write(b'{"durations": ')
    _write_table(out, durations)
    out.write(b',\n"distances": ')
    _write_table(out, distances)
    out.write(b"}\n")


def _write_table(out: BinaryIO, table: np.ndarray) -> None:
    table = np.asarray(table)
    if table.ndim != 2:
        raise ValueError(f"a table must be two-dimensional, got shape {table.shape}")
    n_rows, n_cols = table.shape
    if table.size and int(table.min()) < 0:
        raise ValueError("tables must not hold negative numbers")
    if n_rows == 0 or n_cols == 0:
        out.write(b"[" + b", ".join(b"[]" for _ in range(n_rows)) + b"]")
        return
    width = len(str(int(table.max())))
    limits = 10 ** np.arange(width - 1, 0, -1, dtype=np.int64)  # 10^(w-1) ... 10
    out.write(b"[\n")
    for start in range(0, n_rows, _ROWS):
        block = table[start:start + _ROWS].astype(np.int64, copy=False)
        chars = np.empty(block.shape + (width + 1,), dtype=np.uint8)
        rest = block.copy()
        for k in range(width - 1, -1, -1):
            chars[..., k] = rest % 10 + 48  # ASCII digits, last first
            rest //= 10
        for k, limit in enumerate(limits):  # leading zeros become spaces
            chars[..., k][block < limit] = 32
        chars[..., width] = 44  # ","
        rows = chars.reshape(len(block), -1)
        rows[:, -1] = 93  # the row's last "," becomes "]"
        lead = b"[" if start == 0 else b",\n["
        out.write(lead + b",\n[".join(row.tobytes() for row in rows))
    out.write(b"\n]")
