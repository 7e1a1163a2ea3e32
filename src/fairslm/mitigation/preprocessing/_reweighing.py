"""Reweighing (Kamiran & Calders 2012): weights that make the label independent of the group."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from fairslm.data import Rows, as_rows, group_label, label_codes
from fairslm.engines import is_spark_dataframe
from fairslm.exceptions import ConfigError, InvalidDataError
from fairslm.mitigation.preprocessing._cells import Cells, require_groups
from fairslm.mitigation.preprocessing._outputs import WEIGHT_COLUMN, rebuild_frame

__all__ = ["Reweighing"]


class Reweighing:
    """Weight every (group, label) cell by ``P(g) * P(y) / P(g, y)``.

    ``X`` may also be a Spark DataFrame (``y``, ``sensitive_features`` and ``sample_weight``
    then name its columns): the cells come from one Spark aggregation and :meth:`transform`
    joins the factors back onto the rows, returning a Spark DataFrame; the rows never reach
    the driver.

    Kamiran & Calders, "Data preprocessing techniques for classification without
    discrimination", Knowledge and Information Systems 33 (2012), section 4.2. Rows in cells that
    are rarer than independence of group and label predicts get more weight, rows in commoner
    cells less. After weighting, the weighted rate of every label is the same in every group,
    equal to its pooled rate. The probabilities are weighted by existing sample weights, and the
    new weight multiplies them, as in AIF360's ``Reweighing``. Several sensitive features are
    crossed into intersectional groups.

    Parameters
    ----------
    smoothing : float, default 0.0
        Pseudo-count added to the weight sum of every (group, label) cell before the
        probabilities are estimated. With the default 0, a cell without rows is an error,
        because no weight can give that group the pooled label rate; a positive value lets the
        fit proceed (the group's label rate then stays as it is) and shrinks all weights
        slightly towards 1.

    Attributes
    ----------
    classes_ : tuple
        The labels, sorted.
    feature_names_ : tuple of str
        The sensitive features.
    groups_ : list of str
        Group labels (values of the features joined by ``", "``).
    weight_table_ : numpy.ndarray of shape (n_groups, n_classes)
        The factor for each cell.
    cells_ : pandas.DataFrame
        One row per cell: group values, label, rows, weight sum, expected and observed
        probability, and the factor.

    Examples
    --------
    >>> rw = Reweighing().fit(None, [1, 1, 0, 1, 0, 0], sensitive_features=list("aaabbb"))
    >>> rw.transform(None, [1, 1, 0, 1, 0, 0], sensitive_features=list("aaabbb")).round(3)
    array([0.75, 0.75, 1.5 , 1.5 , 0.75, 0.75])
    """

    def __init__(self, *, smoothing: float = 0.0) -> None:
        self.smoothing = smoothing

    # -- fitting ------------------------------------------------------------------------
    def fit(
        self,
        X: Any,
        y: Any = None,
        *,
        sensitive_features: Any = None,
        sample_weight: Any = None,
    ) -> Reweighing:
        """Learn one weight per (group, label) cell.

        ``X`` is a fairslm ``Dataset``, a DataFrame (then ``y``, ``sensitive_features`` and
        ``sample_weight`` may be column names) or anything else (ignored; pass ``y`` and
        ``sensitive_features`` as arrays).
        """
        smoothing = self.smoothing
        if not isinstance(smoothing, (int, float)) or not np.isfinite(smoothing) or smoothing < 0:
            raise ConfigError(f"smoothing must be a finite number >= 0; got {smoothing!r}")
        if is_spark_dataframe(X):
            from fairslm.mitigation.preprocessing._spark_cells import cell_table_spark

            cells = Cells.from_table(cell_table_spark(X, y, sensitive_features, sample_weight))
        else:
            rows = as_rows(X, y, sensitive_features=sensitive_features,
                           sample_weight=sample_weight)
            cells = Cells(rows)
        require_groups(cells, "reweighing")
        sums = cells.weight_sums + float(smoothing)
        if smoothing == 0:
            empty = np.argwhere(sums <= 0)
            if len(empty):
                names = [cells.describe(int(g), int(k)) for g, k in empty]
                shown = "; ".join(names[:5]) + (f"; and {len(names) - 5} more" if len(names) > 5 else "")
                raise InvalidDataError(
                    f"reweighing needs rows in every (group, label) cell, but {len(names)} "
                    f"cell(s) have none (or only zero weight): {shown}. No weight can give such a "
                    "group the pooled label rate. Collect rows for that cell, merge small groups, "
                    "or pass smoothing= (e.g. Reweighing(smoothing=0.5), CLI: --smoothing 0.5) "
                    "to add a pseudo-count to every cell and reweigh the rest"
                )
        total = sums.sum()
        p_g = sums.sum(axis=1, keepdims=True) / total
        p_y = sums.sum(axis=0, keepdims=True) / total
        p_gy = sums / total
        expected = p_g * p_y
        with np.errstate(divide="ignore", invalid="ignore"):
            table = np.where(p_gy > 0, expected / p_gy, 0.0)
        frame = cells.frame()
        frame["expected"] = expected.reshape(-1)
        frame["observed"] = (cells.weight_sums / cells.weight_sums.sum()).reshape(-1)
        frame["weight"] = table.reshape(-1)
        self.classes_ = cells.classes
        self.feature_names_ = cells.features
        self.groups_ = cells.group_labels
        self.group_keys_ = cells.group_keys
        self.weight_table_ = table
        self.cells_ = frame
        return self

    # -- applying -----------------------------------------------------------------------
    def _transform_spark(self, frame: Any, y: Any, sensitive_features: Any,
                         sample_weight: Any, *, check: bool) -> Any:
        from fairslm.mitigation.preprocessing._spark_cells import join_factors, spark_names

        if not hasattr(self, "weight_table_"):
            raise InvalidDataError("this Reweighing is not fitted yet; call fit() first")
        label, names, weight = spark_names(y, sensitive_features, sample_weight)
        if tuple(names) != self.feature_names_:
            raise InvalidDataError(
                f"sensitive features {names} differ from those seen in fit "
                f"{list(self.feature_names_)}"
            )
        return join_factors(
            frame, label=label, sensitive=names, weight=weight,
            out_column=weight or WEIGHT_COLUMN, group_keys=self.group_keys_,
            classes=self.classes_, factors=self.weight_table_, check=check,
        )

    def _factors(self, rows: Rows) -> NDArray[np.float64]:
        if not hasattr(self, "weight_table_"):
            raise InvalidDataError("this Reweighing is not fitted yet; call fit() first")
        if rows.features != self.feature_names_:
            raise InvalidDataError(
                f"sensitive features {list(rows.features)} differ from those seen in fit "
                f"{list(self.feature_names_)}"
            )
        _, y_codes = label_codes(rows.labels, self.classes_)
        index = {key: i for i, key in enumerate(self.group_keys_)}
        g_map = np.empty(len(rows.group_keys), dtype=np.int64)
        for j, key in enumerate(rows.group_keys):
            if key not in index:
                raise InvalidDataError(
                    f"group {group_label(key)!r} was not seen in fit (groups seen: "
                    f"{', '.join(self.groups_)}); fit on data that has every group"
                )
            g_map[j] = index[key]
        return self.weight_table_[g_map[rows.group], y_codes]

    def transform(
        self,
        X: Any,
        y: Any = None,
        *,
        sensitive_features: Any = None,
        sample_weight: Any = None,
    ) -> Any:
        """Apply the cell weights, multiplying any existing sample weights.

        Returns
        -------
        A new ``Dataset`` or DataFrame with the weights in its weight column
        (``sample_weight`` unless the input names another), or, for array input, a numpy array
        of weights. The input is not modified.
        """
        if is_spark_dataframe(X):
            return self._transform_spark(X, y, sensitive_features, sample_weight, check=True)
        rows = as_rows(X, y, sensitive_features=sensitive_features, sample_weight=sample_weight)
        base = rows.weights if rows.weights is not None else np.ones(rows.n)
        weights = base * self._factors(rows)
        if rows.kind == "arrays":
            return weights
        frame = rows.frame
        assert frame is not None  # kind is dataset or frame
        out = frame.copy()
        column = rows.weight_column or WEIGHT_COLUMN
        out[column] = pd.Series(weights, index=out.index)
        return rebuild_frame(out, rows, weight_column=column)

    def fit_transform(
        self,
        X: Any,
        y: Any = None,
        *,
        sensitive_features: Any = None,
        sample_weight: Any = None,
    ) -> Any:
        """:meth:`fit`, then :meth:`transform` on the same data."""
        if is_spark_dataframe(X):
            self.fit(X, y, sensitive_features=sensitive_features, sample_weight=sample_weight)
            # Same rows as in fit: every cell has its factor, no check pass needed.
            return self._transform_spark(X, y, sensitive_features, sample_weight, check=False)
        return self.fit(
            X, y, sensitive_features=sensitive_features, sample_weight=sample_weight
        ).transform(X, y, sensitive_features=sensitive_features, sample_weight=sample_weight)
