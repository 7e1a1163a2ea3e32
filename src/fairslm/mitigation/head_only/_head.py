"""A classification head trained on frozen sentence embeddings, with fairness losses.

The encoder is frozen, so the embeddings are computed once (see :func:`embed_texts`) and the
head trains full-batch in seconds. Full batches contain every group, so the soft group rates
are exact batch statistics and need no running estimates.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from fairslm._optional import import_optional
from fairslm.engines import group_labels, to_1d, validate_weights
from fairslm.exceptions import ConfigError, InvalidDataError
from fairslm.mitigation.inprocessing import CRITERION_METRICS, check_support

__all__ = ["FAIRNESS_MODES", "HEAD_CONSTRAINTS", "HeadOnlyClassifier", "binary_labels", "decisions"]

FAIRNESS_MODES = (None, "penalty", "constraint", "adversary")
# The criteria the head trains for (the fine-tuning loop's, from the in-processing module).
HEAD_CONSTRAINTS = CRITERION_METRICS


def binary_labels(y: Any, pos_label: object | None) -> tuple[NDArray[np.float32], object, list[object]]:
    """``y`` as 0/1 floats (1 = ``pos_label``), the positive label and the sorted classes."""
    yt = to_1d(y, "y")
    classes = sorted(set(yt.tolist()), key=str)
    if pos_label is None:
        if set(classes) <= {0, 1}:
            pos_label = 1
        else:
            raise InvalidDataError(
                f"the labels are {classes}, not 0/1; pass pos_label= naming the positive class"
            )
    if pos_label not in classes and len(classes) > 0 and not set(classes) <= {0, 1}:
        raise InvalidDataError(f"pos_label {pos_label!r} is not among the labels {classes}")
    if len(classes) > 2:
        raise InvalidDataError(f"a binary head needs two classes; found {len(classes)}: {classes}")
    if set(classes) <= {0, 1}:
        classes = [0, 1]
    return (yt == pos_label).astype(np.float32), pos_label, classes


class HeadOnlyClassifier:
    """Logistic (or one-hidden-layer) head on fixed embeddings, optionally fairness-constrained.

    Parameters
    ----------
    fairness : {None, "penalty", "constraint", "adversary"}
        ``"penalty"`` adds ``penalty_weight`` times the squared gaps between each group's soft
        rate and the mean soft rate (soft rates use predicted probabilities instead of
        decisions). ``"constraint"`` enforces ``ratio >= target`` with Lagrange multipliers
        updated by dual ascent on the hard rates of a held-out slice, the proxy-Lagrangian
        of Cotter, Jiang & Sridharan (2019). ``"adversary"`` trains an adversary to predict the
        group from the logit (and the label, for equal opportunity and equalized odds) through
        a gradient-reversal layer (Zhang, Lemoine & Mitchell, 2018; Ganin & Lempitsky, 2015).
        All three are the fine-tuning loop's own objects from
        :mod:`fairslm.mitigation.inprocessing` (``FairnessPenalty``, ``ProxyLagrangian``,
        ``build_adversary``), applied to full batches.
    constraint : {"statistical_parity", "equal_opportunity", "equalized_odds"}
    target : float in (0, 1], default 0.9
        Ratio of the smallest to the largest group rate the constraint mode asks for.
    max_difference : float in (0, 1], optional
        When given, the constraint mode asks for ``largest - smallest rate <= max_difference``
        instead of the ratio (useful for small rates such as false positive rates).
    penalty_weight : float, default 1.0
    adversary_weight : float, default 1.0
    hidden : int, default 0
        Width of a hidden layer; 0 is a linear (logistic) head.
    n_steps : int, default 400
    lr : float, default 0.05
    weight_decay : float, default 1e-4
    holdout : float, default 0.2
        Share of rows held out to measure the hard constraint (constraint mode).
    dual_lr : float, default 0.5
    pos_label : optional
    seed : int, default 0

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 4)).astype("float32")
    >>> y = (X[:, 0] > 0).astype(int)
    >>> clf = HeadOnlyClassifier(n_steps=50).fit(X, y, sensitive_features=rng.integers(0, 2, 200))
    >>> float((clf.predict(X) == y).mean()) > 0.9
    True
    """

    def __init__(
        self,
        *,
        fairness: str | None = None,
        constraint: str = "equal_opportunity",
        target: float = 0.9,
        max_difference: float | None = None,
        penalty_weight: float = 1.0,
        adversary_weight: float = 1.0,
        hidden: int = 0,
        n_steps: int = 400,
        lr: float = 0.05,
        weight_decay: float = 1e-4,
        holdout: float = 0.2,
        dual_lr: float = 0.5,
        pos_label: object | None = None,
        seed: int = 0,
    ) -> None:
        self.fairness = fairness
        self.constraint = constraint
        self.target = target
        self.max_difference = max_difference
        self.penalty_weight = penalty_weight
        self.adversary_weight = adversary_weight
        self.hidden = hidden
        self.n_steps = n_steps
        self.lr = lr
        self.weight_decay = weight_decay
        self.holdout = holdout
        self.dual_lr = dual_lr
        self.pos_label = pos_label
        self.seed = seed

    def _check(self) -> tuple[str, ...]:
        if self.fairness not in FAIRNESS_MODES:
            raise ConfigError(
                f"unknown fairness mode {self.fairness!r}; choose one of "
                f"{', '.join(str(m) for m in FAIRNESS_MODES)}"
            )
        if self.constraint not in HEAD_CONSTRAINTS:
            raise ConfigError(
                f"unknown constraint {self.constraint!r}; the head supports "
                f"{', '.join(HEAD_CONSTRAINTS)}"
            )
        t = self.target
        if isinstance(t, bool) or not isinstance(t, (int, float)) or not 0 < float(t) <= 1:
            raise ConfigError(f"target must be a ratio in (0, 1]; got {t!r}")
        d = self.max_difference
        if d is not None and (isinstance(d, bool) or not isinstance(d, (int, float)) or not 0 < d <= 1):
            raise ConfigError(f"max_difference must be in (0, 1]; got {d!r}")
        if not 0 < self.holdout < 1:
            raise ConfigError(f"holdout must be in (0, 1); got {self.holdout}")
        return HEAD_CONSTRAINTS[self.constraint]

    def fit(
        self, X: Any, y: Any, *, sensitive_features: Any, sample_weight: Any = None
    ) -> HeadOnlyClassifier:
        """Train the head on embeddings ``X`` (n_rows, dim)."""
        torch = import_optional("torch", purpose="head-only training")
        rates = self._check()
        Xa = np.asarray(X, dtype=np.float32)
        if Xa.ndim != 2:
            raise InvalidDataError(f"X must be a 2-D embedding matrix; got shape {Xa.shape}")
        n = Xa.shape[0]
        y01, pos, classes = binary_labels(y, self.pos_label)
        if len(y01) != n:
            raise InvalidDataError(f"y has {len(y01)} values but X has {n} rows")
        group_names, gcode = np.unique(group_labels(sensitive_features, n).astype(str), return_inverse=True)
        gcode = gcode.reshape(-1).astype(np.int64)
        labels = [str(v) for v in group_names]
        n_groups = len(labels)
        if self.fairness is not None and n_groups < 2:
            raise InvalidDataError(
                f"fairness={self.fairness!r} needs at least two groups; sensitive_features has "
                f"one ({labels[0]!r})"
            )
        w = np.ones(n) if sample_weight is None else validate_weights(sample_weight, n)
        if self.fairness in ("penalty", "constraint"):
            check_support(rates, y01, gcode, labels, positive_name=repr(pos))

        from fairslm.mitigation.inprocessing import (
            FairnessPenalty,
            ProxyLagrangian,
            RateConstraint,
            build_adversary,
        )

        torch.manual_seed(self.seed)
        rng = np.random.default_rng(self.seed)
        train_idx = np.arange(n)
        hold_idx = np.zeros(0, dtype=np.int64)
        if self.fairness == "constraint":
            # Held-out rows stratified by group and label, so every cell is measured.
            strata = gcode * 2 + y01.astype(np.int64)
            hold = np.zeros(n, dtype=bool)
            for s in np.unique(strata):
                idx = np.flatnonzero(strata == s)
                k = int(round(len(idx) * self.holdout))
                hold[rng.choice(idx, size=min(k, len(idx) - 1), replace=False)] = True
            train_idx, hold_idx = np.flatnonzero(~hold), np.flatnonzero(hold)

        Xt = torch.from_numpy(Xa)
        yt = torch.from_numpy(y01)
        gt = torch.from_numpy(gcode)
        wt = torch.from_numpy(w.astype(np.float32))
        dim = Xa.shape[1]
        head = (
            torch.nn.Linear(dim, 1)
            if self.hidden == 0
            else torch.nn.Sequential(
                torch.nn.Linear(dim, self.hidden), torch.nn.ReLU(), torch.nn.Linear(self.hidden, 1)
            )
        )
        params = list(head.parameters())
        penalty = lagrangian = adversary = None
        if self.fairness == "penalty":
            # Full batches hold every row, so the batch rate is the exact rate: no running mean.
            penalty = FairnessPenalty(
                self.constraint, n_groups=n_groups, weight=self.penalty_weight, momentum=0.0
            )
        elif self.fairness == "constraint":
            target = RateConstraint(
                metric=self.constraint,
                kind="ratio" if self.max_difference is None else "difference",
                target=float(self.target if self.max_difference is None else self.max_difference),
            )
            lagrangian = ProxyLagrangian([target], labels, multiplier_lr=self.dual_lr)
        elif self.fairness == "adversary":
            # The adversary reads the logit, as in Zhang, Lemoine & Mitchell (2018).
            adversary = build_adversary(
                1, n_groups, criterion=self.constraint, hidden=16, alpha=self.adversary_weight
            )
            params += list(adversary.parameters())
        opt = torch.optim.Adam(params, lr=self.lr, weight_decay=self.weight_decay)
        tr = torch.from_numpy(train_idx)
        ho = torch.from_numpy(hold_idx)
        log: list[dict[str, Any]] = []
        for step in range(self.n_steps):
            opt.zero_grad()
            logits = head(Xt[tr]).squeeze(-1)
            yb, gb, wb = yt[tr], gt[tr], wt[tr]
            loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, yb, weight=wb)
            p = torch.sigmoid(logits)
            if penalty is not None:
                loss = loss + penalty(p, yb, gb, wb)
            elif lagrangian is not None:
                loss = loss + lagrangian.penalty(p, yb, gb, wb)
            elif adversary is not None:
                adv_loss, _ = adversary.loss(logits.unsqueeze(-1), gb, yb.long(), wb)
                loss = loss + adv_loss
            loss.backward()
            opt.step()
            if lagrangian is not None:
                with torch.no_grad():
                    hard = (head(Xt[ho]).squeeze(-1) > 0).to(torch.float32)
                values = lagrangian.update(hard, yt[ho], gt[ho], wt[ho])
                if step % 50 == 0 or step == self.n_steps - 1:
                    log.append({"step": step, "loss": float(loss.detach()), "constraints": values,
                                "multipliers": lagrangian.multipliers})
        self.head_ = head
        self.multipliers_ = dict(lagrangian.multipliers) if lagrangian is not None else {}
        self.log_ = log
        self.pos_label_ = pos
        self.classes_ = classes
        self.n_groups_ = n_groups
        return self

    def decision_function(self, X: Any) -> NDArray[np.float64]:
        """Logits of the positive class."""
        torch = import_optional("torch", purpose="head-only inference")
        if not hasattr(self, "head_"):
            raise ConfigError("this HeadOnlyClassifier is not fitted yet; call fit first")
        with torch.no_grad():
            out = self.head_(torch.from_numpy(np.asarray(X, dtype=np.float32))).squeeze(-1)
        return out.numpy().astype(np.float64)

    def predict_proba(self, X: Any) -> NDArray[np.float64]:
        """Probabilities, shape (n, 2): column 1 is the positive class."""
        p = 1.0 / (1.0 + np.exp(-self.decision_function(X)))
        return np.column_stack([1.0 - p, p])

    def predict(self, X: Any) -> NDArray[Any]:
        """Decisions at probability 0.5, in the labels of ``y``."""
        return decisions(self.predict_proba(X)[:, 1] >= 0.5, self.classes_, self.pos_label_)


def decisions(selected: NDArray[np.bool_], classes: list[object], pos_label: object) -> NDArray[Any]:
    """Selected rows -> ``pos_label``, others -> the other class (0/1 labels stay integers)."""
    if set(classes) <= {0, 1}:
        return selected.astype(np.int64)
    neg = [c for c in classes if c != pos_label][0]
    out = np.empty(len(selected), dtype=object)
    out[selected] = pos_label
    out[~selected] = neg
    return out
