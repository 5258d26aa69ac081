"""The sublinear study's engine and identifiers: exactness against dense SGD and an
independent plain-loop implementation, identifier correctness, counters, config validation."""

import math

import numpy as np
import pytest

from maskedntk.studies.sublinear import engine, experiments, theory
from maskedntk.studies.sublinear.identifiers import IDENTIFIERS, make_identifier


def _run(name, m, d, steps, seed=0, M=1.0, **kw):
    b = theory.threshold(m)
    net = engine.init_network(m, d, b, seed)
    ident = make_identifier(name, b, **kw)
    target = engine.make_target(d, M, seed=seed)
    log = engine.sgd(net, ident, target, steps=steps, eta=1.0 / theory.fire_probability(b), seed=seed, keep_sets=True)
    return net, ident, log


@pytest.mark.parametrize("d", [2, 4, 8])
@pytest.mark.parametrize("name", ["balltree", "partition_tree"])
def test_iterates_bit_identical_to_dense(name, d):
    """Every identifier reports the same active set at every step, so the iterates are the
    same floating-point numbers as dense SGD's (rebuilds and radius growth included)."""
    m, steps = 700, 60
    ref, _, ref_log = _run("dense", m, d, steps)
    net, ident, log = _run(name, m, d, steps, leaf_size=8, rebuild_fraction=0.05, n_shells=3)
    for s_ref, s in zip(ref_log.sets, log.sets, strict=True):
        assert np.array_equal(s_ref, s)
    assert np.array_equal(ref.W, net.W)
    if name == "balltree":
        assert ident.n_rebuilds > 1  # the rebuild path was exercised


def test_dense_sgd_matches_plain_loop_reference():
    """Active-only SGD equals full-width SGD written independently with explicit loops."""
    m, d, steps = 40, 3, 25
    b = 0.3  # low threshold so that many neurons are active
    net = engine.init_network(m, d, b, 3)
    W0 = net.W.copy()
    target = engine.make_target(d, 2.0, seed=3)
    rng = np.random.default_rng([3, 4, d, 0])
    xs = engine.sphere(rng, steps, d)
    ys = target(xs)
    engine.sgd(net, make_identifier("dense", b), target, steps=steps, eta=0.7, seed=3)
    W_ref = engine.sgd_reference(W0, net.a, b, xs, ys, 0.7)
    np.testing.assert_allclose(net.W, W_ref, rtol=1e-12, atol=1e-13)
    assert not np.allclose(net.W, W0)  # it moved


