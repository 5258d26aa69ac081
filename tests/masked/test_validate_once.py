"""A configuration is validated once, where it enters; the code it flows into trusts it.

Every call of core.validate's checks is counted (in every module of the package that
imported them) while one cell is parsed and then trained, as a training job does: parsing
checks each key once, training checks nothing again except the one value it computes (the
step eta of the cell's rule), however many rounds and seeds run.
"""

from __future__ import annotations

import sys
from collections import Counter

import pytest

from maskedntk.core import validate
from maskedntk.studies.masked.cellconfig import load_data, parse_cell
from maskedntk.studies.masked.engine import train
from maskedntk.studies.masked.runner import train_cells
from maskedntk.studies.masked.spec import TrainSpec
from maskedntk.studies.masked.stepsize import GRID_FIELDS

CHECKS = ("check_int", "check_float", "check_choice")
SEEDS = [0, 1, 2]
GRID = [
    {"mask": "bernoulli", "p": 3, "xi": 0.5, "m": 30, "surrogate": "paper", "loss": "sum", "output_scale": "sqrt_m"},
    {"mask": "bernoulli", "p": 3, "xi": 1.0, "m": 30, "surrogate": "paper", "loss": "sum", "output_scale": "sqrt_m"},
]


def _cell(rounds: int) -> dict:
    return {
        "experiment": "check",
        "data": {"source": "synthetic", "family": "teacher", "n": 12, "d": 8, "seed": 0},
        "train": {"mask": "bernoulli", "xi": 0.5, "p": 3, "tau": 2, "m": 30, "rounds": rounds, "dtype": "auto"},
        "eta": {"rule": "grid_lambda_max", "scale": 0.5, "grid": GRID},
        "seeds": SEEDS,
    }


@pytest.fixture
def calls(monkeypatch) -> Counter:
    """Counter of the parameter names core.validate is asked to check."""
    counter: Counter = Counter()

    def counting(check):
        def wrapped(name, *args, **kwargs):
            counter[name] += 1
            return check(name, *args, **kwargs)

        return wrapped

    originals = {name: getattr(validate, name) for name in CHECKS}
    for mod_name, mod in list(sys.modules.items()):
        if mod is None or not (mod_name == "maskedntk" or mod_name.startswith("maskedntk.")):
            continue
        for name, original in originals.items():
            if getattr(mod, name, None) is original:
                monkeypatch.setattr(mod, name, counting(original))
    return counter


def test_the_grid_fields_are_spec_fields():
    assert set(GRID[0]) == set(GRID_FIELDS)  # the test's grid is a valid grid


@pytest.mark.parametrize("rounds", [2, 6])
def test_one_cell_is_validated_once(calls, rounds):
    parsed = parse_cell(_cell(rounds))
    spec_fields = set(TrainSpec.field_names())
    # parsing: every key once (a TrainSpec field also once per grid entry), each seed once
    for name, count in calls.items():
        if name == "seeds[]":
            assert count == len(SEEDS), name
        elif name in spec_fields:
            assert count == 1 + len(GRID), (name, count)
        else:
            assert count == 1, (name, count)
    assert calls["m"] == 1 + len(GRID) and calls["data.n"] == 1  # the counting reached the checks
    calls.clear()
    ds = load_data(parsed.data)  # the data job's work, not the training job's
    calls.clear()
    (trained,) = train_cells([("c", parsed)], ds)
    assert trained.result.rounds_run.tolist() == [rounds] * len(SEEDS)
    # training: only the step the rule computed is checked (it builds the cell's final TrainSpec)
    assert calls == Counter({"eta": 1})


def test_the_public_train_checks_its_own_arguments_once(calls):
    spec = TrainSpec(m=20, p=2, tau=2, xi=0.5, eta=0.1, rounds=5)
    ds = load_data({"n": 10, "d": 6})
    calls.clear()
    train(ds.X, ds.y, spec, SEEDS)
    assert calls == Counter({"seed": len(SEEDS)})


def test_replace_checks_only_what_changed(calls):
    spec = TrainSpec(m=20, mask="categorical", p=4, rounds=10, max_rounds=20)
    calls.clear()
    assert spec.replace(eta=0.3).eta == 0.3
    assert calls == Counter({"eta": 1})
    calls.clear()
    assert spec.replace(p=5).xi_eff == 0.2
    assert calls == Counter({"p": 1})  # xi (None for categorical masks) is re-derived, not re-checked
    with pytest.raises(ValueError, match=r"^max_rounds = 20: must be an integer in \[30, inf\)"):
        spec.replace(rounds=30)  # max_rounds' check reads rounds: it is re-checked
    with pytest.raises(ValueError, match=r"^xi = 0.3: categorical masks fix xi = 1/p"):
        spec.replace(xi=0.3)
    with pytest.raises(ValueError, match=r"^TrainSpec has no field\(s\) \['q'\]"):
        spec.replace(q=1)


def test_a_bad_grid_entry_is_named():
    cell = _cell(2)
    cell["eta"]["grid"] = [GRID[0], dict(GRID[1], xi=1.5)]
    with pytest.raises(ValueError, match=r"^eta\.grid\[1\]: xi = 1\.5: must be a finite number in \(0, 1\]"):
        parse_cell(cell)
