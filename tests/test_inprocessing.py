"""Penalties, proxy-Lagrangian constraints and the adversary on hand-computed batches."""

from __future__ import annotations

import pytest
import torch

from fairslm.exceptions import ConfigError, InvalidDataError
from fairslm.mitigation.inprocessing import (
    FairnessPenalty,
    ProxyLagrangian,
    RateConstraint,
    build_adversary,
    check_support,
    grad_reverse,
    group_rate_sums,
)

P = torch.tensor([0.9, 0.3, 0.6, 0.2, 0.8, 0.5])
Y = torch.tensor([1, 1, 0, 1, 0, 0])
G = torch.tensor([0, 0, 0, 1, 1, 1])


def _rates(metric, w=None):
    num, den = group_rate_sums(P, Y, G, 2, metric, w)
    return [round(v, 6) for v in (num / den).tolist()]


def test_soft_rates_by_hand():
    assert _rates("selection_rate") == [0.6, 0.5]  # (0.9+0.3+0.6)/3, (0.2+0.8+0.5)/3
    assert _rates("true_positive_rate") == [0.6, 0.2]  # (0.9+0.3)/2, 0.2/1
    assert _rates("false_positive_rate") == [0.6, 0.65]  # 0.6/1, (0.8+0.5)/2
    w = torch.tensor([1.0, 3.0, 1.0, 1.0, 1.0, 1.0])
    assert _rates("true_positive_rate", w) == [0.45, 0.2]  # (0.9 + 3*0.3)/4


def test_penalty_value_and_gradient_direction():
    p = P.clone().requires_grad_(True)
    pen = FairnessPenalty("equal_opportunity", n_groups=2, weight=2.0, momentum=0.0)
    loss = pen(p, Y, G)
    # TPRs 0.6 and 0.2 around 0.4: 2 * (0.2^2 + 0.2^2)
    assert loss.item() == pytest.approx(0.16, abs=1e-6)
    loss.backward()
    # the low-TPR group's positive is pushed up, the high group's positives down, others untouched
    assert p.grad[3] < 0 and p.grad[0] > 0 and p.grad[1] > 0
    assert p.grad[2] == 0 and p.grad[4] == 0 and p.grad[5] == 0


def test_penalty_running_estimate_smooths_value_not_direction():
    pen = FairnessPenalty("statistical_parity", n_groups=2, momentum=0.5)
    pen(torch.tensor([1.0, 0.0]), torch.tensor([1, 1]), torch.tensor([0, 1]))  # rates 1, 0
    p = torch.tensor([0.5, 0.5], requires_grad=True)
    loss = pen(p, torch.tensor([1, 1]), torch.tensor([0, 1]))
    # running sums: num = 0.5*1 + 0.5, den = 0.5*1 + 1 -> 2/3; group 1: 0.5/1.5 = 1/3
    assert pen.last_rates["selection_rate"] == pytest.approx([2 / 3, 1 / 3])
    assert loss.item() == pytest.approx(2 * (1 / 6) ** 2)
    loss.backward()
    # d/dp of sum (r - mean)^2 with batch-rate gradients: 2 * (+-1/6) * 1
    assert p.grad.tolist() == pytest.approx([1 / 3, -1 / 3])


def test_penalty_bad_arguments():
    with pytest.raises(ConfigError, match="unknown fairness metric 'accuracy'; training can act on"):
        FairnessPenalty("accuracy", n_groups=2)
    with pytest.raises(ConfigError, match="at least 2 groups; got 1"):
        FairnessPenalty("equal_opportunity", n_groups=1)
    with pytest.raises(ConfigError, match=r"momentum must be in \[0, 1\); got 1.0"):
        FairnessPenalty("equal_opportunity", n_groups=2, momentum=1.0)


def test_penalty_state_roundtrip():
    a = FairnessPenalty("equalized_odds", n_groups=2)
    a(P, Y, G)
    b = FairnessPenalty("equalized_odds", n_groups=2)
    b.load_state_dict(a.state_dict())
    assert a(P, Y, G).item() == b(P, Y, G).item()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("equal_opportunity ratio >= 0", r"target must be in \(0, 1\]"),
        ("equal_opportunity ratio >= 1.5", r"target must be in \(0, 1\] .*; got 1.5 in"),
        ("accuracy ratio >= 0.9", "unknown fairness metric 'accuracy'"),
        ("equal_opportunity ratio <= 0.9", "a ratio constraint is a bound 'ratio >= t'"),
        ("equal opportunity at least 0.9", "cannot read the constraint"),
        ("equal_opportunity ratio >= 0.9 for F", "at least 2 groups"),
    ],
)
def test_constraint_parse_errors(text, message):
    with pytest.raises(ConfigError, match=message):
        RateConstraint.parse(text)


