"""The one configuration layer: a frozen base model, TOML reading, error messages, overrides.

Every run configuration (training, pipeline, debiasing, audit policy, synthetic corpus) is a
:class:`FrozenModel` built from a TOML file and ``KEY=VALUE`` options. A problem with any of them
reads the same way: ``invalid training config run.toml: unknown key 'penalty.wieght'; valid keys in
[penalty]: criterion, momentum, weight``.
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, get_args, get_origin

from pydantic import BaseModel, ConfigDict, ValidationError

from fairslm._userfiles import read_user_text
from fairslm.exceptions import ConfigError

__all__ = [
    "FrozenModel",
    "config_error",
    "config_problems",
    "merge_overrides",
    "parse_grid",
    "parse_overrides",
    "parse_toml",
    "read_toml",
]


class FrozenModel(BaseModel):
    """Base of every configuration model: immutable, and an unknown key is an error."""

    model_config = ConfigDict(frozen=True, extra="forbid")


def read_toml(path: str | os.PathLike[str], *, what: str, hint: str = "") -> dict[str, Any]:
    """Parse the TOML file at ``path``; a missing or malformed file is a :class:`ConfigError`.

    ``what`` names the file in messages ("pipeline file"); ``hint`` says what to do when it is
    missing.
    """
    path = Path(path)
    try:
        text = read_user_text(path, what=what)
    except FileNotFoundError:
        raise ConfigError(f"{what} {path} does not exist" + (f"; {hint}" if hint else "")) from None
    except OSError as exc:
        raise ConfigError(f"cannot read {what} {path}: {exc}") from exc
    return parse_toml(text, what=f"{what} {path}")


def parse_toml(text: str, *, what: str) -> dict[str, Any]:
    """Parse TOML ``text``; a syntax error is a :class:`ConfigError` naming ``what``."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{what} is not valid TOML: {exc}") from None


Locate = Callable[[list[Any]], tuple[str, list[Any], "Iterable[str] | None"]]


