"""Step-size rules: how the local step eta of a grid cell is chosen.

The paper fixes eta = O(lambda0 / (max{n, p} n tau)) (Theorem 3) or lambda0 / n^2 (Theorem 7);
those are far too small to converge in a few hundred rounds, so the experiments use a rule
that keeps every cell stable and states it.  Rules:

* ``fixed``: eta = value, the same in every cell.
* ``lambda_max``: eta = scale / lambda_max(H_surr), with H_surr the expected NTK of one
  subnetwork's surrogate loss at initialisation.  In the paper's convention that is
  H_inf(xi) (sec. 3.1), so eta = scale / lambda_max(H_inf(xi)): the local GD steps are
  stable for scale < 2 whatever xi and p.  With the authors' conventions H_surr carries the
  surrogate's output scale squared times m, and the 1/n of a mean loss.
* ``grid_lambda_max``: ONE constant step for the whole grid of an experiment, as in the
  paper: eta = scale / max over the grid's cells of lambda_max(H_surr), i.e. the largest step
  that keeps the local GD of every cell stable (scale < 2).  The grid (``grid``: the cells'
  mask, p, xi, m and conventions) is filled in by the experiment's expansion
  (:func:`maskedntk.studies.masked.experiments.expand_experiment`), so changing the grid
  changes the step of every cell.
* ``theory``: eta = scale * lambda0 / (max{n, p} n tau) for Bernoulli masks (Theorem 3) and
  scale * lambda0 / n^2 for categorical masks (Theorem 7), lambda0 = lambda_min(H_inf(xi)).

The paper uses one constant step across its grid: ``grid_lambda_max`` (or ``fixed``) is that
protocol; ``lambda_max`` (eta proportional to 1/xi) and ``theory`` are documented deviations.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from maskedntk.core.validate import check_choice, check_float

from .spec import TrainSpec
from .theory import eta_theory_thm3, eta_theory_thm7

RULES = ("fixed", "lambda_max", "grid_lambda_max", "theory")
#: the TrainSpec fields a grid cell contributes to ``grid_lambda_max``
GRID_FIELDS = ("mask", "p", "xi", "m", "surrogate", "loss", "output_scale")


@dataclass(frozen=True)
class EtaRule:
    """rule in RULES; ``value`` for 'fixed', ``scale`` for 'lambda_max' and 'theory'; ``grid``
    (the cells' GRID_FIELDS) for 'grid_lambda_max', validated once into ``grid_specs``."""

    rule: str = "lambda_max"
    value: float | None = None
    scale: float | None = 0.5
    grid: tuple | list | None = None
    grid_specs: tuple[TrainSpec, ...] = field(init=False, repr=False, compare=False, default=())

    def __post_init__(self):
        check_choice("eta.rule", self.rule, RULES)
        if self.rule == "fixed":
            if self.value is None:
                raise ValueError("eta.value = None: rule 'fixed' needs eta.value, a number > 0")
            check_float("eta.value", self.value, 0.0, lo_open=True)
        else:
            if self.scale is None:
                raise ValueError(f"eta.scale = None: rule {self.rule!r} needs eta.scale, a number > 0")
            check_float("eta.scale", self.scale, 0.0, lo_open=True)
        if self.rule == "grid_lambda_max":
            object.__setattr__(self, "grid_specs", _grid_specs(self.grid))

    def describe(self) -> str:
        if self.rule == "fixed":
            return f"eta = {self.value:g} in every cell"
        if self.rule == "lambda_max":
            return f"eta = {self.scale:g} / lambda_max(H_inf(xi)) per cell"
        if self.rule == "grid_lambda_max":
            return f"one eta for the grid: {self.scale:g} / max over its {len(self.grid)} cells of lambda_max"
        return f"eta = {self.scale:g} x the theorem's step (lambda0/(max(n,p) n tau), or lambda0/n^2)"


def surrogate_ntk_factor(spec: TrainSpec, n: int, d_out: int) -> float:
    """c such that the surrogate's expected NTK is c * H_inf(xi) (c = 1 in the paper's convention).

    c = loss coefficient (1/n for a mean loss) * m * (output scale * surrogate scale)^2 / s_paper^2
    with s_paper = 1/sqrt(m)."""
    s = 1.0 / math.sqrt(spec.m) if spec.output_scale == "sqrt_m" else 1.0 / math.sqrt(d_out)
    if spec.surrogate == "inverse_xi":
        s /= spec.xi_eff
    loss = 1.0 / n if spec.loss == "mean" else 1.0
    return loss * spec.m * s * s


def resolve_eta(rule: EtaRule, spec: TrainSpec, *, n: int, d_out: int, lambda0: float, lambda_max: float) -> float:
    """The eta that ``rule`` gives for ``spec``; lambda0 and lambda_max are those of H_inf(xi_eff)."""
    if rule.rule == "fixed":
        return float(rule.value)
    if rule.rule == "lambda_max":
        return rule.scale / (surrogate_ntk_factor(spec, n, d_out) * lambda_max)
    if rule.rule == "grid_lambda_max":
        raise ValueError("rule 'grid_lambda_max' needs the data: use grid_eta(rule, X, n, d_out)")
    if spec.mask == "categorical":
        return rule.scale * eta_theory_thm7(lambda0, n)
    return rule.scale * eta_theory_thm3(lambda0, n, spec.p, spec.tau)


def _grid_specs(grid) -> tuple[TrainSpec, ...]:
    """The grid's cells as validated TrainSpecs (errors name the entry ``eta.grid[i]``)."""
    if not grid:
        raise ValueError(
            "eta.grid is empty: rule 'grid_lambda_max' needs the grid's cells (the workflow's "
            "experiment expansion fills it in; on the command line use rule 'lambda_max' or 'fixed')"
        )
    specs = []
    for i, g in enumerate(grid):
        if not isinstance(g, dict) or set(g) != set(GRID_FIELDS):
            raise ValueError(f"eta.grid entry {g!r}: must be a mapping with the keys {list(GRID_FIELDS)}")
        try:
            specs.append(TrainSpec(**g))
        except ValueError as err:
            raise ValueError(f"eta.grid[{i}]: {err}") from None
    return tuple(specs)


def grid_eta(rule: EtaRule, X, *, n: int, d_out: int) -> float:
    """The one step of rule ``grid_lambda_max``: scale / max over the grid's cells of
    surrogate_ntk_factor(cell) * lambda_max(H_inf(xi_cell)) on the data X."""
    from .theory import spec_ntk_spectrum

    worst = 0.0
    spectra: dict[float, float] = {}
    for spec in rule.grid_specs:
        xi = spec.xi_eff
        if xi not in spectra:
            spectra[xi] = spec_ntk_spectrum(X, spec)[1]
        worst = max(worst, surrogate_ntk_factor(spec, n, d_out) * spectra[xi])
    return rule.scale / worst