def test_constraint_unknown_group():
    with pytest.raises(ConfigError, match=r"names group\(s\) \['X'\] that do not exist; groups are: F, M"):
        ProxyLagrangian(["equal_opportunity ratio >= 0.9 for F, X"], ["F", "M"])


def test_dual_ascent_and_projection():
    lag = ProxyLagrangian(["statistical_parity difference <= 0.1"], ["A", "B"], multiplier_lr=2.0,
                          max_multiplier=0.5)
    g = torch.tensor([0, 0, 1, 1])
    vals = lag.update(torch.tensor([1, 1, 1, 0]), torch.tensor([1, 0, 1, 0]), g)
    assert vals == {"statistical_parity difference <= 0.1": 0.5}
    # A/B: 1.0 - 0.5 - 0.1 = 0.4 -> 0.8, clipped to 0.5; B/A: 0.5 - 1 - 0.1 < 0 -> 0
    assert lag.multipliers == {"selection_rate:A/B": 0.5, "selection_rate:B/A": 0.0}
    assert not lag.satisfied(vals)
    vals = lag.update(torch.tensor([1, 0, 1, 0]), torch.tensor([1, 0, 1, 0]), g)
    assert lag.satisfied(vals)
    assert lag.multipliers["selection_rate:A/B"] == pytest.approx(0.3)  # 0.5 + 2 * (0 - 0.1)


def test_proxy_penalty_gradient_uses_multipliers():
    lag = ProxyLagrangian(["equal_opportunity ratio >= 0.9"], ["F", "M"])
    lag.load_state_dict({"multipliers": [2.0, 0.0]})  # F/M active
    p = torch.tensor([0.2, 0.4, 0.9, 0.7], requires_grad=True)
    y = torch.tensor([1, 1, 1, 1])
    g = torch.tensor([0, 0, 1, 1])
    value = lag.penalty(p, y, g)
    assert value.item() == pytest.approx(2.0 * (0.9 * 0.8 - 0.3))
    value.backward()
    assert p.grad.tolist() == pytest.approx([-1.0, -1.0, 0.9, 0.9])  # 2 * (-1/2), 2 * 0.9/2
    with pytest.raises(ConfigError, match="do not match"):
        lag.load_state_dict({"multipliers": [1.0]})


def test_check_support_names_group_and_rate():
    with pytest.raises(InvalidDataError, match="group 'F' has no rows with true label surgeon"):
        check_support(["true_positive_rate"], [1, 0, 0, 1], [0, 1, 1, 0], ["M", "F"],
                      positive_name="surgeon")
    lag = ProxyLagrangian(["equalized_odds ratio >= 0.8"], ["M", "F"])
    with pytest.raises(InvalidDataError, match="group 'M' has no rows with true label other than"):
        lag.check_support([1, 1, 0, 1], [0, 0, 1, 1])


def test_grad_reverse_and_adversary():
    x = torch.tensor([1.0, -2.0], requires_grad=True)
    (grad_reverse(x, 2.0) * torch.tensor([3.0, 4.0])).sum().backward()
    assert x.grad.tolist() == [-6.0, -8.0]

    torch.manual_seed(0)
    adv = build_adversary(3, 2, criterion="equalized_odds", hidden=4, alpha=1.0)
    rep = torch.randn(6, 3, requires_grad=True)
    loss, acc = adv.loss(rep, G, y=Y)
    loss.backward()
    reversed_grad = rep.grad.clone()
    rep.grad = None
    adv.alpha = -1.0  # no reversal: the plain gradient of the adversary's loss
    adv.loss(rep, G, y=Y)[0].backward()
    assert torch.allclose(reversed_grad, -rep.grad)
    assert 0.0 <= acc <= 1.0
    with pytest.raises(ConfigError, match="also needs the true labels"):
        adv(rep)
    with pytest.raises(ConfigError, match="unknown adversary criterion 'parity'"):
        build_adversary(3, 2, criterion="parity")
