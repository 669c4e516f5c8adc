"""A solve session re-solves only the blocks whose fixings changed, from the previous plan."""

import pytest
from helpers import INSTANCES, hand_policy

from allocator.data.load import load_instance
from allocator.model.build import build_model, refix
from allocator.solve.highs import SolveSession
from allocator.solve.options import SolveOptions


def test_refix_resolves_only_the_changed_province(monkeypatch):
    monkeypatch.setattr("allocator.solve.highs.SMALL_BLOCK_COLUMNS", 0)  # one block per province even when tiny
    inst = load_instance(INSTANCES / "tiny-two-provinces")
    policy = hand_policy()
    model = build_model(inst, policy)
    session = SolveSession(model, SolveOptions(gap=0, workers=1))
    first = session.solve()
    assert first.objective == pytest.approx(8_100) and first.timings["blocks_solved"] == 2

    refix(model, inst, policy.with_(forbid_sites=("LA",)))
    second = session.solve()
    assert second.objective == pytest.approx(11_950)
    assert second.timings["blocks_solved"] == 1
    assert model.open_site["LA"].value == 0

    refix(model, inst, policy)
    assert session.solve().objective == pytest.approx(8_100)


def test_refix_refuses_other_policy_changes():
    inst = load_instance(INSTANCES / "tiny-two-provinces")
    model = build_model(inst, hand_policy())
    with pytest.raises(ValueError, match="travel_value"):
        refix(model, inst, hand_policy(travel_value=5))


def test_small_blocks_first_then_the_others_longest_first():
    """A plan's bound needs every block's: the blocks far smaller than the largest are queued first (they need
    seconds for it), then the others; each part longest first, which keeps the workers busy."""
    import pyomo.environ as pyo
    from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

    from allocator.solve.highs import make_blocks

    sizes = [30, 200, 3, 100, 250]  # independent knapsacks of these many columns
    m = pyo.ConcreteModel()
    m.x = pyo.Var([(k, j) for k, n in enumerate(sizes) for j in range(n)], within=pyo.Binary)
    m.row = pyo.Constraint(range(len(sizes)), rule=lambda m, k: sum(m.x[k, j] for j in range(sizes[k])) <= 1)
    m.obj = pyo.Objective(expr=-sum(m.x.values()))
    blocks = make_blocks(LinearStandardFormCompiler().write(m, mixed_form=True), decompose=True)
    assert [len(b.cost) for b in blocks] == [30, 3, 250, 200, 100]
