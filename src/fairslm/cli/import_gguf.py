"""``fairslm import-gguf``: turn a GGUF model file into a transformers model directory."""

from __future__ import annotations

from pathlib import Path

import typer

from fairslm.cli._app import files


def register(app: typer.Typer) -> None:
    app.command("import-gguf")(import_gguf_command)


@files(inputs=["path"], outputs={"out": "folder"})
def import_gguf_command(
    path: Path = typer.Argument(..., help="The .gguf file (llama.cpp's format)."),
    out: Path = typer.Option(..., "--out", "-o", help="Directory to write the model to."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace a non-empty --out."),
) -> None:
    """De-quantise a GGUF causal LM to float32 and save it with its tokenizer (safetensors)."""
    from fairslm.models import import_gguf

    written = import_gguf(path, out, overwrite=overwrite)
    size = sum(p.stat().st_size for p in written.glob("*.safetensors"))
    typer.echo(f"wrote {written} ({size / 1e6:.0f} MB of float32 weights)")
