"""Real, decodable PNG and JPEG images drawn with the standard library (zlib + struct).

An image is a left-to-right gradient between two colours with a disc in the middle, all three
colours derived from a seed (so the same prompt draws the same picture). The PNG is an 8-bit
palette PNG (one byte per pixel): rows outside the disc are all the same, so even a 4K image
deflates quickly and to a few kilobytes. The JPEG (for Imagen's outputOptions.mimeType
image/jpeg) is the same picture in flat 8x8 blocks: a real baseline JPEG, 1K in about 12 ms.
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


# JPEG: a baseline JPEG of flat 8x8 blocks (each the colour at its centre), so that only DC coefficients are
# non-zero: no DCT to compute, and still a file every decoder reads. YCbCr without subsampling, one
# quantisation table of ones, and two small canonical Huffman tables: the twelve DC categories, 4 bits each,
# and an AC table holding only end-of-block (1 bit).
_DC_BITS = 4


def _ycbcr(rgb: tuple[int, int, int]) -> tuple[int, int, int]:
    r, g, b = rgb
    y = 0.299 * r + 0.587 * g + 0.114 * b
    cb = 128 - 0.168736 * r - 0.331264 * g + 0.5 * b
    cr = 128 + 0.5 * r - 0.418688 * g - 0.081312 * b
    return tuple(round(8 * (value - 128)) for value in (y, cb, cr))  # the DC coefficient of a flat block


def _segment(marker: int, data: bytes) -> bytes:
    return struct.pack(">HH", 0xFF00 | marker, len(data) + 2) + data


def _jpeg_headers(width: int, height: int) -> bytes:
    components = b"".join(bytes((index, 0x11, 0)) for index in (1, 2, 3))
    counts = bytearray(16)
    counts[_DC_BITS - 1] = 12  # DC: categories 0-11, each _DC_BITS long
    dc_table = bytes([0x00]) + counts + bytes(range(12))
    ac_table = bytes([0x10, 1]) + bytes(15) + bytes([0x00])  # AC: only end-of-block, 1 bit
    return (b"\xff\xd8" + _segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
            + _segment(0xDB, bytes([0]) + bytes(64 * [1]))
            + _segment(0xC0, struct.pack(">BHHB", 8, height, width, 3) + components)
            + _segment(0xC4, dc_table + ac_table)
            + _segment(0xDA, bytes([3, 1, 0x00, 2, 0x00, 3, 0x00, 0, 63, 0])))


def _block_bits(diffs: tuple[int, ...]) -> str:
    """One block's bits: per component its DC difference's category code and extra bits, then end-of-block."""
    bits = []
    for diff in diffs:
        category = abs(diff).bit_length()
        extra = diff if diff >= 0 else diff + (1 << category) - 1
        bits.append(f"{category:0{_DC_BITS}b}" + (f"{extra:0{category}b}" if category else "") + "0")
    return "".join(bits)


def draw_jpeg(width: int, height: int, seed: str) -> bytes:
    """A width x height baseline JPEG of the picture draw_png draws, in flat 8x8 blocks."""
    start, end, disc = _colours(seed)
    palette = _palette(start, end, disc)
    colours = [_ycbcr(tuple(palette[3 * i: 3 * i + 3])) for i in range(_DISC + 1)]
    radius = min(width, height) // 4
    cx, cy = width // 2, height // 2
    centres = [min(block * 8 + 4, width - 1) for block in range((width + 7) // 8)]
    gradient = [colours[(x * (_GRADIENT - 1)) // max(1, width - 1)] for x in centres]
    rows: list[str] = []
    codes: dict[tuple[int, ...], str] = {}
    previous = (0, 0, 0)
    for block_y in range((height + 7) // 8):
        dy = min(block_y * 8 + 4, height - 1) - cy
        row = gradient
        if abs(dy) < radius:
            row = [colours[_DISC] if (x - cx) ** 2 + dy * dy < radius * radius else c for x, c in zip(
                centres, gradient, strict=True)]
        for colour in row:
            diffs = (colour[0] - previous[0], colour[1] - previous[1], colour[2] - previous[2])
            previous = colour
            code = codes.get(diffs)
            if code is None:
                code = codes[diffs] = _block_bits(diffs)
            rows.append(code)
    bits = "".join(rows)
    bits += "1" * (-len(bits) % 8)  # the last byte padded with ones
    data = int(bits, 2).to_bytes(len(bits) // 8, "big").replace(b"\xff", b"\xff\x00")  # byte stuffing
    return _jpeg_headers(width, height) + data + b"\xff\xd9"
