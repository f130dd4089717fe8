#!/usr/bin/env python3
"""Writes assets/example_plate.dxf: the example part embedded in Swarf.

A watch-plate-like part 8 mm across, in mm ($INSUNITS 4): a round plate with a flat, jewel and
screw holes (circles), a barrel recess with a boss in it (an island inside a hole), a curved slot
drawn as loose ARC and LINE entities (to be chained), and a cam-shaped recess drawn as a closed
cubic SPLINE. Run it again after changing it; the output is deterministic.
"""
import math
import pathlib

out = []


def g(code, value):
    out.append(f"{code:>3}\n{value}\n")


def header():
    g(0, "SECTION"); g(2, "HEADER")
    g(9, "$ACADVER"); g(1, "AC1015")
    g(9, "$INSUNITS"); g(70, 4)
    g(9, "$MEASUREMENT"); g(70, 1)
    g(0, "ENDSEC")
    g(0, "SECTION"); g(2, "TABLES")
    g(0, "TABLE"); g(2, "LAYER"); g(70, 3)
    for name in ("OUTLINE", "HOLES", "POCKETS"):
        g(0, "LAYER"); g(2, name); g(70, 0); g(62, 7); g(6, "CONTINUOUS")
    g(0, "ENDTAB")
    g(0, "ENDSEC")


handle = [0x100]


def ent(kind, layer):
    g(0, kind)
    g(5, f"{handle[0]:X}")
    handle[0] += 1
    g(8, layer)


def circle(x, y, r, layer="HOLES"):
    ent("CIRCLE", layer); g(10, x); g(20, y); g(30, 0.0); g(40, r)


def arc(x, y, r, a0, a1, layer):
    ent("ARC", layer); g(10, x); g(20, y); g(30, 0.0); g(40, r); g(50, a0); g(51, a1)


def line(a, b, layer):
    ent("LINE", layer); g(10, a[0]); g(20, a[1]); g(30, 0.0); g(11, b[0]); g(21, b[1]); g(31, 0.0)


def lwpoly(verts, layer, closed=True):
    ent("LWPOLYLINE", layer); g(90, len(verts)); g(70, 1 if closed else 0)
    for x, y, b in verts:
        g(10, x); g(20, y)
        if b:
            g(42, b)


def spline_closed(ctrl, layer):
    # Periodic cubic B-spline written as a clamped-free uniform spline with wrapped control
    # points, the way CAD programs store closed splines.
    p = 3
    pts = ctrl + ctrl[:p]
    n = len(pts)
    knots = list(range(n + p + 1))
    ent("SPLINE", layer); g(210, 0.0); g(220, 0.0); g(230, 1.0)
    g(70, 11); g(71, p); g(72, len(knots)); g(73, n); g(74, 0)
    for k in knots:
        g(40, float(k))
    for x, y in pts:
        g(10, x); g(20, y); g(30, 0.0)


header()
g(0, "SECTION"); g(2, "ENTITIES")
# Plate: circle R4 cut by a flat at y = -3.2 (bulge of the big arc from the flat's right end
# round to its left end).
R, yf = 4.0, -3.2
xf = math.sqrt(R * R - yf * yf)
a_right = math.atan2(yf, xf)
a_left = math.atan2(yf, -xf)
sweep = (a_left - a_right) % (2 * math.pi)
lwpoly([(-xf, yf, 0.0), (xf, yf, math.tan(sweep / 4))], "OUTLINE")
# Centre hole, jewel holes, screw holes.
circle(0.0, 0.0, 0.6)
circle(2.2, 1.6, 0.25)
circle(-2.0, 1.5, 0.25)
circle(3.0, 0.6, 0.4)
circle(-3.0, 0.6, 0.4)
# Barrel recess (hole) with a boss (island inside the hole).
circle(0.0, 2.4, 1.05, "POCKETS")
circle(0.0, 2.4, 0.35, "POCKETS")
# Curved slot from loose entities: outer arc R3.2, inner arc R2.6, round ends R0.3, between
# 200° and 250° (drawn out of order and partly reversed).
c0, r_in, r_out = (0.0, 0.0), 2.6, 3.2
rm, w = (r_in + r_out) / 2, (r_out - r_in) / 2
a0, a1 = 200.0, 250.0
arc(0.0, 0.0, r_out, a0, a1, "POCKETS")
e1 = (rm * math.cos(math.radians(a1)), rm * math.sin(math.radians(a1)))
arc(e1[0], e1[1], w, a1, a1 + 180.0, "POCKETS")
arc(0.0, 0.0, r_in, a0, a1, "POCKETS")
e0 = (rm * math.cos(math.radians(a0)), rm * math.sin(math.radians(a0)))
arc(e0[0], e0[1], w, a0 + 180.0, a0 + 360.0, "POCKETS")
# A rectangular pocket drawn as four LINEs, one reversed.
p = [(0.9, -0.9), (2.0, -0.9), (2.0, -0.2), (0.9, -0.2)]
line(p[0], p[1], "POCKETS"); line(p[2], p[1], "POCKETS"); line(p[2], p[3], "POCKETS"); line(p[3], p[0], "POCKETS")
# Cam-shaped recess as a closed cubic spline.
spline_closed([(-0.2, -2.2), (0.5, -2.6), (1.2, -2.3), (1.0, -1.6), (0.3, -1.3), (-0.4, -1.6)], "POCKETS")
g(0, "ENDSEC")
g(0, "EOF")
pathlib.Path(__file__).with_name("example_plate.dxf").write_text("".join(out))
