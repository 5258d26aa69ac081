"""Provenance attached to every result: package versions, git commit, and the configuration.

Nothing time- or host-dependent goes in, so re-running the same configuration on the same
commit reproduces the result files bit for bit.
"""

from __future__ import annotations

import functools
import platform
import subprocess
from importlib import metadata
from pathlib import Path

PACKAGES = ("maskedntk", "torch", "numpy", "pandas", "scipy", "snakemake")


def package_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


@functools.cache
def git_commit(start: str | None = None) -> str:
    """The commit of the checkout that holds ``start`` (default: this package), '-dirty' if the
    tracked files differ from it, or 'unknown' outside a git checkout."""
    where = Path(start) if start else Path(__file__).resolve().parent
    try:
        run = lambda *a: subprocess.run(  # noqa: E731
            ["git", *a], cwd=where, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        commit = run("rev-parse", "HEAD")
        dirty = run("status", "--porcelain", "--untracked-files=no")
        return commit + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def provenance(config: dict) -> dict:
    """{'config': ..., 'versions': ..., 'git_commit': ...} for a result."""
    return {"config": config, "versions": package_versions(), "git_commit": git_commit()}
