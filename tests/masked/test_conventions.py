"""The map between the paper's convention and the authors' 1/xi convention (docs/masked/mathematics.md sec. 6)."""

import numpy as np
import pytest

from maskedntk.studies.masked.conventions import (
    as_paper_spec,
    authors_error_to_paper,
    authors_to_paper,
    paper_error_to_authors,
    paper_to_authors,
)
from maskedntk.studies.masked.data import make_synthetic
from maskedntk.studies.masked.engine import train
from maskedntk.studies.masked.spec import TrainSpec


@pytest.mark.parametrize("mask,xi,p", [("bernoulli", 0.4, 3), ("bernoulli", 0.8, 1), ("categorical", None, 4)])
@pytest.mark.parametrize("loss", ["sum", "mean"])
def test_conversion_gives_identical_trajectories(mask, xi, p, loss):
    ds = make_synthetic("teacher", 12, 6, seed=1)
    authors = TrainSpec(
        m=40, mask=mask, xi=xi, p=p, tau=3, eta=0.3, rounds=15, surrogate="inverse_xi", loss=loss, trace=True
    )
    xi_eff = authors.xi_eff
    y_paper, eta_paper = authors_to_paper(ds.y, authors.eta, xi_eff)
    paper = as_paper_spec(authors)
    assert paper.surrogate == "paper" and paper.eta == pytest.approx(eta_paper, rel=1e-15)
    ra = train(ds.X, ds.y, authors, [0, 1], return_weights=True)
    rp = train(ds.X, y_paper, paper, [0, 1], return_weights=True)
    # the weights follow the same path, the errors differ by the factor xi^2
    np.testing.assert_allclose(rp.weights, ra.weights, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(paper_error_to_authors(rp.losses, xi_eff), ra.losses, rtol=1e-10)
    np.testing.assert_allclose(authors_error_to_paper(ra.trace, xi_eff), rp.trace, rtol=1e-10)
    assert not np.allclose(rp.losses, ra.losses)  # the conversion is not the identity


def test_conversions_are_inverse_and_validated():
    y = np.array([0.5, -1.0, 0.25])
    y2, eta2 = paper_to_authors(*authors_to_paper(y, 0.1, 0.3), 0.3)
    np.testing.assert_allclose(y2, y, rtol=1e-15)
    assert eta2 == pytest.approx(0.1, rel=1e-15)
    with pytest.raises(ValueError, match="xi"):
        authors_to_paper(y, 0.1, 0.0)
    with pytest.raises(ValueError, match="eta"):
        paper_to_authors(y, -1.0, 0.5)
