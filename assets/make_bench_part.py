#!/usr/bin/env python3
"""Writes assets/bench_20x15.dxf: the budget part of DESIGN.md (a 20 x 15 mm pocket with 1 mm
corner radii and two 3 mm islands), the same geometry as swarf_core::samples."""
import math
import pathlib

b = math.tan(math.pi / 8)
verts = [(1, 0, 0), (19, 0, b), (20, 1, 0), (20, 14, b), (19, 15, 0), (1, 15, b), (0, 14, 0), (0, 1, b)]
out = ["0\nSECTION\n2\nHEADER\n9\n$INSUNITS\n70\n4\n0\nENDSEC\n0\nSECTION\n2\nENTITIES\n"]
out.append("0\nLWPOLYLINE\n8\nPOCKET\n90\n8\n70\n1\n")
for x, y, bulge in verts:
    out.append(f"10\n{x}\n20\n{y}\n")
    if bulge:
        out.append(f"42\n{bulge!r}\n")
for cx in (6.0, 14.0):
    out.append(f"0\nCIRCLE\n8\nISLANDS\n10\n{cx}\n20\n7.5\n40\n1.5\n")
out.append("0\nENDSEC\n0\nEOF\n")
pathlib.Path(__file__).with_name("bench_20x15.dxf").write_text("".join(out))
