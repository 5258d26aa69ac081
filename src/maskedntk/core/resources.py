"""What a job may ask of the machine, and the refusal of a configuration that cannot fit.

Each study estimates every job's memory from the settings the job runs (and declares it to
Snakemake as ``mem_mb``, so a cluster gets the right request).  Before any job starts, the
largest estimate is compared with the memory one job may use: the global key
``max_job_mem_mb`` when the configuration sets it (a cluster node's memory, say), otherwise
the physical memory of the machine that runs Snakemake.  A configuration over that limit is
refused with the job, its estimate and the limit, instead of running until it is killed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from .schema import ConfigError

#: the global configuration key that caps one job's memory (MB)
LIMIT_KEY = "max_job_mem_mb"


def machine_memory_mb() -> int:
    """The physical memory of this machine in MB."""
    return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20)


def job_memory_limit_mb(config: Mapping) -> int:
    """The memory one job may use: ``config[max_job_mem_mb]`` if set, else this machine's."""
    value = config.get(LIMIT_KEY)
    if value is None:
        return machine_memory_mb()
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"config key {LIMIT_KEY} = {value!r}: must be a positive integer (MB) or null")
    return value


def refuse_oversized(estimates_mb: Mapping[str, int], limit_mb: int, *, study: str) -> None:
    """Raise :class:`ConfigError` when a job's memory estimate exceeds ``limit_mb``; the
    message names the largest job, its estimate and the limit."""
    if not estimates_mb:
        return
    job = max(estimates_mb, key=estimates_mb.__getitem__)
    need = int(estimates_mb[job])
    if need > limit_mb:
        raise ConfigError(
            f"{study} job {job} needs an estimated {need:,} MB of memory, more than the {limit_mb:,} MB one job "
            f"may use (config key {LIMIT_KEY}; default: this machine's memory); reduce the sizes of that job's "
            "settings, or raise the limit on a machine that has the memory"
        )


#: a job's time estimate is multiplied by this before it is declared: a cluster kills a job at
#: its requested runtime, and a shared or slower node can be several times slower than the
#: machine the estimate was calibrated on
RUNTIME_SAFETY = 3.0


def runtime_minutes(seconds: float, *, minimum: int = 5) -> int:
    """The runtime (whole minutes) to declare to Snakemake for a job estimated to take
    ``seconds`` of one core: ``RUNTIME_SAFETY * seconds`` rounded up, at least ``minimum``."""
    if not seconds >= 0:
        raise ValueError(f"a time estimate must be a non-negative number of seconds, got {seconds!r}")
    return max(int(minimum), -(-int(RUNTIME_SAFETY * seconds) // 60))
