"""Checkpoints: tensors in safetensors, everything else in JSON, written whole.

A checkpoint is a directory ``checkpoints/step-00000042`` holding

* ``model.safetensors`` -- the trainable parameters (all of them, or the LoRA ones);
* ``adversary.safetensors`` -- the adversary head, if any;
* ``optimizer.safetensors`` + ``optimizer.json`` -- AdamW's moment tensors, and its param groups;
* ``rng.safetensors`` -- torch's generator states: ``torch`` (and ``cuda`` on a GPU) for rank 0,
  ``torch.rank1``, ... for the other ranks of a distributed run;
* ``state.json`` -- step, epoch, batch position, config fingerprint, penalty running sums,
  multipliers, model-selection candidates.

It is built in a temporary sibling directory and renamed into place, so a crash (``kill -9``)
leaves either the previous checkpoints or a complete new one, never half of one. Nothing is
unpickled on load.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from fairslm.exceptions import ConfigError

__all__ = ["latest_checkpoint", "load_checkpoint", "load_modules", "save_checkpoint", "save_modules"]

_NAME = re.compile(r"^step-(\d{8})$")


def _flatten_optimizer(sd: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    tensors: dict[str, Any] = {}
    layout: dict[str, Any] = {"param_groups": sd["param_groups"], "state": {}}
    for pid, entries in sd["state"].items():
        keep = {}
        for k, v in entries.items():
            if hasattr(v, "shape"):
                tensors[f"{pid}/{k}"] = v.detach().cpu().clone().contiguous()
                keep[k] = {"tensor": f"{pid}/{k}"}
            else:
                keep[k] = {"value": v}
        layout["state"][str(pid)] = keep
    return tensors, layout


def _unflatten_optimizer(tensors: dict[str, Any], layout: dict[str, Any]) -> dict[str, Any]:
    state: dict[int, dict[str, Any]] = {}
    for pid, entries in layout["state"].items():
        state[int(pid)] = {k: tensors[v["tensor"]] if "tensor" in v else v["value"] for k, v in entries.items()}
    return {"state": state, "param_groups": layout["param_groups"]}


def _rng_key(kind: str, rank: int) -> str:
    return kind if rank == 0 else f"{kind}.rank{rank}"


def save_checkpoint(root: Path, step: int, *, model_state: dict[str, Any],
                    adversary_state: dict[str, Any] | None, optimizer: Any,
                    state: dict[str, Any], keep: int,
                    rng_states: list[dict[str, Any]] | None = None) -> Path:
    """Write checkpoint ``step`` under ``root`` atomically; keep the newest ``keep``.

    ``rng_states`` holds each rank's generator states (index = rank); this process's CPU
    generator when omitted.
    """
    import torch
    from safetensors.torch import save_file

    root.mkdir(parents=True, exist_ok=True)
    final = root / f"step-{step:08d}"
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-step-{step:08d}-", dir=root))
    try:
        save_file(model_state, str(tmp / "model.safetensors"))
        if adversary_state is not None:
            save_file({k: v.detach().cpu().clone().contiguous() for k, v in adversary_state.items()},
                      str(tmp / "adversary.safetensors"))
        tensors, layout = _flatten_optimizer(optimizer.state_dict())
        save_file(tensors, str(tmp / "optimizer.safetensors"))
        (tmp / "optimizer.json").write_text(json.dumps(layout))
        ranks = rng_states if rng_states is not None else [{"torch": torch.get_rng_state()}]
        save_file({_rng_key(k, r): v.contiguous() for r, states in enumerate(ranks) for k, v in states.items()},
                  str(tmp / "rng.safetensors"))
        (tmp / "state.json").write_text(json.dumps(state, indent=1))
        for f in tmp.iterdir():  # the rename below must not overtake the data on disk
            with f.open("rb") as fh:
                os.fsync(fh.fileno())
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    for old in sorted(p for p in root.iterdir() if _NAME.match(p.name))[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def latest_checkpoint(root: Path) -> Path | None:
    """The newest complete checkpoint under ``root``, or None."""
    if not root.is_dir():
        return None
    done = sorted(p for p in root.iterdir() if _NAME.match(p.name) and (p / "state.json").exists())
    return done[-1] if done else None


def load_checkpoint(path: Path, rank: int = 0) -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint` (no pickle involved).

    ``rng`` is the CPU generator state of ``rank``; ``cuda_rng`` its GPU one, if saved.
    """
    from safetensors.torch import load_file

    try:
        state = json.loads((path / "state.json").read_text())
        out: dict[str, Any] = {
            "state": state,
            "model": load_file(str(path / "model.safetensors")),
            "optimizer": _unflatten_optimizer(
                load_file(str(path / "optimizer.safetensors")),
                json.loads((path / "optimizer.json").read_text()),
            ),
            "adversary": None,
        }
        rng = load_file(str(path / "rng.safetensors"))
        out["rng"] = rng[_rng_key("torch", rank)]
        out["cuda_rng"] = rng.get(_rng_key("cuda", rank))
        if (path / "adversary.safetensors").exists():
            out["adversary"] = load_file(str(path / "adversary.safetensors"))
    except (OSError, ValueError, KeyError) as exc:
        raise ConfigError(f"checkpoint {path} is unreadable ({exc}); delete it to resume from an earlier one") from exc
    return out


def save_modules(directory: Path, state: dict[str, Any], module: Any, optimizer: Any, *, name: str) -> None:
    """Write ``state`` (JSON) as ``name``, and a module with its optimizer, into ``directory``.

    Each file is written whole (temporary file, then rename); ``name`` is written last, so its
    presence says the rest is complete.
    """
    from safetensors.torch import save_file

    directory.mkdir(parents=True, exist_ok=True)
    stem = Path(name).stem

    def whole(path: Path, write: Any) -> None:
        tmp = path.with_name(f".{path.name}.tmp")
        write(tmp)
        os.replace(tmp, path)

    if module is not None:
        weights = {k: v.detach().cpu().clone().contiguous() for k, v in module.state_dict().items()}
        whole(directory / f"{stem}.module.safetensors", lambda p: save_file(weights, str(p)))
    if optimizer is not None:
        tensors, layout = _flatten_optimizer(optimizer.state_dict())
        whole(directory / f"{stem}.optimizer.safetensors", lambda p: save_file(tensors, str(p)))
        whole(directory / f"{stem}.optimizer.json", lambda p: p.write_text(json.dumps(layout)))
    whole(directory / name, lambda p: p.write_text(json.dumps(state, indent=1)))


def load_modules(directory: Path, module: Any, optimizer: Any, *, name: str) -> dict[str, Any]:
    """Read what :func:`save_modules` wrote into ``module`` and ``optimizer``; return the state."""
    from safetensors.torch import load_file

    stem = Path(name).stem
    if not (directory / name).exists():
        raise ConfigError(
            f"checkpoint {directory} has no {name}: it was not written by FairnessTrainer, or "
            "training stopped while it was being saved; resume from an earlier checkpoint"
        )
    try:
        state = json.loads((directory / name).read_text())
        if module is not None:
            module.load_state_dict(load_file(str(directory / f"{stem}.module.safetensors")))
        if optimizer is not None:
            optimizer.load_state_dict(_unflatten_optimizer(
                load_file(str(directory / f"{stem}.optimizer.safetensors")),
                json.loads((directory / f"{stem}.optimizer.json").read_text())))
    except (OSError, ValueError, KeyError) as exc:
        raise ConfigError(f"checkpoint {directory} is unreadable ({exc}); resume from an earlier one") from exc
    return state
