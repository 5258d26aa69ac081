"""The sublinear study's engine and identifiers: exactness against dense SGD and an
independent plain-loop implementation, identifier correctness, counters, config validation."""

import math
import re

import numpy as np
import pytest

from maskedntk.studies.sublinear import engine, experiments, theory
from maskedntk.studies.sublinear.identifiers import IDENTIFIERS, make_identifier


def _run(name, m, d, steps, seed=0, M=1.0, batch=1, **kw):
    b = theory.threshold(m)
    net = engine.init_network(m, d, b, seed)
    ident = make_identifier(name, b, **kw)
    target = engine.make_target(d, M, seed=seed)
    eta = 1.0 / theory.fire_probability(b)
    log = engine.sgd(net, ident, target, steps=steps, eta=eta, seed=seed, keep_sets=True, batch=batch)
    return net, ident, log


TREES = [i for i in IDENTIFIERS if i != "dense"]


@pytest.mark.parametrize("batch", [1, 5])
@pytest.mark.parametrize("d", [2, 4, 8])
@pytest.mark.parametrize("name", TREES)
def test_iterates_bit_identical_to_dense(name, d, batch):
    """Every identifier reports the same active sets at every step, online and in mini-batches,
    so the iterates are the same floating-point numbers as dense SGD's (rebuilds and radius
    growth included)."""
    m, steps = 700, 40
    ref, _, ref_log = _run("dense", m, d, steps, batch=batch)
    net, ident, log = _run(name, m, d, steps, batch=batch, leaf_size=8, rebuild_fraction=0.05, n_shells=3)
    flat = (lambda sets: sets) if batch == 1 else (lambda sets: [s for step in sets for s in step])
    for s_ref, s in zip(flat(ref_log.sets), flat(log.sets), strict=True):
        assert np.array_equal(s_ref, s)
    assert np.array_equal(ref.W, net.W)
    assert not np.array_equal(ref.W, engine.init_network(m, d, net.b, 0).W)  # it moved
    if name in ("balltree", "compiled_static"):
        assert ident.n_rebuilds > 1  # the rebuild path was exercised


def test_batch_step_matches_plain_loop_minibatch_sgd():
    """A mini-batch step equals the averaged full-width gradient step written with loops."""
    m, d, b, eta, B = 40, 3, 0.3, 0.7, 4
    net = engine.init_network(m, d, b, 2)
    X = engine.sphere(np.random.default_rng(5), B, d)
    Y = np.array([0.3, -0.2, 0.5, 0.1])
    W = net.W.copy()
    grad = np.zeros_like(W)
    for x, y in zip(X, Y, strict=True):
        pre = W @ x
        f = sum(net.a[r] * max(pre[r] - b, 0.0) for r in range(m)) / math.sqrt(m)
        for r in range(m):
            if pre[r] > b:
                grad[r] += (f - y) / math.sqrt(m) * net.a[r] * x / B
    for name in ("dense", "compiled_tree"):
        n = engine.Network(W=net.W.copy(), a=net.a, b=b)
        ident = make_identifier(name, b, leaf_size=4)
        ident.build(n.W)
        engine.sgd_batch_step(n, ident, X, Y, eta)
        np.testing.assert_allclose(n.W, W - eta * grad, rtol=1e-12, atol=1e-14)


def test_same_tree_same_inner_products_interpreted_or_compiled():
    """The interpreted and the compiled partition tree are one tree: equal inner-product counts."""
    _, a, _ = _run("partition_tree", 900, 4, 20, leaf_size=8)
    _, c, _ = _run("compiled_tree", 900, 4, 20, leaf_size=8)
    ca, cc = a.counters(), c.counters()
    assert ca["ip_init"] == cc["ip_init"] and ca["ip_query"] == cc["ip_query"] and ca["ip_update"] == cc["ip_update"]


def test_compiled_warm_up_reports_seconds():
    from maskedntk.studies.sublinear import kernels

    assert kernels.warm_up() > 0


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

    return yaml.safe_load((Path(__file__).parents[2] / "config" / "sublinear.yaml").read_text())["sublinear"]


@pytest.mark.parametrize(
    "path", ["config/sublinear.yaml", "config/sublinear_paper.yaml", ".test/config/sublinear.yaml"]
)
def test_shipped_configs_validate(path):
    from pathlib import Path

    import yaml

    cfg = yaml.safe_load((Path(__file__).parents[2] / path).read_text())
    assert list(cfg) == ["sublinear"]
    experiments.validate(cfg["sublinear"])


@pytest.mark.parametrize(
    "mutate, key",
    [
        (lambda c: c.pop("seeds"), "seeds"),
        (lambda c: c["cost"]["batches"][0].update(identifiers=["balltree"]), "cost.batches[0].identifiers"),
        (lambda c: c["cost"]["batches"][1].update(identifiers=["dense", "lsh"]), "cost.batches[1].identifiers"),
        (lambda c: c["cost"]["batches"][0].update(B=4), "cost.batches"),
        (lambda c: c["cost"].update(steps=[10]), "cost.steps"),
        (lambda c: c["cost"].update(identifiers=["dense"]), r"sublinear\.cost: unknown key.*'identifiers'"),
        (lambda c: c["training"].update(degrees=[2, 3]), "training.degrees"),
        (lambda c: c["training"]["width"].update(m_max=2), "training.width.m_max"),
        (lambda c: c["claims"].update(sublinear_identifier="dense"), "claims.sublinear_identifier"),
        (lambda c: c["training"].update(Ms=[1.0]), "training.Ms"),
        (lambda c: c["claims"].update(sublinear_d=3), "claims.sublinear_d"),
        (lambda c: c["claims"].update(loss_slope=0.5), "claims.loss_slope"),
        (lambda c: c.update(alpha=0.05), r"sublinear: unknown key.*'alpha'"),
        (lambda c: c.update(bogus=1), "unknown key"),
        (lambda c: c["activity"].update(ms=[1]), "activity.ms"),
    ],
)
def test_bad_config_names_the_key(mutate, key):
    cfg = _cfg()
    mutate(cfg)
    with pytest.raises(ValueError, match=key if ".*" in key else re.escape(key)):
        experiments.validate(cfg)


@pytest.mark.parametrize("name", ["balltree", "compiled_static"])
def test_static_structures_are_charged_the_rebuild_their_changes_owe(name):
    """50 changed rows of 1000 with rebuilds after 100: half a build is owed (no rebuild yet)."""
    W = np.random.default_rng(0).standard_normal((1000, 4))
    ident = make_identifier(name, 1.0, leaf_size=16, rebuild_fraction=0.1)
    ident.build(W)
    ident.mark_init()
    ident.update(W, np.arange(50))
    c = ident.counters()
    assert c["n_rebuilds"] == 1
    assert c["ip_rebuild"] == int(0.5 * c["ip_init"])
    assert c["t_rebuild"] == pytest.approx(0.5 * c["t_init"])
