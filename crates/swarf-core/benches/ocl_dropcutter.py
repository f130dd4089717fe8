#!/usr/bin/env python3
"""Swarf's drop-cutter against OpenCAMLib's BatchDropCutter, side by side in one run.

Both get the same mesh (a generated relief, or an STL given with --stl), the same tool and
the same N x N grid of points over the mesh's plan box, with the same number of threads.
Prints points per second for each, the ratio, and how far their heights differ.

    python3 -m pip install opencamlib        # the peer (PyPI)
    cargo build --release -p swarf-cli
    python3 crates/swarf-core/benches/ocl_dropcutter.py --triangles 1000000 --grid 1000

Timings, not tests: run it on an idle machine.
"""

import argparse
import math
import os
import struct
import subprocess
import sys
import tempfile
import time


def relief(path, triangles):
    """A 10 x 10 mm relief (waves and a dome, top at 0) with about `triangles` facets."""
    n = max(2, int(math.sqrt(triangles / 2)))
    step = 10.0 / n

    def z(i, j):
        x, y = i * step, j * step
        dome = max(0.0, 9.0 - (x - 5) ** 2 - (y - 5) ** 2) ** 0.5 * 0.3
        return -1.5 + 0.4 * math.sin(x * 1.7) * math.cos(y * 1.3) + dome

    zs = [[z(i, j) for i in range(n + 1)] for j in range(n + 1)]
    top = max(max(r) for r in zs)
    with open(path, "wb") as f:
        f.write(b"swarf relief".ljust(80, b" "))
        f.write(struct.pack("<I", 2 * n * n))
        pack = struct.Struct("<12fH").pack
        for j in range(n):
            for i in range(n):
                a = (i * step, j * step, zs[j][i] - top)
                b = ((i + 1) * step, j * step, zs[j][i + 1] - top)
                c = ((i + 1) * step, (j + 1) * step, zs[j + 1][i + 1] - top)
                d = (i * step, (j + 1) * step, zs[j + 1][i] - top)
                f.write(pack(0, 0, 1, *a, *b, *c, 0))
                f.write(pack(0, 0, 1, *a, *c, *d, 0))
    return 2 * n * n


def grid(lo, hi, n):
    for j in range(n):
        for i in range(n):
            yield (lo[0] + (hi[0] - lo[0]) * i / (n - 1), lo[1] + (hi[1] - lo[1]) * j / (n - 1))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--stl", help="mesh to use (default: a generated relief)")
    ap.add_argument("--triangles", type=int, default=200000, help="relief size (default 200000)")
    ap.add_argument("--grid", type=int, default=300, help="N for the N x N points (default 300)")
    ap.add_argument("--tool", default="ball", choices=["ball", "flat", "bull", "v"])
    ap.add_argument("--diameter", type=float, default=0.2)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--swarf-cli", default="target/release/swarf-cli")
    a = ap.parse_args()

    import opencamlib as ocl

    tmp = tempfile.mkdtemp()
    stl = a.stl or os.path.join(tmp, "relief.stl")
    if not a.stl:
        count = relief(stl, a.triangles)
        print(f"relief: {count} triangles in {stl}")

    surf = ocl.STLSurf()
    ocl.STLReader(stl, surf)
    d = a.diameter
    cutter = {
        "ball": lambda: ocl.BallCutter(d, 10 * d),
        "flat": lambda: ocl.CylCutter(d, 10 * d),
        "bull": lambda: ocl.BullCutter(d, d * 0.25, 10 * d),
        "v": lambda: ocl.ConeCutter(d, math.radians(45), 10 * d),
    }[a.tool]()
    bb = surf.bb
    lo, hi = (bb.minpt.x, bb.minpt.y, bb.minpt.z), (bb.maxpt.x, bb.maxpt.y, bb.maxpt.z)
    bdc = ocl.BatchDropCutter()
    bdc.setSTL(surf)
    bdc.setCutter(cutter)
    bdc.setThreads(a.threads)
    floor = lo[2] - 10.0
    for x, y in grid(lo, hi, a.grid):
        bdc.appendPoint(ocl.CLPoint(x, y, floor))
    t = time.perf_counter()
    bdc.run()
    t_ocl = time.perf_counter() - t
    ocl_z = [p.z for p in bdc.getCLPoints()]
    npts = a.grid * a.grid
    print(f"OpenCAMLib {ocl.version()} BatchDropCutter: {npts} points, {a.threads} threads: "
          f"{t_ocl:.3f} s, {npts / t_ocl:.0f} points/s")

    out = os.path.join(tmp, "swarf_z.txt")
    cmd = [a.swarf_cli, "bench", "--drop-cutter", stl, "--drop-grid", str(a.grid),
           "--drop-tool", a.tool, "--drop-diameter", str(d), "--threads", str(a.threads),
           "--repeat", "1", "--drop-out", out]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"swarf-cli failed: {r.stderr}")
    print(r.stdout.strip())
    secs = float(r.stdout.split("drops ")[1].split(" s")[0])
    swarf_z = [float(v) for v in open(out)]
    diff = max(abs(s - o) for s, o in zip(swarf_z, ocl_z))
    print(f"ratio: Swarf {t_ocl / secs:.1f}x OpenCAMLib's points per second; "
          f"largest height difference {diff:.3g} mm over {npts} points")


if __name__ == "__main__":
    main()