def _model_in(annotation: Any) -> tuple[type[BaseModel] | None, bool]:
    """The model a field holds (through ``X | None`` and ``list[X]``), and whether it is keyed by
    name (``dict[str, X]``, a table of tables)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    keyed = get_origin(annotation) is dict
    for arg in get_args(annotation)[1:] if keyed else get_args(annotation):
        model, _ = _model_in(arg)
        if model is not None:
            return model, keyed
    return None, False


def _section_model(root: type[BaseModel], names: list[str]) -> type[BaseModel] | None:
    """The model of the section that ``names`` (a key path, last name excluded) leads to."""
    model: type[BaseModel] | None = root
    i = 0
    while model is not None and i < len(names):
        field = model.model_fields.get(names[i])
        if field is None:
            return None
        model, keyed = _model_in(field.annotation)
        i += 2 if keyed else 1
    return model


def config_problems(
    exc: ValidationError,
    root: type[BaseModel] | None = None,
    *,
    locate: Locate | None = None,
    section: str = "",
    root_keys: Iterable[str] | None = None,
) -> list[str]:
    """One line per problem in a pydantic ``ValidationError``, naming the dotted key.

    For an unknown key the line lists the valid keys of its section, found by following the key
    path through ``root``'s fields. When ``root`` was validated as a section of a larger file,
    ``section`` names it (``"baseline.train"``) and ``root_keys`` may replace its field names.
    ``locate`` may instead turn an error location into (place, key path, valid keys), for
    sections that are list items.
    """

    def by_section(loc: list[Any]) -> tuple[str, list[Any], Iterable[str] | None]:
        names = [str(p) for p in loc if not isinstance(p, int)]
        model = _section_model(root, names[:-1]) if root is not None else None
        valid = model.model_fields if model is not None else None
        if len(names) == 1 and root_keys is not None:
            valid = root_keys
        path = [section, *names] if section else names
        where = ".".join(path[:-1])
        return (f"[{where}]" if where else ""), path, valid

    problems = []
    for err in exc.errors():
        place, keys, valid = (locate or by_section)(list(err["loc"]))
        key = ".".join(str(k) for k in keys)
        # A located key is relative to its place (a list item); a dotted key names its section.
        at = f" in {place}" if locate is not None and place else ""
        if err["type"] == "extra_forbidden":
            listed = ", ".join(sorted(valid)) if valid is not None else "see the documentation"
            problems.append(f"unknown key {key!r}{at}; valid keys"
                            f"{' in ' + place if place and not at else ''}: {listed}")
        elif err["type"] == "missing":
            problems.append(f"missing required key {key!r}{at}")
        else:
            msg = str(err["msg"]).removeprefix("Value error, ")
            # fairslm's own validators say what they got; pydantic's messages do not
            if err["type"] != "value_error" and not isinstance(err.get("input"), (dict, list)):
                msg = f"{msg} (got {err['input']!r})"
            problems.append(f"{key}{at}: {msg}" if key else f"{place}: {msg}" if at else msg)
    return problems


def config_error(
    exc: ValidationError,
    root: type[BaseModel] | None = None,
    *,
    what: str,
    locate: Locate | None = None,
) -> ConfigError:
    """One readable :class:`ConfigError` for a pydantic ``ValidationError``.

    ``root`` is the model validated; ``what`` names the configuration ("training config
    run.toml"); see :func:`config_problems` for ``locate``.

    Examples
    --------
    >>> class Inner(FrozenModel):
    ...     weight: float = 1.0
    >>> class Outer(FrozenModel):
    ...     inner: Inner = Inner()
    >>> try:
    ...     Outer.model_validate({"inner": {"wieght": 2}})
    ... except ValidationError as exc:
    ...     print(config_error(exc, Outer, what="example config"))
    invalid example config: unknown key 'inner.wieght'; valid keys in [inner]: weight
    """
    problems = config_problems(exc, root, locate=locate)
    return ConfigError(f"invalid {what}: " + "; ".join(problems))


def merge_overrides(base: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``overrides`` applied; a dotted key (``penalty.weight``) reaches a section.

    Examples
    --------
    >>> merge_overrides({"penalty": {"weight": 1.0, "momentum": 0.9}}, {"penalty.weight": 2})
    {'penalty': {'weight': 2, 'momentum': 0.9}}
    """
    out = dict(base)
    for key, value in overrides.items():
        if "." in key:
            head, rest = key.split(".", 1)
            sub = out.get(head) or {}
            if not isinstance(sub, dict):
                sub = dict(sub) if isinstance(sub, Mapping) else sub.model_dump()
            out[head] = merge_overrides(sub, {rest: value})
        elif isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = merge_overrides(out[key], value)
        else:
            out[key] = value
    return out


def _json_or_text(raw: str) -> Any:
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return raw


def parse_overrides(items: list[str], *, option: str = "--set") -> dict[str, Any]:
    """``KEY=VALUE`` options -> {dotted key: value}; a value is read as JSON when it parses.

    Examples
    --------
    >>> parse_overrides(["penalty.weight=2", "model=runs/base", 'selection=["eo"]'])
    {'penalty.weight': 2, 'model': 'runs/base', 'selection': ['eo']}
    """
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(
                f"{option} expects KEY=VALUE (e.g. {option} penalty.weight=2); got {item!r}"
            )
        out[key.strip()] = _json_or_text(raw)
    return out


def parse_grid(items: list[str], *, option: str = "--grid") -> dict[str, list[Any]]:
    """``KEY=V1,V2,...`` or ``KEY=[JSON list]`` options -> {dotted key: values}.

    Examples
    --------
    >>> parse_grid(["penalty.weight=0,1,5", 'constraints.targets=[["tpr ratio >= 0.8"]]'])
    {'penalty.weight': [0, 1, 5], 'constraints.targets': [['tpr ratio >= 0.8']]}
    """
    grid: dict[str, list[Any]] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key, raw = key.strip(), raw.strip()
        if not sep or not key or not raw:
            raise ConfigError(
                f"{option} expects KEY=V1,V2,... (e.g. {option} penalty.weight=0,1,5); got {item!r}"
            )
        if raw.startswith("["):
            try:
                values = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise ConfigError(
                    f"{option} {key}: {raw!r} starts like a JSON list but does not parse "
                    f"({exc.msg}); write KEY=[...] as valid JSON or KEY=V1,V2"
                ) from None
        else:
            values = [_json_or_text(part.strip()) for part in raw.split(",")]
        if not isinstance(values, list) or not values:
            raise ConfigError(f"{option} {key}: expected a non-empty list of values; got {raw!r}")
        if key in grid:
            raise ConfigError(f"{option} names {key!r} twice; give all its values in one {option}")
        grid[key] = values
    return grid
