"""The whole default run, before against after: ``snakemake reproduce_all --cores N`` in a fresh
clone of each of two commits, one after the other in this process, with their wall and CPU
seconds and the ratios side by side.

    python benchmarks/bench_reproduce.py --before 69ff97a [--after HEAD] [--cores 2] [--target reproduce_all]

Each commit is cloned from this repository into a temporary folder and run with this
environment's Python and Snakemake (its ``src`` first on ``PYTHONPATH``, so the clone's own
code runs), so the two runs differ only by their commits.  CPU = user + sys of Snakemake and
every job it started.  The load average before and after each run is printed: on a shared
machine the ratio is a conclusion only when both ran at a low load.  Each run's Snakemake
output is kept in ``<tmp>/<commit>.out`` (``--keep`` keeps the clones and their results).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3]) if Path("/proc/loadavg").exists() else "n/a"


def children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run(commit: str, tmp: Path, cores: int, target: str) -> dict:
    """Clone ``commit`` into ``tmp`` and time ``snakemake <target> --cores <cores>`` there."""
    sha = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", commit], check=True, capture_output=True, text=True
    ).stdout.strip()
    clone = tmp / sha
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    subprocess.run(["git", "-C", str(clone), "checkout", "-q", sha], check=True)
    env = {**os.environ, "PYTHONPATH": f"{clone / 'src'}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    env.setdefault("MPLBACKEND", "Agg")
    before_load, cpu0, t0 = load(), children_cpu(), time.perf_counter()
    with open(tmp / f"{sha}.out", "w") as out:
        rc = subprocess.run(
            [sys.executable, "-m", "snakemake", "--cores", str(cores), target],
            cwd=clone,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        ).returncode
    wall, cpu = time.perf_counter() - t0, children_cpu() - cpu0
    res = {"commit": sha, "rc": rc, "wall": wall, "cpu": cpu, "load_before": before_load, "load_after": load()}
    print(
        f"run commit={sha} rc={rc} wall_s={wall:.1f} cpu_s={cpu:.1f} "
        f"load_before={before_load.replace(' ', ',')} load_after={res['load_after'].replace(' ', ',')}",
        flush=True,
    )
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--before", required=True, help="the commit to compare against (any git revision)")
    ap.add_argument("--after", default="HEAD", help="the commit measured (default HEAD; commit your changes first)")
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--target", default="reproduce_all")
    ap.add_argument("--keep", action="store_true", help="keep the clones and their results")
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench_reproduce_"))
    print(f"clones and outputs under {tmp}", flush=True)
    try:
        before = run(a.before, tmp, a.cores, a.target)
        after = run(a.after, tmp, a.cores, a.target)
    finally:
        if not a.keep:
            for p in tmp.iterdir():
                if p.is_dir():
                    shutil.rmtree(p, ignore_errors=True)
    print(
        f"summary target={a.target} cores={a.cores} before={before['commit']} after={after['commit']} "
        f"wall_before_s={before['wall']:.1f} wall_after_s={after['wall']:.1f} "
        f"wall_ratio={before['wall'] / after['wall']:.2f} cpu_ratio={before['cpu'] / after['cpu']:.2f} "
        f"rc={before['rc']},{after['rc']}"
    )


if __name__ == "__main__":
    main()
