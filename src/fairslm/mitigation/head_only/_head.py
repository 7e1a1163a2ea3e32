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
from fairslm.engines._inputs import encode_features, to_1d, validate_weights
from fairslm.exceptions import ConfigError, InvalidDataError

__all__ = ["FAIRNESS_MODES", "HEAD_CONSTRAINTS", "HeadOnlyClassifier", "binary_labels"]

FAIRNESS_MODES = (None, "penalty", "constraint", "adversary")
# constraint -> the soft rates it equalises
HEAD_CONSTRAINTS: dict[str, tuple[str, ...]] = {
    "statistical_parity": ("selection_rate",),
    "equal_opportunity": ("true_positive_rate",),
    "equalized_odds": ("true_positive_rate", "false_positive_rate"),
}


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
        group from the logit (and the label for equalized odds; positives only for equal
        opportunity) through a gradient-reversal layer (Zhang, Lemoine & Mitchell, 2018;
        Ganin & Lempitsky, 2015).
    constraint : {"statistical_parity", "equal_opportunity", "equalized_odds"}
    target : float in (0, 1], default 0.9
        Ratio of the smallest to the largest group rate the constraint mode asks for.
    max_difference : float, optional
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
        if d is not None and (isinstance(d, bool) or not isinstance(d, (int, float)) or not 0 <= d < 1):
            raise ConfigError(f"max_difference must be in [0, 1); got {d!r}")
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
        _, levels, codes = encode_features(sensitive_features, n)
        gcode = np.zeros(n, dtype=np.int64)
        for lv, c in zip(levels, codes, strict=True):
            gcode = gcode * len(lv) + c
        _, gcode = np.unique(gcode, return_inverse=True)
        gcode = gcode.reshape(-1)
        n_groups = int(gcode.max()) + 1
        w = np.ones(n) if sample_weight is None else validate_weights(sample_weight, n)
        if "true_positive_rate" in rates and self.fairness is not None:
            for k in range(n_groups):
                if not (y01[gcode == k] > 0).any():
                    raise InvalidDataError(
                        f"group {k} of sensitive_features has no positives in training, so "
                        f"its true positive rate and {self.constraint} are undefined; merge or "
                        "drop it, or use statistical_parity"
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
        adversary = None
        if self.fairness == "adversary":
            in_dim = 2 if self.constraint == "equalized_odds" else 1
            adversary = torch.nn.Sequential(
                torch.nn.Linear(in_dim, 16), torch.nn.ReLU(), torch.nn.Linear(16, n_groups)
            )
            params += list(adversary.parameters())
        opt = torch.optim.Adam(params, lr=self.lr, weight_decay=self.weight_decay)
        n_pairs = n_groups * (n_groups - 1) * len(rates)
        lam = torch.zeros(n_pairs)
        tr = torch.from_numpy(train_idx)
        ho = torch.from_numpy(hold_idx)
        log: list[dict[str, float]] = []
        for step in range(self.n_steps):
            opt.zero_grad()
            logits = head(Xt[tr]).squeeze(-1)
            yb, gb, wb = yt[tr], gt[tr], wt[tr]
            loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, yb, weight=wb)
            fair = torch.zeros(())
            if self.fairness == "penalty":
                p = torch.sigmoid(logits)
                for m in rates:
                    r = _soft_rates(torch, p, yb, gb, wb, n_groups, m)
                    fair = fair + ((r - r.mean()) ** 2).sum()
                loss = loss + self.penalty_weight * fair
            elif self.fairness == "constraint":
                p = torch.sigmoid(logits)
                viol = torch.cat(
                    [_pair_violations(torch, _soft_rates(torch, p, yb, gb, wb, n_groups, m), self.target, self.max_difference) for m in rates]
                )
                loss = loss + (lam * viol).sum()
            elif adversary is not None:
                feats = _GradReverse.apply(logits, self.adversary_weight).unsqueeze(-1)
                mask = yb > 0 if self.constraint == "equal_opportunity" else torch.ones_like(yb, dtype=torch.bool)
                if self.constraint == "equalized_odds":
                    feats = torch.cat([feats, yb.unsqueeze(-1)], dim=1)
                adv_logits = adversary(feats[mask])
                fair = torch.nn.functional.cross_entropy(adv_logits, gb[mask])
                loss = loss + fair
            loss.backward()
            opt.step()
            if self.fairness == "constraint":
                with torch.no_grad():
                    hard = (head(Xt[ho]).squeeze(-1) > 0).float()
                    hv = torch.cat(
                        [
                            _pair_violations(torch, _soft_rates(torch, hard, yt[ho], gt[ho], wt[ho], n_groups, m), self.target, self.max_difference)
                            for m in rates
                        ]
                    )
                    lam = torch.clamp(lam + self.dual_lr * hv, min=0.0)
                if step % 50 == 0 or step == self.n_steps - 1:
                    log.append({"step": step, "loss": float(loss.detach()), "max_violation": float(hv.max()),
                                "multipliers": [float(v) for v in lam]})  # type: ignore[dict-item]
        self.head_ = head
        self.multipliers_ = lam.tolist()
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
        sel = self.predict_proba(X)[:, 1] >= 0.5
        if set(self.classes_) <= {0, 1}:
            return sel.astype(np.int64)
        neg = [c for c in self.classes_ if c != self.pos_label_][0]
        return np.where(sel, self.pos_label_, neg)


def _soft_rates(torch: Any, p: Any, y: Any, g: Any, w: Any, n_groups: int, metric: str) -> Any:
    """Per-group (soft) selection rate, TPR or FPR: weighted means of ``p`` over a row mask."""
    if metric == "selection_rate":
        mask = torch.ones_like(y)
    elif metric == "true_positive_rate":
        mask = y
    else:
        mask = 1.0 - y
    ww = w * mask
    num = torch.zeros(n_groups).index_add(0, g, ww * p)
    den = torch.zeros(n_groups).index_add(0, g, ww)
    return num / den.clamp(min=1e-12)


def _pair_violations(torch: Any, r: Any, target: float, max_difference: float | None) -> Any:
    """Per ordered pair g != h: ``target * r_h - r_g`` or ``r_h - r_g - max_difference``.

    Every value <= 0 means ratio >= target (or difference <= max_difference).
    """
    k = r.shape[0]
    gi, hi = np.where(~np.eye(k, dtype=bool))
    rh, rg = r[torch.from_numpy(hi)], r[torch.from_numpy(gi)]
    if max_difference is not None:
        return rh - rg - max_difference
    return target * rh - rg


def _make_grad_reverse() -> Any:
    torch = import_optional("torch", purpose="adversarial debiasing")

    class GradReverse(torch.autograd.Function):
        @staticmethod
        def forward(ctx: Any, x: Any, alpha: float) -> Any:
            ctx.alpha = alpha
            return x.view_as(x)

        @staticmethod
        def backward(ctx: Any, grad: Any) -> Any:
            return -ctx.alpha * grad, None

    return GradReverse


class _LazyGradReverse:
    _fn: Any = None

    def apply(self, x: Any, alpha: float) -> Any:
        if _LazyGradReverse._fn is None:
            _LazyGradReverse._fn = _make_grad_reverse()
        return _LazyGradReverse._fn.apply(x, alpha)


_GradReverse = _LazyGradReverse()