def test_forward_matches_autograd_gradient():
    """The engine's update equals -eta times torch autograd's gradient of (f - y)^2 / 2."""
    torch = pytest.importorskip("torch")
    m, d, b, eta = 50, 5, 0.2, 0.3
    net = engine.init_network(m, d, b, 1)
    x = engine.sphere(np.random.default_rng(9), 1, d)[0]
    y = 0.37
    W = torch.tensor(net.W, requires_grad=True)
    f = (torch.relu(W @ torch.tensor(x) - b) @ torch.tensor(net.a)) / math.sqrt(m)
    loss = 0.5 * (f - y) ** 2
    loss.backward()
    expected = net.W - eta * W.grad.numpy()
    assert math.isclose(float(f.detach()), float(net.forward(x[None, :])[0]), rel_tol=1e-12)
    for name in IDENTIFIERS:
        n = engine.Network(W=net.W.copy(), a=net.a, b=b)
        ident = make_identifier(name, b, leaf_size=4)
        ident.build(n.W)
        engine.sgd_step(n, ident, x, y, eta)
        np.testing.assert_allclose(n.W, expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", IDENTIFIERS)
@pytest.mark.parametrize("d", [2, 5, 16])
def test_query_equals_bruteforce(name, d):
    m = 1500
    b = theory.threshold(m)
    W = np.random.default_rng([d, 7]).standard_normal((m, d))
    ident = make_identifier(name, b, leaf_size=16)
    ident.build(W)
    for x in engine.sphere(np.random.default_rng(11), 30, d):
        got = ident.query(W, x)
        assert np.array_equal(got, np.flatnonzero(W @ x > b))
    c = ident.counters()
    assert c["n_queries"] == 30 and c["ip_query"] > 0


def test_partition_tree_update_keeps_bounds_valid():
    """After arbitrary moves of some rows, every node's radius still covers its rows."""
    m, d = 512, 4
    b = 1.0
    W = np.random.default_rng(0).standard_normal((m, d))
    t = make_identifier("partition_tree", b, leaf_size=8)
    t.build(W)
    rows = np.arange(0, m, 7)
    W[rows] += 3.0 * np.random.default_rng(1).standard_normal((rows.size, d))
    t.update(W, rows)
    for r in range(m):
        for node in t.path[r]:
            assert np.linalg.norm(W[r] - t.centre[node]) <= t.rho[node] * (1 + 1e-12)
    x = engine.sphere(np.random.default_rng(2), 1, d)[0]
    assert np.array_equal(t.query(W, x), np.flatnonzero(W @ x > b))


def test_dense_counts_m_inner_products_per_query():
    _, ident, _ = _run("dense", 300, 3, 10)
    assert ident.counters()["ip_query"] == 300 * 10


def test_partition_tree_prunes_at_low_dimension():
    """At d = 2 the tree evaluates far fewer than m inner products per query."""
    m = 2**14
    b = theory.threshold(m)
    W = np.random.default_rng(0).standard_normal((m, 2))
    t = make_identifier("partition_tree", b)
    t.build(W)
    for x in engine.sphere(np.random.default_rng(1), 20, 2):
        t.query(W, x)
    assert t.ip_query / 20 < 0.2 * m


def test_runs_are_deterministic():
    a, _, _ = _run("dense", 200, 4, 30, seed=5)
    b_, _, _ = _run("dense", 200, 4, 30, seed=5)
    c, _, _ = _run("dense", 200, 4, 30, seed=6)
    assert np.array_equal(a.W, b_.W) and not np.array_equal(a.W, c.W)


def test_unknown_identifier_rejected():
    with pytest.raises(ValueError, match="identifier must be one of"):
        make_identifier("lsh", 1.0)


def _cfg():
    from pathlib import Path

    import yaml

    return yaml.safe_load((Path(__file__).parents[1] / "config" / "sublinear.yaml").read_text())["sublinear"]


@pytest.mark.parametrize(
    "path", ["config/sublinear.yaml", "config/sublinear_paper.yaml", ".test/config/sublinear.yaml"]
)
def test_shipped_configs_validate(path):
    from pathlib import Path

    import yaml

    cfg = yaml.safe_load((Path(__file__).parents[1] / path).read_text())
    assert list(cfg) == ["sublinear"]
    experiments.validate(cfg["sublinear"])


@pytest.mark.parametrize(
    "mutate, key",
    [
        (lambda c: c.pop("seeds"), "seeds"),
        (lambda c: c["cost"].update(identifiers=["balltree"]), "cost.identifiers"),
        (lambda c: c["cost"].update(identifiers=["dense", "lsh"]), "cost.identifiers"),
        (lambda c: c["training"].update(Ms=[1.0]), "training.Ms"),
        (lambda c: c["claims"].update(sublinear_d=3), "claims.sublinear_d"),
        (lambda c: c["claims"].update(loss_slope=0.5), "claims.loss_slope"),
        (lambda c: c.update(alpha=1.5), "alpha"),
        (lambda c: c.update(bogus=1), "unknown key"),
        (lambda c: c["activity"].update(ms=[1]), "activity.ms"),
    ],
)
def test_bad_config_names_the_key(mutate, key):
    cfg = _cfg()
    mutate(cfg)
    with pytest.raises(ValueError, match=key.replace(".", r"\.")):
        experiments.validate(cfg)
