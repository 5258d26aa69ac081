"""core.validate and core.schema: every bad value is refused with its key and what is allowed."""

from __future__ import annotations

import math

import pytest
import yaml

from maskedntk.core.schema import ConfigError, check_schema, key_path
from maskedntk.core.validate import check_choice, check_float, check_int


def test_int_accepts_integral_floats_and_refuses_the_rest():
    assert check_int("p", 4.0, lo=1) == 4
    with pytest.raises(ValueError, match=r"^p = 0: must be an integer in \[1, inf\)$"):
        check_int("p", 0, lo=1)
    with pytest.raises(ValueError, match=r"^p = 2\.5: must be an integer"):
        check_int("p", 2.5)
    with pytest.raises(ValueError, match="^p = True"):
        check_int("p", True)


def test_float_interval_ends_open_and_closed():
    assert check_float("xi", 1.0, 0.0, 1.0, lo_open=True) == 1.0
    with pytest.raises(ValueError, match=r"^xi = 0: must be a finite number in \(0, 1\]$"):
        check_float("xi", 0.0, 0.0, 1.0, lo_open=True)
    with pytest.raises(ValueError, match=r"^eta = nan"):
        check_float("eta", math.nan)
    with pytest.raises(ValueError, match=r"^eta = '0\.1'"):
        check_float("eta", "0.1")


def test_choice_lists_the_allowed_values():
    assert check_choice("mask", "bernoulli", ("bernoulli", "categorical")) == "bernoulli"
    with pytest.raises(ValueError, match=r"^mask = 'ber': must be one of 'bernoulli', 'categorical'$"):
        check_choice("mask", "ber", ("bernoulli", "categorical"))


SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["study"],
    "properties": {
        "study": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "m": {"type": "array", "minItems": 1, "items": {"type": "integer", "minimum": 1, "maximum": 4096}},
                "mask": {"enum": ["bernoulli", "categorical"]},
                "xi": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
            },
        }
    },
}


@pytest.fixture
def schema_file(tmp_path):
    path = tmp_path / "s.schema.yaml"
    path.write_text(yaml.safe_dump(SCHEMA))
    return path


@pytest.mark.parametrize(
    "config, message",
    [
        ({"study": {"m": [10, 100000]}}, r"^config key study\.m\[1\] = 100000: must be in \[1, 4096\]$"),
        ({"study": {"m": []}}, r"^config key study\.m = \[\]: must list at least 1 value"),
        (
            {"study": {"mask": "ber"}},
            (r"^config key study\.mask = 'ber': must be one of \['bernoulli', 'categorical'\]$"),
        ),
        ({"study": {"xi": 0}}, r"^config key study\.xi = 0: must be in \(0, 1\]$"),
        ({"study": {"xi": "half"}}, r"^config key study\.xi = 'half': must be of type number$"),
        (
            {"study": {"tau": 5}},
            (r"^config key study: unknown key\(s\) \['tau'\]; allowed keys are \['m', 'mask', 'xi'\]$"),
        ),
        ({}, r"^config key study: missing key; required keys are \['study'\]$"),
    ],
)
def test_schema_error_names_the_key_the_value_and_what_is_allowed(schema_file, config, message):
    with pytest.raises(ConfigError, match=message):
        check_schema(config, schema_file)


def test_valid_config_passes(schema_file):
    assert check_schema({"study": {"m": [1, 4096], "mask": "categorical", "xi": 1}}, schema_file) is None


def test_key_path():
    assert key_path(["experiments", "width", "grid", 0, "m"]) == "experiments.width.grid[0].m"
    assert key_path([]) == "(top level)"


def test_memory_limit_defaults_to_the_machine_and_refuses_bad_values():
    from maskedntk.core.resources import job_memory_limit_mb, machine_memory_mb

    assert job_memory_limit_mb({}) == machine_memory_mb() > 100
    assert job_memory_limit_mb({"max_job_mem_mb": 4000}) == 4000
    for bad in (0, -5, 2.5, "4GB", True):
        with pytest.raises(ConfigError, match=r"^config key max_job_mem_mb = .*: must be a positive integer"):
            job_memory_limit_mb({"max_job_mem_mb": bad})


def test_oversized_job_is_refused_with_its_estimate_and_the_limit():
    from maskedntk.core.resources import refuse_oversized

    refuse_oversized({"a": 100, "b": 2000}, 2000, study="demo")  # at the limit: fits
    refuse_oversized({}, 1, study="demo")
    with pytest.raises(ConfigError, match=r"^demo job b needs an estimated 2,001 MB of memory, more than the 2,000 MB"):
        refuse_oversized({"a": 100, "b": 2001}, 2000, study="demo")


def test_runtime_minutes_rounds_up_with_safety_and_minimum():
    from maskedntk.core.resources import RUNTIME_SAFETY, runtime_minutes

    assert runtime_minutes(0) == 5
    assert runtime_minutes(100, minimum=1) == -(-int(RUNTIME_SAFETY * 100) // 60)
    assert runtime_minutes(3600) == int(3 * 60)
    with pytest.raises(ValueError, match="non-negative"):
        runtime_minutes(-1)
