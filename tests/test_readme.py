"""The README's examples run as written: every `moviebot` line of its ```sh blocks, in order,
on a fresh database, but for the ones listed in SKIPPED (with the reason)."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

from devtools.paths import REPO as ROOT

README = ROOT / "README.md"

# Lines that cannot run here, by how they start, and why.
SKIPPED = {
    "moviebot import ~/Downloads/ml-25m": "needs the MovieLens 25M download",
    "moviebot evaluate ": "a long run (minutes: every reference model on the shared split)",
    "pybabel update ": "a development step that rewrites the translation catalogues",
}


def sh_commands(text: str) -> list[str]:
    """The lines of ```sh blocks that run moviebot, continuations joined, comments dropped."""
    commands = []
    for block in re.findall(r"^```sh\n(.*?)^```", text, flags=re.S | re.M):
        for line in block.replace("\\\n", " ").splitlines():
            if "moviebot" in shlex.split(line, comments=True):
                commands.append(" ".join(re.sub(r"\s+#\s.*$", "", line).split()))
    return commands


def skipped(command: str) -> bool:
    return command.startswith(tuple(SKIPPED))


def test_every_moviebot_example_in_the_readme_runs_on_a_fresh_database(tmp_path: Path) -> None:
    commands = sh_commands(README.read_text())
    assert len(commands) >= 10
    for start in SKIPPED:  # each skip names a line that is there
        assert any(c.startswith(start) for c in commands), start
    # `moviebot` on the PATH is this checkout's, run by this interpreter.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "moviebot"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m moviebot "$@"\n')
    shim.chmod(0o755)
    work = tmp_path / "work"
    work.mkdir()
    env = {
        **os.environ,
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        "MOVIEBOT_DB": str(work / "moviebot.db"),
    }
    env.pop("TELEGRAM_BOT_TOKEN", None)
    outputs = {}
    for command in commands:
        if skipped(command):
            continue
        result = subprocess.run(
            ["bash", "-c", command],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
        assert "Traceback" not in result.stderr, f"{command}\n{result.stderr}"
        outputs[command] = result.stdout

    def output_of(start: str) -> str:
        (out,) = [o for c, o in outputs.items() if c.startswith(start)]
        return out

    # The user id the README recommends for is one `moviebot users` lists.
    (recommend,) = [c for c in outputs if c.startswith("moviebot recommend --user")]
    user_id = shlex.split(recommend)[3]
    assert user_id in output_of("moviebot users").split()
    picks = json.loads(output_of("moviebot recommend"))
    assert len(picks) == 5 and all(1990 <= int(p["title"][-5:-1]) <= 1999 for p in picks)
    assert output_of("moviebot stats").startswith(f"Database {work / 'moviebot.db'}")
    assert output_of("moviebot health").startswith("healthy: ")
    assert [p.suffix for p in (work / "backups").iterdir()] == [".db"]
    assert "Ted (2012): 8/10" in output_of("printf")
    # Nothing written beside the commands but the database, its model, and the backup.
    assert sorted(p.name for p in work.iterdir() if not p.name.startswith("moviebot.db-")) == [
        "backups",
        "moviebot.db",
        "moviebot.model.npz",
    ]
