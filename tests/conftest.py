"""Shared pytest options and fixtures."""

import time

import pytest


def pytest_addoption(parser):
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite tests/golden/ from the current .test workflow results (on purpose only)",
    )


@pytest.fixture(scope="session")
def update_golden(request):
    return request.config.getoption("--update-golden")


@pytest.fixture(scope="session")
def ci_run(tmp_path_factory):
    """The CI workflow of every study (``snakemake reproduce_all`` on .test/config/), run once per
    session from scratch; the working directory, with study <s>'s outputs in results/<s>/."""
    from study_workflow import ci_workdir, snakemake

    wd = ci_workdir(tmp_path_factory.mktemp("ci_run"))
    t0 = time.perf_counter()
    snakemake(wd, "reproduce_all", timeout=1800)
    print(f"\n.test reproduce_all: {time.perf_counter() - t0:.0f} s")
    return wd
