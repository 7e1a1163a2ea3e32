"""``--template`` and ``--label-word``: how a causal LM is read as a classifier, given on the
command line instead of in the model folder's ``fairslm.json``."""

from __future__ import annotations

import json
from typing import Any

import typer

from fairslm.exceptions import ConfigError

__all__ = ["LABEL_WORD_OPTION", "TEMPLATE_OPTION", "causal_lm_options", "load_cli_model"]

TEMPLATE_OPTION = typer.Option(
    None, "--template",
    help="Causal LMs: the prompt, with {text} where the text goes (overrides fairslm.json).",
)
LABEL_WORD_OPTION = typer.Option(
    [], "--label-word",
    help="Causal LMs: WORD=CLASS, the next word that scores CLASS; one per class (repeat).",
)


def _class_value(raw: str) -> Any:
    """``1`` is the integer label 1, as a CSV or JSON Lines file holds it; other text stays text."""
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        return raw
    return value if isinstance(value, (int, str)) and not isinstance(value, bool) else raw


def causal_lm_options(template: str | None, label_words: list[str]) -> dict[str, Any]:
    """The ``template``/``label_words`` keyword arguments of :func:`fairslm.load_model`.

    Examples
    --------
    >>> causal_lm_options("{text} Hired?", [" yes=1", " no=0"])
    {'template': '{text} Hired?', 'label_words': {' yes': 1, ' no': 0}}
    """
    options: dict[str, Any] = {}
    if template is not None:
        options["template"] = template
    words: dict[str, Any] = {}
    for item in label_words:
        word, sep, cls = item.rpartition("=")
        if not sep or not word or not cls:
            raise ConfigError(
                f"--label-word expects WORD=CLASS (e.g. --label-word ' yes=1'); got {item!r}"
            )
        if word in words:
            raise ConfigError(f"--label-word gives the word {word!r} twice; give it once")
        words[word] = _class_value(cls)
    if words:
        options["label_words"] = words
    return options


def load_cli_model(source: Any, template: str | None, label_words: list[str]) -> Any:
    """``source`` as it is when no causal-LM option was given, else the loaded model."""
    options = causal_lm_options(template, label_words)
    if not options:
        return source
    from fairslm.models import load_model

    return load_model(source, **options)
