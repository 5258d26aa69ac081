"""core.provenance and core.jobs: what a result records, and what a failed job's log ends with."""

from __future__ import annotations

import logging
import subprocess

import pytest

from maskedntk.core.jobs import logged_job
from maskedntk.core.provenance import git_commit, package_versions, provenance


def test_provenance_holds_the_config_versions_and_commit_and_nothing_time_dependent():
    prov = provenance({"seed": 3})
    assert set(prov) == {"config", "versions", "git_commit"}
    assert prov["config"] == {"seed": 3}
    assert {"python", "maskedntk", "torch", "numpy"} <= set(prov["versions"])
    assert provenance({"seed": 3}) == prov  # no clock, no host


def test_git_commit_of_a_checkout_and_outside_one(tmp_path, monkeypatch):
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    repo = tmp_path / "repo"
    repo.mkdir()
    git = lambda *a: subprocess.run(["git", *a], cwd=repo, check=True, capture_output=True)  # noqa: E731
    git("init", "-q")
    (repo / "f").write_text("a")
    git("add", "f")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "c")
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True).stdout.strip()
    assert git_commit(str(repo)) == head
    (repo / "f").write_text("b")
    git_commit.cache_clear()
    assert git_commit(str(repo)) == head + "-dirty"
    outside = tmp_path / "plain"
    outside.mkdir()
    assert git_commit(str(outside)) == "unknown"
    git_commit.cache_clear()


def test_versions_name_missing_packages_instead_of_failing(monkeypatch):
    import maskedntk.core.provenance as prov

    monkeypatch.setattr(prov, "PACKAGES", ("no-such-package-xyz",))
    assert package_versions()["no-such-package-xyz"] == "not installed"


def test_failed_job_log_ends_with_the_traceback(tmp_path):
    log = tmp_path / "job.log"
    with pytest.raises(ZeroDivisionError), logged_job(log, "demo"):
        logging.getLogger("maskedntk.demo").info("step one")
        1 / 0  # noqa: B018
    lines = log.read_text().strip().splitlines()
    assert "job demo started" in lines[0]
    assert any("step one" in line for line in lines)
    assert lines[-1] == "ZeroDivisionError: division by zero"


def test_finished_job_log_says_so(tmp_path):
    log = tmp_path / "job.log"
    with logged_job(log, "demo"):
        pass
    assert log.read_text().strip().splitlines()[-1].endswith("job demo finished")
