"""The hyper-parameters of one run of Algorithm 1 (Liao & Kyrillidis, arXiv 2112.02668v1, sec. 3.1).

``TrainSpec`` is a frozen, validated record.  The defaults are the paper's conventions
(docs/masked/mathematics.md sections 1-2); the fields under "conventions" switch on, one at a time, the
departures of the authors' TMLR-era code (docs/masked/mathematics.md section 6), so that the effect of
each can be isolated.

Notation: m hidden neurons, kappa the init scale (w_r ~ N(0, kappa^2 I)), p subnetworks,
xi the Bernoulli selection probability (xi = 1/p for categorical masks), tau local
gradient-descent steps per global round, eta the local step size, K global rounds.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

from maskedntk.core.validate import check_choice, check_float, check_int

MASKS = ("bernoulli", "categorical")
SURROGATES = ("paper", "inverse_xi")
AGGREGATIONS = ("paper", "zero_unheld")
LOSSES = ("sum", "mean")
INITS = ("kappa", "fan_in_m")
OUTPUT_SCALES = ("sqrt_m", "sqrt_dout")
DTYPES = ("auto", "float64", "float32")
DEVICES = ("cpu", "cuda", "auto")
PATHS = ("auto", "gram", "direct")
SELECTIONS = ("auto", "gather", "masked")


@dataclass(frozen=True)
class TrainSpec:
    """One configuration of Algorithm 1.

    Algorithm
    ---------
    m : number of hidden neurons (>= 1).
    kappa : init scale, w_r ~ N(0, kappa^2 I_d) (> 0).  Unused when ``init='fan_in_m'``.
    mask : ``'bernoulli'`` (every entry of M_k i.i.d. Bernoulli(xi), Theorem 3) or
        ``'categorical'`` (each neuron in exactly one of the p subnetworks, Theorem 7).
    xi : selection probability in (0, 1] for Bernoulli masks (``None`` means 0.5).  For
        categorical masks leave it ``None``: xi is then 1/p (the paper's convention); a value
        other than 1/p is an error.
    p : number of subnetworks (>= 1).
    tau : local gradient-descent steps per global round (>= 1).
    eta : local step size (> 0).
    rounds : number of global rounds K (>= 1); L_k is tracked for k = 0..K.
    max_rounds : ``None`` (train exactly ``rounds``) or an integer >= ``rounds``: after
        ``rounds`` rounds a seed whose L_k fails the stationarity test
        (:func:`maskedntk.studies.masked.stationarity.stationarity_test`) is trained on, in
        chunks of ``rounds``, until it passes or reaches ``max_rounds`` (deterministic; the
        first ``rounds`` rounds are the same either way).

    Conventions (defaults = the paper; alternatives = the authors' code, docs/masked/mathematics.md sec. 6)
    ------------------------------------------------------------------------------------------
    surrogate : ``'paper'``: f_l = (1/sqrt(m)) sum_r a_r m_r sigma(<w_r,x>) and the tracked
        output is u = xi * f(W, X).  ``'inverse_xi'``: the surrogate is divided by xi and the
        tracked output is the unscaled f(W, X).
    aggregation : ``'paper'``: a neuron held by no subnetwork keeps its weights.
        ``'zero_unheld'``: it is set to zero (the authors' code resets W before summing).
    loss : ``'sum'``: local loss 1/2 ||y - f_l||^2.  ``'mean'``: 1/2 ||y - f_l||^2 / n.
    init : ``'kappa'``: w_r ~ N(0, kappa^2 I).  ``'fan_in_m'``: w_r ~ N(0, I/m).
    output_scale : ``'sqrt_m'``: output factor 1/sqrt(m).  ``'sqrt_dout'``: 1/sqrt(d_out)
        (d_out = number of label columns), as in the authors' code.
    relu_grad_at_zero : value of sigma'(0): 1.0 is the paper's indicator 1{<w,x> >= 0};
        0.0 is the autograd / TensorFlow convention (a zeroed neuron then stays dead).

    Numerics
    --------
    dtype : ``'float64'``, ``'float32'`` or ``'auto'``: float64 when xi_eff = 1 (full-GD
        cells, whose L_k falls to zero and would stop at float32's rounding floor ~1e-11),
        float32 otherwise (about 1.8x faster on a CPU; the plateaus there are 1e-3 and up,
        far above float32 rounding).  ``resolved_dtype`` is the one used.
    device : ``'cpu'``, ``'cuda'`` or ``'auto'`` (cuda when available).
    path : how the tau local steps update the pre-activations Z = X W^T: ``'gram'`` applies
        the n x n Gram matrix X X^T (cost n^2 per neuron-step), ``'direct'`` applies X (X^T G)
        (cost 2nd per neuron-step); ``'auto'`` picks the cheaper (gram when n < 2d).  Both
        are exact in exact arithmetic.
    selection : for the tensor operations (a GPU): ``'gather'`` computes only the neurons a
        subnetwork holds, padded to the batch's widest, ``'masked'`` computes all m and
        multiplies by the mask; ``'auto'`` decides from the measured crossover (see
        ``engine.choose_selection``).  The compiled CPU path computes the held neurons only,
        without padding, whatever this says (``engine.FUSED``).
    trace : record the surrogate losses through every local step (Fig. 2a of the paper).
    divergence_factor : a seed is marked diverged at the first round k with L_k not finite
        or L_k > divergence_factor * max(L_0, 1); it is then frozen.
    """

    m: int = 1000
    kappa: float = 1.0
    mask: str = "bernoulli"
    xi: float | None = None  # Bernoulli: 0.5; categorical: 1/p
    p: int = 1
    tau: int = 1
    eta: float = 0.1
    rounds: int = 200
    max_rounds: int | None = None
    surrogate: str = "paper"
    aggregation: str = "paper"
    loss: str = "sum"
    init: str = "kappa"
    output_scale: str = "sqrt_m"
    relu_grad_at_zero: float = 1.0
    dtype: str = "float64"
    device: str = "cpu"
    path: str = "auto"
    selection: str = "auto"
    trace: bool = False
    divergence_factor: float = 1.0e4

    def __post_init__(self) -> None:
        self._check(CHECK_ORDER)

    def _check(self, names) -> None:
        """Validate (and normalise) the fields ``names``, in CHECK_ORDER."""
        for name in CHECK_ORDER:
            if name in names:
                object.__setattr__(self, name, _CHECKS[name](self))

    @property
    def xi_eff(self) -> float:
        """The xi of the theory: the Bernoulli parameter, or 1/p for categorical masks."""
        return 1.0 / self.p if self.mask == "categorical" else float(self.xi)

    @property
    def resolved_dtype(self) -> str:
        """The precision the engine uses: ``dtype``, or for ``'auto'`` float64 when xi_eff = 1
        (L_k -> 0) and float32 otherwise."""
        if self.dtype != "auto":
            return self.dtype
        return "float64" if self.xi_eff == 1.0 else "float32"

    @property
    def theta(self) -> float:
        """theta = 1 - (1 - xi)^p, the chance a neuron is held by >= 1 subnetwork (1 for categorical)."""
        if self.mask == "categorical":
            return 1.0
        return 1.0 - (1.0 - self.xi_eff) ** self.p

    def replace(self, **changes) -> TrainSpec:
        """A copy with ``changes`` applied; only the changed fields (and the fields whose
        check reads them, DEPENDS) are validated: the others were when ``self`` was built."""
        unknown = sorted(set(changes) - set(self.field_names()))
        if unknown:
            raise ValueError(f"TrainSpec has no field(s) {unknown}; fields are {list(self.field_names())}")
        new = copy.copy(self)
        for name, value in changes.items():
            object.__setattr__(new, name, value)
        new._check(set(changes).union(*(DEPENDS.get(name, ()) for name in changes)))
        return new

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(cls))


def _check_xi(spec: TrainSpec) -> float | None:
    """xi in (0, 1] for Bernoulli masks (None -> 0.5); None for categorical masks (xi = 1/p)."""
    if spec.mask == "bernoulli":
        return check_float("xi", 0.5 if spec.xi is None else spec.xi, 0.0, 1.0, lo_open=True)
    if spec.xi is not None:
        xi = check_float("xi", spec.xi, 0.0, 1.0, lo_open=True)
        if abs(xi - 1.0 / spec.p) > 1e-12:
            raise ValueError(f"xi = {xi:g}: categorical masks fix xi = 1/p = {1.0 / spec.p:g}; leave xi unset")
    return None


def _check_trace(spec: TrainSpec) -> bool:
    if not isinstance(spec.trace, bool):
        raise ValueError(f"trace = {spec.trace!r}: must be true or false")
    return spec.trace


def _choice(name: str, choices: tuple[str, ...]) -> Callable[[TrainSpec], str]:
    return lambda spec: check_choice(name, getattr(spec, name), choices)


#: the one check of every field: field -> (spec -> the validated value); the only place a
#: TrainSpec value is validated (the engine, masks and step rules trust a TrainSpec)
_CHECKS: dict[str, Callable[[TrainSpec], object]] = {
    "m": lambda s: check_int("m", s.m, 1),
    "kappa": lambda s: check_float("kappa", s.kappa, 0.0, lo_open=True),
    "mask": _choice("mask", MASKS),
    "p": lambda s: check_int("p", s.p, 1),
    "xi": _check_xi,
    "tau": lambda s: check_int("tau", s.tau, 1),
    "eta": lambda s: check_float("eta", s.eta, 0.0, lo_open=True),
    "rounds": lambda s: check_int("rounds", s.rounds, 1),
    "max_rounds": lambda s: None if s.max_rounds is None else check_int("max_rounds", s.max_rounds, s.rounds),
    "surrogate": _choice("surrogate", SURROGATES),
    "aggregation": _choice("aggregation", AGGREGATIONS),
    "loss": _choice("loss", LOSSES),
    "init": _choice("init", INITS),
    "output_scale": _choice("output_scale", OUTPUT_SCALES),
    "relu_grad_at_zero": lambda s: check_float("relu_grad_at_zero", s.relu_grad_at_zero, 0.0, 1.0),
    "dtype": _choice("dtype", DTYPES),
    "device": _choice("device", DEVICES),
    "path": _choice("path", PATHS),
    "selection": _choice("selection", SELECTIONS),
    "trace": _check_trace,
    "divergence_factor": lambda s: check_float("divergence_factor", s.divergence_factor, 1.0, lo_open=True),
}
#: the order of the checks: xi's reads mask and p, max_rounds' reads rounds
CHECK_ORDER = tuple(_CHECKS)
#: field -> the fields whose check reads it (re-checked by ``replace`` when it changes)
DEPENDS = {"mask": ("xi",), "p": ("xi",), "rounds": ("max_rounds",)}
