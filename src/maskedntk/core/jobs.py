"""Running one workflow job: its log file, and the traceback at the end of the log when it fails."""

from __future__ import annotations

import contextlib
import logging
import sys

log = logging.getLogger("maskedntk")


def setup_logging(path=None, level=logging.INFO) -> None:
    """Send the package's log records to ``path`` (a rule's log file) or to stderr."""
    handler = logging.FileHandler(path, mode="w") if path else logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%H:%M:%S"))
    root = logging.getLogger("maskedntk")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


@contextlib.contextmanager
def logged_job(path, name: str):
    """Log to ``path``; if the body raises, write the traceback to the log and re-raise, so
    that a failed job's log ends with the reason it failed."""
    setup_logging(path)
    log.info("job %s started (python %s)", name, sys.version.split()[0])
    try:
        yield
    except BaseException:
        log.exception("job %s failed", name)
        raise
    log.info("job %s finished", name)
