"""Spark sessions and Spark errors, seen from fairslm: loopback defaults, clear failures.

fairslm never needs its own cluster: every Spark function takes the caller's ``SparkSession``
(classic or Spark Connect). :func:`spark_session` is for the command line and for scripts
without one; it binds a local session to the loopback interface and fails with a message that
names the fix when pyspark or Java is missing, instead of a JVM stack trace.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fairslm._optional import import_optional
from fairslm.exceptions import InvalidDataError, MissingDependencyError

__all__ = ["is_spark_dataframe", "pandas_interop", "spark_errors", "spark_session"]

# A small local session runs a GROUP BY faster with a handful of shuffle partitions than with
# Spark's default of 200 (measured on 2 cores); clusters keep their own setting.
LOCAL_SHUFFLE_PARTITIONS = 4

# Settings that keep a local session on the loopback interface, without a web UI.
_LOOPBACK = {
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.ui.enabled": "false",
}
# What fairslm prints is its own summary: no stage progress bars from the driver.
_QUIET = {"spark.ui.showConsoleProgress": "false"}

_JAVA_HINT = (
    "Spark needs Java 17 or 21, and none was found (no 'java' on PATH, no JAVA_HOME). Install "
    "one (e.g. apt-get install openjdk-17-jre-headless) and set JAVA_HOME, or audit with the "
    "default engine (--engine duckdb)"
)


def is_spark_dataframe(obj: Any) -> bool:
    """True for a Spark DataFrame, classic or Connect, recognised without importing pyspark."""
    module = type(obj).__module__ or ""
    return module.startswith("pyspark.sql") and hasattr(obj, "sparkSession")


@contextlib.contextmanager
def pandas_interop() -> Iterator[None]:
    """Silence pyspark's blanket warning about pandas >= 3 around the conversions fairslm uses.

    pyspark 4.3 warns on every pandas 3 install; the conversions used here (``toPandas`` of
    small aggregates, ``createDataFrame`` of small tables, iterator pandas UDFs) are checked for
    exact results by the test suite.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message="PySpark does not yet fully support pandas", category=FutureWarning
        )
        yield


def _pyspark() -> Any:
    return import_optional("pyspark.sql", purpose="the Spark engine")


def _java_present() -> bool:
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").exists():
        return True
    return shutil.which("java") is not None


def _is_local(master: str) -> bool:
    return master.startswith("local")


def spark_session(
    master: str | None = None,
    *,
    app_name: str = "fairslm",
    config: dict[str, str] | None = None,
) -> Any:
    """The active Spark session, or a new one for ``master``.

    Parameters
    ----------
    master : str, optional
        ``local[N]`` (a session in this process, bound to 127.0.0.1), ``spark://host:port``,
        ``yarn``, ``k8s://...`` (a classic session on that cluster) or ``sc://host:port`` (a
        Spark Connect server). Default: the active session if there is one, else the one
        ``spark-submit`` (or ``SPARK_REMOTE``) configures, else ``local[*]``.
    app_name : str, default "fairslm"
    config : dict, optional
        More Spark settings, e.g. ``{"spark.executor.memory": "4g"}``.

    Returns
    -------
    pyspark.sql.SparkSession
    """
    sql = _pyspark()
    if master is None:
        active = sql.SparkSession.getActiveSession()
        if active is not None:
            return active
        if "PYSPARK_GATEWAY_PORT" in os.environ or "SPARK_REMOTE" in os.environ:
            # Launched by spark-submit (or told to use Spark Connect): the master and every
            # setting come from there.
            with spark_errors("the Spark session of spark-submit"):
                return sql.SparkSession.builder.appName(app_name).getOrCreate()
        master = "local[*]"
    if master.startswith("sc://"):
        try:
            import_optional("pyspark.sql.connect.session", purpose="Spark Connect")
            builder = sql.SparkSession.builder.remote(master)
            for k, v in (config or {}).items():
                builder = builder.config(k, v)
            with spark_errors(f"the Spark Connect server {master}"):
                return builder.getOrCreate()
        except ImportError as exc:
            raise MissingDependencyError(
                f"Spark Connect needs pyspark's connect extra ({exc}). Install it with: "
                "pip install 'fairslm[spark]'"
            ) from exc
    if not _java_present():
        raise MissingDependencyError(_JAVA_HINT)
    # Python workers (batch scoring) must run this interpreter, where fairslm is installed,
    # not whatever 'python3' is first on PATH.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = sql.SparkSession.builder.master(master).appName(app_name)
    settings: dict[str, str] = dict(_QUIET)
    if _is_local(master):
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        settings.update(_LOOPBACK)
        settings["spark.sql.shuffle.partitions"] = str(LOCAL_SHUFFLE_PARTITIONS)
    settings.update(config or {})
    for k, v in settings.items():
        builder = builder.config(k, v)
    with spark_errors(f"a Spark session on {master}"):
        spark = builder.getOrCreate()
    with contextlib.suppress(Exception):  # Connect sessions have no SparkContext
        spark.sparkContext.setLogLevel("ERROR")
    return spark


_OWN_ERROR = re.compile(
    r"(?:fairslm\.exceptions\.)?(?:InvalidDataError|ConfigError|ModelLoadError|"
    r"UnsafeModelError|MissingDependencyError): (.+)"
)


def _first_line(exc: BaseException) -> str:
    """The message of a Spark error without the JVM stack trace that follows it; for an error
    fairslm raised inside a Python worker (bad texts, a model that cannot load), its message."""
    text = str(exc).strip()
    own = _OWN_ERROR.findall(text)
    if own:
        return own[-1].strip()
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith(("at ", "JVM stacktrace", "Traceback")):
            return line
    return type(exc).__name__


@contextlib.contextmanager
def spark_errors(what: str) -> Iterator[None]:
    """Turn errors raised by Spark while working on ``what`` into short fairslm errors."""
    try:
        yield
    except MissingDependencyError:
        raise
    except Exception as exc:
        module = type(exc).__module__ or ""
        if not (module.startswith(("pyspark", "py4j", "grpc")) or "Java" in type(exc).__name__):
            raise
        msg = _first_line(exc)
        if "JAVA_GATEWAY_EXITED" in msg or "Java gateway process exited" in msg:
            raise MissingDependencyError(
                f"could not start Spark ({msg}). {_JAVA_HINT.replace(', and none', '; none')}"
            ) from None
        if "CAST_INVALID_INPUT" in msg or "CANNOT_PARSE" in msg:
            raise InvalidDataError(
                f"{what}: a column that must be numeric holds text; Spark says: {msg}"
            ) from None
        if "DATA_SOURCE_NOT_FOUND" in msg and "delta" in msg.lower():
            raise MissingDependencyError(
                f"reading {what} needs Delta Lake in the Spark session: pip install delta-spark "
                "and configure the session as its documentation says"
            ) from None
        if "PATH_NOT_FOUND" in msg or "Path does not exist" in msg:
            raise InvalidDataError(
                f"Spark cannot find {what}: {msg}. Check the path (on a cluster it must be one "
                "the executors can read, e.g. s3://, abfss://, dbfs:/ or hdfs://)"
            ) from None
        if "TABLE_OR_VIEW_NOT_FOUND" in msg:
            raise InvalidDataError(
                f"Spark has no table {what}. Check the name (catalog.schema.table; "
                "spark.catalog.listTables() lists them), or pass a path or a DataFrame"
            ) from None
        raise InvalidDataError(f"Spark failed on {what}: {msg}") from None
