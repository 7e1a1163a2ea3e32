"""The ``--engine`` and ``--spark-master`` options that commands reading data share."""

from __future__ import annotations

from typing import Any

import typer

from fairslm.cli._app import fail

ENGINES = ("duckdb", "spark")


def engine_option(default: str = "duckdb") -> Any:
    return typer.Option(
        default, "--engine",
        help=f"{default} (on this machine, default) or spark (data on a Spark cluster).",
    )


def spark_master_option() -> Any:
    return typer.Option(
        None, "--spark-master",
        help="With --engine spark: local[N], spark://host:port, yarn or sc://host:port "
        "(Spark Connect); default: the active session, else local[*].",
    )


def spark_for(engine: str, master: str | None, *, local: str = "duckdb") -> Any:
    """The Spark session for ``--engine spark`` (None for the local engine); refuses bad
    combinations with a message."""
    if engine not in (local, "spark"):
        fail(f"unknown --engine {engine!r}; use {local} (default) or spark")
    if engine != "spark":
        if master is not None:
            fail("--spark-master needs --engine spark")
        return None
    from fairslm.engines import spark_session

    return spark_session(master)
