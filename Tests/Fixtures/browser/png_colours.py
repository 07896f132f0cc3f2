#!/usr/bin/env python3
"""png_colours.py FILE RRGGBB...: prints the PNG's width and height, then for each colour
the share of its pixels that have it (within 8 per channel), one per line. Reads the
8-bit RGB and RGBA non-interlaced PNGs that Chromium's --screenshot writes, with the
standard library only."""

import struct
import sys
import zlib


def pixels(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise SystemExit(f"{path}: not a PNG")
    position, idat = 8, b""
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position:position + 8])
        body = data[position + 8:position + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or colour not in (2, 6) or interlace:
                raise SystemExit(f"{path}: only 8-bit RGB/RGBA non-interlaced PNGs are read")
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        position += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels
    previous = bytearray(stride)
    rows = []
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        for x in range(stride):
            left = line[x - channels] if x >= channels else 0
            up = previous[x]
            corner = previous[x - channels] if x >= channels else 0
            if kind == 1:
                line[x] = (line[x] + left) & 0xFF
            elif kind == 2:
                line[x] = (line[x] + up) & 0xFF
            elif kind == 3:
                line[x] = (line[x] + (left + up) // 2) & 0xFF
            elif kind == 4:
                estimate = left + up - corner
                pa, pb, pc = abs(estimate - left), abs(estimate - up), abs(estimate - corner)
                predictor = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                line[x] = (line[x] + predictor) & 0xFF
        rows.append(line)
        previous = line
    return width, height, channels, rows


def main():
    path, colours = sys.argv[1], [bytes.fromhex(colour) for colour in sys.argv[2:]]
    width, height, channels, rows = pixels(path)
    counts = [0] * len(colours)
    for line in rows:
        for x in range(0, width * channels, channels):
            pixel = line[x:x + 3]
            for index, colour in enumerate(colours):
                if all(abs(pixel[c] - colour[c]) <= 8 for c in range(3)):
                    counts[index] += 1
    print(width, height)
    for count in counts:
        print(f"{count / (width * height):.4f}")


if __name__ == "__main__":
    main()
