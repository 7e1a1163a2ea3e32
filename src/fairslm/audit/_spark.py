"""Audits of data that lives in Spark: only count tables travel to the driver."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from fairslm._missing import FILL_OR_DROP
from fairslm._version import __version__
from fairslm.audit._data_audit import (
    DEFAULT_AGGREGATION_TVD,
    DEFAULT_UNDERREP_FACTOR,
    data_findings,
    normalise_reference,
    read_reference,
)
from fairslm.audit._data_audit_result import DATA_AUDIT_SCHEMA_VERSION, DataAuditResult
from fairslm.audit._data_counts import SPLIT_FEATURE, count_sections
from fairslm.audit._predictions_audit import (
    audit_table_of_columns,
    count_table_sha256,
    resolve_pos_label,
)
from fairslm.audit._result import AuditResult
from fairslm.engines import (
    check_columns,
    count_table_from_spark,
    quote_backtick,
    spark_session,
    spark_source,
)
from fairslm.exceptions import ConfigError
from fairslm.metrics import FOUR_FIFTHS, MIN_GROUP_SIZE

__all__ = ["PROXY_ON_ONE_MACHINE", "audit_data_spark", "audit_spark"]

PROXY_ON_ONE_MACHINE = (
    "not run: the proxy probe reads every text and fits a classifier on one machine. Run "
    "fairslm data-audit (or audit_data) on a sample of the data for it"
)


def audit_spark(
    source: Any,
    *,
    y_true: str,
    y_pred: str,
    sensitive: Sequence[str],
    y_score: str | None = None,
    weight: str | None = None,
    pos_label: object | None = None,
    missing: str = "error",
    n_score_bins: int = 1000,
    spark: Any = None,
    format: str | None = None,
    **options: Any,
) -> AuditResult:
    """Audit predictions held by Spark: a DataFrame, a table name or a path.

    The rows are aggregated by Spark with the same SQL statement the DuckDB engine runs (see
    :func:`~fairslm.engines.count_table_from_spark`); metrics, intervals, tests and verdicts are
    then computed on the driver from that small table, exactly as for any other engine.
    Works with classic sessions and Spark Connect.

    Parameters
    ----------
    source : pyspark.sql.DataFrame, str or path
        A DataFrame, a table name (``catalog.schema.table``) or a path Spark can read
        (Parquet, CSV, JSON Lines, a folder of them, a Delta table).
    y_true, y_pred, sensitive, y_score, weight, pos_label, missing, n_score_bins
        As in :func:`~fairslm.audit.audit_file`.
    spark : SparkSession, optional
        Defaults to the DataFrame's own session, else the active one (a local one if none).
    format : str, optional
        Spark's name of the file format when the path does not tell it.
    **options
        Those of :func:`~fairslm.audit.audit_count_table` (reference group, threshold,
        bootstrap, ...).

    Examples
    --------
    In a notebook or job that has a session ``spark``::

        res = fairslm.audit_spark(spark.table("main.hiring.predictions"), y_true="label",
                                  y_pred="decision", sensitive=["gender", "race"])
        res.to_json("audit.json")
    """
    if spark is None and isinstance(source, str):
        spark = spark_session()
    src = spark_source(source, spark=spark, format=format)
    table = count_table_from_spark(
        src, y_true=y_true, y_pred=y_pred, sensitive=sensitive, weight=weight,
        y_score=y_score, n_score_bins=n_score_bins, pos_label=pos_label, missing=missing,
    )
    session = src.frame.sparkSession
    provenance = {
        "engine": "spark",
        "source": src.provenance,
        "spark": {"version": str(session.version), "connect": _is_connect(session)},
    }
    return audit_table_of_columns(
        table, provenance, options, y_true=y_true, y_pred=y_pred, sensitive=sensitive,
        y_score=y_score, weight=weight, pos_label=pos_label, missing=missing,
        n_score_bins=n_score_bins,
    )


def _is_connect(session: Any) -> bool:
    return "connect" in (type(session).__module__ or "")


def audit_data_spark(
    source: Any,
    *,
    label: str | None = "label",
    sensitive: Sequence[str] = ("gender",),
    weight: str | None = None,
    split: str | None = None,
    pos_label: object | None = None,
    reference_distribution: Any = None,
    underrep_factor: float = DEFAULT_UNDERREP_FACTOR,
    min_group_size: int = MIN_GROUP_SIZE,
    threshold: float = FOUR_FIFTHS,
    aggregation_threshold: float = DEFAULT_AGGREGATION_TVD,
    seed: int = 0,
    spark: Any = None,
    format: str | None = None,
) -> DataAuditResult:
    """The count sections of the data audit on data held by Spark.

    Representation, label base rates and aggregation bias come from one Spark aggregation
    (:func:`~fairslm.engines.count_table_from_spark` with the labels as both ``y_true`` and
    ``y_pred``) and equal :func:`~fairslm.audit.audit_data` on the same rows. The proxy probe
    reads every text and fits a classifier on one machine, so it is not run here: the result
    says so, and ``audit_data`` on a sample gives it. ``dataset.content_hash`` is the SHA-256
    of the count table (the rows are not hashed on the driver).

    Parameters
    ----------
    source : pyspark.sql.DataFrame, str or path
        As for :func:`~fairslm.audit.audit_spark`.
    label, sensitive, weight, split, pos_label
        Column names (``label=None`` for unlabelled data) and the favourable label.
    reference_distribution, underrep_factor, min_group_size, threshold, aggregation_threshold, seed
        As for :func:`~fairslm.audit.audit_data`.
    """
    from pyspark.sql import functions as F

    sensitive = tuple(str(s) for s in sensitive)
    if not sensitive:
        raise ConfigError("name at least one sensitive column (sensitive=[...])")
    if not float(underrep_factor) >= 1:
        raise ConfigError(f"underrep_factor must be >= 1 (e.g. 1.25); got {underrep_factor}")
    reference = normalise_reference(read_reference(reference_distribution), sensitive)
    if spark is None and isinstance(source, str):
        spark = spark_session()
    src = spark_source(source, spark=spark, format=format)
    frame = src.frame
    for col in (split, label):
        if col is not None:
            check_columns(frame.columns, src.name, y_true=col, y_pred=col, sensitive=sensitive,
                          weight=weight)
    features = list(sensitive)
    if split is not None:
        frame = frame.withColumn(SPLIT_FEATURE, F.col(quote_backtick(split)).cast("string"))
        features.append(SPLIT_FEATURE)
    y = label
    if y is None:
        y = "fairslm_no_label"
        frame = frame.withColumn(y, F.lit(0))
    table = count_table_from_spark(
        dataclasses.replace(src, frame=frame), y_true=y, y_pred=y, sensitive=features,
        weight=weight, missing_advice=FILL_OR_DROP,
    )
    classes = list(table.classes)
    pos = None if pos_label is None or label is None else resolve_pos_label(classes, pos_label)
    rep, lab, agg = count_sections(
        table, sensitive=sensitive, split=split is not None, labeled=label is not None,
        pos_label=pos, reference=reference, underrep_factor=float(underrep_factor),
        min_group_size=int(min_group_size), threshold=float(threshold),
        aggregation_threshold=float(aggregation_threshold), seed=int(seed),
    )
    prox = {"reason": PROXY_ON_ONE_MACHINE}
    findings = data_findings(rep, lab, prox, agg, float(underrep_factor))
    digest = count_table_sha256(table)
    splits = [] if split is None else [str(v) for v in table.marginal((SPLIT_FEATURE,)).levels[0]]
    spec = {"label": label, "sensitive": list(sensitive), "weight": weight, "split": split}
    return DataAuditResult(
        schema_version=DATA_AUDIT_SCHEMA_VERSION,
        dataset={
            "n_rows": table.n_rows, "content_hash": digest, "source": src.name, "spec": spec,
            "classes": classes if label is not None else [], "pos_label": pos,
            "splits": splits, "weighted": weight is not None,
        },
        representation=rep,
        labeling=lab,
        proxies=prox,
        aggregation=agg,
        findings=tuple(findings),
        provenance={"fairslm_version": __version__, "dataset_sha256": digest, "seed": int(seed),
                    "engine": "spark", "source": src.provenance},
        options={
            "underrep_factor": float(underrep_factor), "min_group_size": int(min_group_size),
            "threshold": float(threshold), "aggregation_threshold": float(aggregation_threshold),
            "probe": None, "reference_distribution": reference,
        },
    )
