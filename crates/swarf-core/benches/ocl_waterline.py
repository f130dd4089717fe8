#!/usr/bin/env python3
"""Swarf's waterline against OpenCAMLib's Waterline, side by side in one run.

Both get the same mesh (a generated relief with a steep dome, top at Z 0, or an STL given
with --stl whose top is at Z 0), the same tool, the same levels and the same fibre spacing
(half the tool's radius, as Swarf chooses it). OpenCAMLib stops at its fibres' crossings;
Swarf also refines every loop to the path tolerance (0.1 um) and fits arcs, so the ratio
flatters OpenCAMLib. Swarf's time is its CLI's "generated in": reading the STL, the
operation, the post and the export check against the mesh (OpenCAMLib's is its loops only).
Prints both times, the ratio, and each side's loops and points.

    python3 -m pip install opencamlib        # the peer (PyPI)
    cargo build --release -p swarf-cli
    python3 crates/swarf-core/benches/ocl_waterline.py --triangles 200000 --stepdown 0.05

Timings, not tests: run it on an idle machine.
"""

import argparse
import math
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ocl_dropcutter import relief  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--stl", help="mesh to use, top at Z 0 (default: a generated relief)")
    ap.add_argument("--triangles", type=int, default=200000, help="relief size (default 200000)")
    ap.add_argument("--tool", default="ball", choices=["ball", "flat", "bull"])
    ap.add_argument("--diameter", type=float, default=0.5)
    ap.add_argument("--stepdown", type=float, default=0.05)
    ap.add_argument("--depth", type=float, default=1.0, help="levels down to this depth (mm)")
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
    }[a.tool]()
    top = surf.bb.maxpt.z
    n = math.ceil(a.depth / a.stepdown)
    step = a.depth / n
    levels = [top - step * k for k in range(1, n + 1)]
    t = time.perf_counter()
    loops = points = 0
    for z in levels:
        wl = ocl.Waterline()
        wl.setSTL(surf)
        wl.setCutter(cutter)
        wl.setSampling(d * 0.25)
        wl.setThreads(a.threads)
        wl.setZ(z)
        wl.run()
        for loop in wl.getLoops():
            loops += 1
            points += len(loop)
    t_ocl = time.perf_counter() - t
    print(f"OpenCAMLib {ocl.version()} Waterline: {n} levels, {a.threads} threads: {t_ocl:.3f} s, "
          f"{loops} loops, {points} points")

    flute = max(3 * d, a.depth + 1)
    cmd = [a.swarf_cli, "generate", stl, "--op", "waterline", "--tool", a.tool,
           "--tool-diameter", str(d), "--flute-length", str(flute), "--stepdown", str(step),
           "--depth", str(a.depth), "-o", os.path.join(tmp, "swarf.nc")]
    if a.tool == "bull":
        cmd += ["--corner-radius", str(d * 0.25)]
    env = dict(os.environ, RAYON_NUM_THREADS=str(a.threads))
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        sys.exit(f"swarf-cli failed: {r.stderr}")
    m = re.search(r"generated in ([0-9.]+) ms", r.stdout)
    secs = float(m.group(1)) / 1000.0
    lines = [l for l in r.stdout.splitlines() if "levels" in l or "fitted" in l]
    print(f"Swarf waterline: {secs:.3f} s; " + "; ".join(lines))
    print(f"ratio: Swarf {t_ocl / secs:.2f}x OpenCAMLib's speed (Swarf refined to 0.1 um and "
          f"fitted with arcs; OpenCAMLib at its fibres' crossings)")


if __name__ == "__main__":
    main()
