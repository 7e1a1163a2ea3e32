"""Outputs are written whole and all together; output paths never replace an input."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fairslm._atomic import (
    atomic_target,
    check_output_path,
    remove_stale_temps,
    staged_outputs,
    write_text_atomic,
)
from fairslm.exceptions import InvalidDataError, OutputPathError


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_staged_outputs_appear_together_or_not_at_all(tmp_path: Path) -> None:
    with staged_outputs():
        write_text_atomic("a", tmp_path / "a.json")
        assert _names(tmp_path) == [n for n in _names(tmp_path) if n.endswith(".tmp")]
        write_text_atomic("b", tmp_path / "sub" / "b.html")
    assert (tmp_path / "a.json").read_text() == "a" and (tmp_path / "sub" / "b.html").exists()
    assert not list(tmp_path.rglob("*.tmp"))

    with pytest.raises(RuntimeError), staged_outputs():
        write_text_atomic("c", tmp_path / "c.json")
        write_text_atomic("d", tmp_path / "new" / "deeper" / "d.json")
        raise RuntimeError("the second step failed")
    # Nothing of the failed block: no file, no temp file, no folder it created.
    assert _names(tmp_path) == ["a.json", "sub"]


def test_an_existing_output_survives_a_failed_run(tmp_path: Path) -> None:
    target = tmp_path / "audit.json"
    target.write_text("old")
    with pytest.raises(KeyboardInterrupt), staged_outputs():
        write_text_atomic("new", target)
        raise KeyboardInterrupt
    assert target.read_text() == "old"


def test_output_onto_an_input_is_refused_even_through_a_link(tmp_path: Path) -> None:
    data = tmp_path / "x.csv"
    data.write_text("a\n1\n")
    link = tmp_path / "link.csv"
    link.symlink_to(data)
    for out in (data, link):
        with pytest.raises(InvalidDataError, match="refusing to overwrite the input file"):
            check_output_path(out, inputs=[data], option="--out")
    with pytest.raises(InvalidDataError, match="refusing to overwrite the input file"):
        with staged_outputs(inputs=[data]):
            write_text_atomic("{}", link)
    assert data.read_text() == "a\n1\n"


def test_unwritable_and_folder_outputs_name_the_users_path(tmp_path: Path) -> None:
    (tmp_path / "dir").mkdir()
    with pytest.raises(OutputPathError, match=r"--out .*dir is a folder; pass a file path"):
        check_output_path(tmp_path / "dir", option="--out")
    with pytest.raises(OutputPathError, match=r"cannot write .*dir: it is a folder"):
        write_text_atomic("x", tmp_path / "dir")
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputPathError, match=r"file is a file, not a folder"):
        check_output_path(tmp_path / "file" / "out.json", option="--out")
    with pytest.raises(OutputPathError, match=r"cannot create folder .*file/sub") as info:
        write_text_atomic("x", tmp_path / "file" / "sub" / "out.json")
    assert ".tmp" not in str(info.value)


def test_stale_temp_files_of_dead_processes_are_removed(tmp_path: Path) -> None:
    dead = tmp_path / ".out.json.fairslm-999999999-abcd.tmp"
    alive = tmp_path / f".out.json.fairslm-{os.getpid()}-abcd.tmp"
    foreign = tmp_path / ".out.json.x1y2.tmp"  # not ours: left alone
    for p in (dead, alive, foreign):
        p.write_text("partial")
    write_text_atomic("whole", tmp_path / "out.json")
    assert not dead.exists() and alive.exists() and foreign.exists()
    assert remove_stale_temps(tmp_path) == []


def test_signals_wait_until_every_staged_file_is_in_place(tmp_path: Path) -> None:
    got: list[int] = []
    previous = signal.signal(signal.SIGTERM, lambda s, f: got.append(s))
    try:
        with staged_outputs() as stage:
            write_text_atomic("a", tmp_path / "a.json")
            write_text_atomic("b", tmp_path / "b.json")
            real = os.replace

            def replace_then_signal(src: str, dst: str) -> None:
                real(src, dst)
                os.kill(os.getpid(), signal.SIGTERM)  # arrives between the two renames
                assert got == [], "the signal was delivered in the middle of the commit"

            os.replace = replace_then_signal  # type: ignore[assignment]
            try:
                stage.commit()
            finally:
                os.replace = real
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert got == [signal.SIGTERM]
    assert (tmp_path / "a.json").exists() and (tmp_path / "b.json").exists()


def test_a_killed_writer_leaves_a_temp_file_that_the_next_write_removes(tmp_path: Path) -> None:
    code = (
        "import sys, time\n"
        "from fairslm._atomic import atomic_target\n"
        f"with atomic_target({str(tmp_path / 'out.json')!r}) as tmp:\n"
        "    tmp.write_text('partial')\n"
        "    print('ready', flush=True)\n"
        "    time.sleep(60)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    proc.kill()  # SIGKILL: nothing can clean up
    proc.communicate()
    left = [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert len(left) == 1 and not (tmp_path / "out.json").exists()
    with atomic_target(tmp_path / "out.json") as tmp:
        tmp.write_text("whole")
    assert _names(tmp_path) == ["out.json"]


def test_sigterm_removes_the_temp_file_of_a_cli_write(tmp_path: Path) -> None:
    """A real `fairslm` process terminated while writing leaves neither output nor temp file."""
    code = (
        "import os, signal, sys\n"
        "import fairslm._atomic as a\n"
        "real = a.os.open\n"
        "def slow_open(path, *args, **kw):\n"
        "    fd = real(path, *args, **kw)\n"
        "    if str(path).endswith('.tmp'):\n"
        "        print('writing', flush=True)\n"
        "        signal.pause()\n"
        "    return fd\n"
        "a.os.open = slow_open\n"
        "from fairslm.cli import main\n"
        f"sys.exit(main(['policy', 'init', {str(tmp_path / 'policy.toml')!r}]))\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "writing"
    time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    assert "terminated" in err and "Traceback" not in err
    assert _names(tmp_path) == []
