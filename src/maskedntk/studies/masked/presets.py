"""Named special cases of Algorithm 1 (docs/masked/mathematics.md sec. 2) and the authors'-code conventions.

A preset fixes some fields of :class:`~maskedntk.studies.masked.spec.TrainSpec`; the others stay free.
Asking for a preset together with a conflicting value (``dropout`` with ``p=4``) is an error
rather than a silent override.
"""

from __future__ import annotations

from maskedntk.core.validate import check_choice

from .spec import TrainSpec

#: preset name -> (fields it fixes, one-line description)
PRESETS: dict[str, tuple[dict, str]] = {
    "full_gd": (
        {"mask": "bernoulli", "xi": 1.0, "p": 1},
        "full-batch gradient descent: xi = 1, p = 1 (tau steps per round)",
    ),
    "dropout": (
        {"mask": "bernoulli", "p": 1, "tau": 1},
        "dropout: one Bernoulli(xi) subnetwork, one step per round (Corollary 4)",
    ),
    "multi_sample_dropout": (
        {"mask": "bernoulli", "tau": 1},
        "multi-sample dropout: p Bernoulli(xi) subnetworks, one step each (Corollary 5)",
    ),
    "ist_bernoulli": (
        {"mask": "bernoulli"},
        "multi-worker IST with Bernoulli(xi) masks, tau local steps (Corollary 6)",
    ),
    "ist_categorical": (
        {"mask": "categorical", "xi": None},
        "IST with categorical masks: each neuron in exactly one of p subnetworks (Theorem 7)",
    ),
    "authors_code": (
        {
            "surrogate": "inverse_xi",
            "aggregation": "zero_unheld",
            "loss": "mean",
            "init": "fan_in_m",
            "output_scale": "sqrt_dout",
            "relu_grad_at_zero": 0.0,
        },
        "the authors' TMLR-era code: surrogate / xi, loss 1/2 sum / n, output 1/sqrt(d_out), "
        "init N(0, 1/m), unheld neurons zeroed (docs/masked/mathematics.md sec. 6)",
    ),
}


def preset_fields(name: str) -> dict:
    """The fields that preset ``name`` fixes."""
    check_choice("preset", name, PRESETS)
    return dict(PRESETS[name][0])


def apply_preset(name: str | None, **fields) -> TrainSpec:
    """Build a TrainSpec from ``fields`` with preset ``name`` applied.

    Raises ValueError if ``fields`` sets a value the preset fixes to something else.
    """
    if name is None:
        return TrainSpec(**fields)
    fixed = preset_fields(name)
    for key, value in fixed.items():
        if key in fields and fields[key] is not None and fields[key] != value:
            raise ValueError(f"{key} = {fields[key]!r}: preset {name!r} fixes {key} = {value!r}")
    if fixed.get("mask") == "categorical":
        fields.pop("xi", None)
    return TrainSpec(**{**fields, **fixed})
