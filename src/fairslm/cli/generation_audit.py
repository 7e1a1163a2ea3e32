"""``fairslm generation-audit``: does what a model writes change with the group words?"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from fairslm.cli._app import EXIT_FAIL, EXIT_OK, files
from fairslm.exceptions import ConfigError


def register(app: typer.Typer) -> None:
    app.command("generation-audit")(generation_audit_command)


def _label_words(items: list[str]) -> dict[str, Any] | None:
    out: dict[str, Any] = {}
    for item in items:
        word, sep, cls = item.rpartition("=")
        if not sep or not word.strip() or not cls.strip():
            raise ConfigError(f"--label-word takes WORD=CLASS, e.g. --label-word yes=1; got {item!r}")
        out[word.strip()] = int(cls) if cls.strip().lstrip("-").isdigit() else cls.strip()
    return out or None


def _count_terms(items: list[str]) -> dict[str, list[str]] | None:
    out: dict[str, list[str]] = {}
    for item in items:
        name, sep, spec = item.partition("=")
        if not sep or not name.strip() or not spec.strip():
            raise ConfigError(
                f"--count takes NAME=TERM,TERM,... or NAME=@FILE (one term a line); got {item!r}"
            )
        if spec.startswith("@"):
            path = Path(spec[1:])
            try:
                terms = path.read_text(encoding="utf-8").splitlines()
            except OSError as exc:
                raise ConfigError(f"cannot read the term list {path} for --count {name}: {exc}") from exc
        else:
            terms = spec.split(",")
        out[name.strip()] = [t.strip() for t in terms if t.strip() and not t.startswith("#")]
    return out or None


@files(inputs=["model", "data", "terms"], outputs={"out": "file", "html": "file"})
def generation_audit_command(
    model: str = typer.Option(..., "--model", help="Causal LM directory (import-gguf writes one)."),
    data: Path = typer.Option(..., "--data", help="Data file or folder of split files."),
    attribute: str = typer.Option("gender", "--attribute", help="gender, race, or a term list's."),
    text: str = typer.Option("text", "--text", help="Column with the texts."),
    split: str | None = typer.Option(None, "--split", help="Split to use, e.g. test."),
    terms: list[Path] | None = typer.Option(None, "--terms", help="CSV/YAML term list(s) to swap."),
    names: bool = typer.Option(True, "--names/--no-names", help="Swap first names too."),
    target: str | None = typer.Option(None, "--target", help="Rewrite toward this group only."),
    template: str = typer.Option("{text}", "--template", help="Prompt with a {text} placeholder."),
    chat: bool | None = typer.Option(None, "--chat/--no-chat",
                                     help="Use the chat template (default: when it has one)."),
    system: str | None = typer.Option(None, "--system", help="System message (chat models)."),
    max_new_tokens: int = typer.Option(64, "--max-new-tokens", help="Tokens per output at most."),
    samples: int = typer.Option(1, "--samples", help="Outputs per prompt (>1 samples)."),
    temperature: float | None = typer.Option(
        None, "--temperature", help="0: greedy; default greedy for 1 sample, else 1.0."),
    top_p: float = typer.Option(1.0, "--top-p", help="Nucleus sampling mass."),
    top_k: int = typer.Option(0, "--top-k", help="Sample from the k likeliest (0: all)."),
    seed: int = typer.Option(0, "--seed"),
    label_word: list[str] | None = typer.Option(
        None, "--label-word", help="WORD=CLASS read as a decision in outputs; repeat."),
    decision_regex: str | None = typer.Option(
        None, "--decision-regex", help="Regex whose group holds the decision."),
    pos_label: str | None = typer.Option(None, "--pos-label", help="The favourable decision."),
    refusal: list[str] | None = typer.Option(
        None, "--refusal-pattern", help="Regex of a refusal (replaces the built-in list)."),
    count: list[str] | None = typer.Option(
        None, "--count", help="NAME=TERM,TERM or NAME=@FILE: terms per 100 words; repeat."),
    sentiment: bool = typer.Option(True, "--sentiment/--no-sentiment", help="VADER sentiment."),
    embeddings: bool = typer.Option(True, "--embeddings/--no-embeddings",
                                    help="MiniLM similarity of paired outputs."),
    reference: str | None = typer.Option(None, "--reference", help="Reference group."),
    alpha: float = typer.Option(0.05, "--alpha", help="Significance level (Holm-adjusted)."),
    n_bootstrap: int = typer.Option(1000, "--n-bootstrap", help="Bootstrap replicates."),
    examples: int = typer.Option(10, "--examples", help="Most differing pairs to keep."),
    batch_size: int = typer.Option(16, "--batch-size", help="Prompts per forward pass."),
    cache_dir: Path | None = typer.Option(None, "--cache-dir", help="Keep outputs across runs."),
    html: Path | None = typer.Option(None, "--html", help="Also write an HTML page here."),
    fail_on_difference: bool = typer.Option(
        False, "--fail-on-difference", help="Exit 1 when a difference is significant."),
    out: Path = typer.Option(Path("generation.json"), "--out", "-o",
                             help="Where to write the JSON."),
) -> None:
    """Generate for each text and its group-swapped version; compare what the model writes."""
    from fairslm._atomic import write_text_atomic
    from fairslm.audit import generation_audit_file
    from fairslm.reporting import generation_page, print_generation_summary

    load_options: dict[str, Any] = {"chat": chat, "system": system, "batch_size": batch_size}
    if cache_dir is not None:
        load_options["cache_dir"] = cache_dir
    result = generation_audit_file(
        model, data, text=text, split=split, attribute=attribute, terms=terms or None,
        names=names, seed=seed, load_options=load_options, target=target, template=template,
        n_samples=samples, temperature=temperature, top_p=top_p, top_k=top_k,
        max_new_tokens=max_new_tokens, label_words=_label_words(label_word or []),
        decision_regex=decision_regex, pos_label=pos_label, refusal_patterns=refusal or None,
        count_terms=_count_terms(count or []), sentiment=sentiment,
        encoder=None if embeddings else False, reference_group=reference, alpha=alpha,
        n_bootstrap=n_bootstrap, n_examples=examples,
    )
    result.to_json(out)
    print_generation_summary(result)
    typer.echo(f"wrote {out}")
    if html is not None:
        write_text_atomic(generation_page(result), html)
        typer.echo(f"wrote {html}")
    raise typer.Exit(EXIT_FAIL if fail_on_difference and result.significant() else EXIT_OK)
