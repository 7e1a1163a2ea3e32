"""The one place where the CLI turns exceptions into messages and exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import typer

from fairslm.cli import main
from fairslm.cli._app import app, files
from fairslm.exceptions import ConfigError


@pytest.fixture
def probe_command(monkeypatch: pytest.MonkeyPatch):
    """A throwaway command raising whatever the test puts in ``raised``."""
    raised: list[BaseException] = []

    @files(outputs={"out": "file"})
    def probe(out: Path = typer.Option(Path("probe.json"), "--out")) -> None:
        from fairslm._atomic import write_text_atomic

        write_text_atomic("{}", out)
        if raised:
            raise raised[0]

    app.command("probe-errors", hidden=True)(probe)
    yield raised
    app.registered_commands[:] = [c for c in app.registered_commands
                                  if c.name != "probe-errors"]


def test_user_errors_exit_2_with_the_message(probe_command, tmp_path, capsys) -> None:
    probe_command.append(ConfigError("threshold must be in (0, 1]; got 3"))
    out = tmp_path / "p.json"
    assert main(["probe-errors", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err == "error: threshold must be in (0, 1]; got 3\n"
    assert not out.exists()  # the output written before the error never appears


def test_a_bug_is_one_line_with_a_log_and_exit_3(probe_command, tmp_path, capsys,
                                                 monkeypatch) -> None:
    monkeypatch.setenv("FAIRSLM_LOG_DIR", str(tmp_path / "logs"))
    probe_command.append(TypeError("unsupported operand type(s) for +: 'int' and 'str'"))
    assert main(["probe-errors", "--out", str(tmp_path / "p.json")]) == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("error: internal error in fairslm ")
    assert "(TypeError: unsupported operand type(s) for +: 'int' and 'str')" in err
    (log,) = (tmp_path / "logs").iterdir()
    assert str(log) in err
    text = log.read_text()
    assert "Traceback (most recent call last)" in text and "probe-errors" in text
    assert not (tmp_path / "p.json").exists()


def test_debug_prints_the_traceback(probe_command, tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("FAIRSLM_LOG_DIR", str(tmp_path / "logs"))
    probe_command.append(KeyError("views"))
    assert main(["--debug", "probe-errors", "--out", str(tmp_path / "p.json")]) == 3
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and "KeyError: 'views'" in err
    probe_command[0] = ConfigError("bad option")
    monkeypatch.setenv("FAIRSLM_DEBUG", "1")
    assert main(["probe-errors", "--out", str(tmp_path / "p.json")]) == 2
    err = capsys.readouterr().err
    assert "Traceback" in err and err.rstrip().endswith("error: bad option")


def test_exit_1_still_writes_the_outputs(probe_command, tmp_path) -> None:
    probe_command.append(typer.Exit(1))
    assert main(["probe-errors", "--out", str(tmp_path / "p.json")]) == 1
    assert (tmp_path / "p.json").read_text() == "{}"


def test_ctrl_c_exits_130_and_writes_nothing(probe_command, tmp_path, capsys) -> None:
    probe_command.append(KeyboardInterrupt())
    assert main(["probe-errors", "--out", str(tmp_path / "p.json")]) == 130
    assert "interrupted" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_version_prints_and_exits_0() -> None:
    from fairslm._version import __version__

    done = subprocess.run([sys.executable, "-m", "fairslm", "--version"], capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"fairslm {__version__}"


def test_a_declared_parameter_must_exist() -> None:
    with pytest.raises(TypeError, match=r"has no parameter\(s\) \['output'\]"):
        @files(outputs={"output": "file"})
        def command(out: Path) -> None:  # pragma: no cover
            pass
