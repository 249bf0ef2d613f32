"""Real, decodable PNG images drawn with the standard library (zlib + struct).

An image is a left-to-right gradient between two colours with a disc in the middle, all three
colours derived from a seed (so the same prompt draws the same picture). It is an 8-bit
palette PNG (one byte per pixel): rows outside the disc are all the same, so even a 4K image
deflates quickly and to a few kilobytes.
"""

from __future__ import annotations

import hashlib
import math
import struct
import zlib

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_GRADIENT = 255  # palette entries 0..254 are the gradient, 255 the disc
_DISC = 255


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _colours(seed: str) -> tuple[tuple[int, int, int], ...]:
    digest = hashlib.sha256(seed.encode()).digest()
    return tuple((digest[i], digest[i + 1], digest[i + 2]) for i in (0, 3, 6))


def _palette(start: tuple[int, int, int], end: tuple[int, int, int], disc: tuple[int, int, int]) -> bytes:
    steps = _GRADIENT - 1
    entries = bytearray()
    for i in range(_GRADIENT):
        entries += bytes(round(a + (b - a) * i / steps) for a, b in zip(start, end, strict=True))
    return bytes(entries + bytes(disc))


def draw_png(width: int, height: int, seed: str) -> bytes:
    """A width x height PNG whose colours follow `seed`."""
    start, end, disc = _colours(seed)
    base = bytes((x * (_GRADIENT - 1)) // max(1, width - 1) for x in range(width))
    plain = b"\x00" + base  # filter type 0 (None) for every row
    radius = min(width, height) // 4
    cx, cy = width // 2, height // 2
    rows = []
    for y in range(height):
        dy = y - cy
        if abs(dy) >= radius:
            rows.append(plain)
            continue
        half = math.isqrt(radius * radius - dy * dy)
        row = bytearray(plain)
        row[1 + cx - half: 1 + cx + half] = bytes([_DISC]) * (2 * half)
        rows.append(bytes(row))
    header = struct.pack(">IIBBBBB", width, height, 8, 3, 0, 0, 0)  # 8-bit palette, no interlace
    return (PNG_SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"PLTE", _palette(start, end, disc))
            + _chunk(b"IDAT", zlib.compress(b"".join(rows), 6)) + _chunk(b"IEND", b""))


def png_size(data: bytes) -> tuple[int, int] | None:
    """Width and height of a PNG (from its IHDR), None for anything else."""
    if len(data) < 24 or not data.startswith(PNG_SIGNATURE) or data[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", data[16:24])
    return width, height
