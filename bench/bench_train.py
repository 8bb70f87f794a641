"""`moviebot train` as a whole process on the bundled catalog, side by side with another checkout.

    .venv/bin/python bench/bench_train.py                          # this checkout only
    .venv/bin/python bench/bench_train.py --base /tmp/refit-base   # and a checkout of main
    .venv/bin/python bench/bench_train.py --base /tmp/refit-base --rounds 3 --busy

Each round runs `python -m moviebot train` once per checkout (alternating, so both see the same
machine), idle and, with ``--busy``, beside a process that keeps one core busy (a Python loop:
a stand-in for the live bot). Prints wall seconds and peak RSS (ru_maxrss of the child) per run,
the medians, and the ratios this / base. Both sides use this checkout's virtualenv, the other
one's code coming first on PYTHONPATH; each fits its own copy of a fresh bundled-catalog database.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent


def measure(code: Path, db: Path, threads: int | None = None) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds (user + system) and peak RSS (MiB) of one `moviebot train`
    process on `db` (with `threads`: the same fit through moviebot.training.train with that many
    BLAS threads)."""
    env = dict(os.environ, PYTHONPATH=str(code))
    command = [sys.executable, "-m", "moviebot", "train", "--db", str(db)]
    if threads is not None:
        fit = "from moviebot.training import train; import sys; from pathlib import Path;"
        fit += "db = Path(sys.argv[1]); model = db.with_suffix('.model.npz');"
        fit += "train(db, model, threads=int(sys.argv[2]))"
        command = [sys.executable, "-c", fit, str(db), str(threads)]
    started = time.perf_counter()
    child = subprocess.Popen(command, env=env, cwd=code, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"moviebot train in {code} exited with {child.returncode}")
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


@contextmanager
def busy_core(on: bool):
    """A process spinning one core (the bot beside the refit), for the block's duration."""
    if not on:
        yield
        return
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.5)
        yield
    finally:
        spinner.kill()
        spinner.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=Path, help="another checkout to compare with")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--busy", action="store_true", help="also measure with one core busy")
    parser.add_argument(
        "--threads", default="", help="also this checkout's fit with these BLAS threads: 1,2"
    )
    args = parser.parse_args()
    sides: dict[str, tuple[Path, int | None]] = {"this": (HERE, None)}
    for n in filter(None, args.threads.split(",")):
        sides[f"this-t{int(n)}"] = (HERE, int(n))
    if args.base is not None:
        sides["base"] = (args.base.resolve(), None)
    work = Path(tempfile.mkdtemp(prefix="bench-train-"))
    try:
        # Each checkout builds its own template: an older one cannot open a newer schema.
        templates: dict[Path, Path] = {}
        for code, _ in sides.values():
            if code not in templates:
                templates[code] = work / f"template-{len(templates)}.db"
                subprocess.run(
                    [sys.executable, "-m", "moviebot", "init", "--db", str(templates[code])],
                    cwd=code,
                    env=dict(os.environ, PYTHONPATH=str(code)),
                    check=True,
                    stdout=subprocess.DEVNULL,
                )
        modes = ["idle", "busy"] if args.busy else ["idle"]
        results: dict[tuple[str, str], list[tuple[float, float]]] = {}
        for round_ in range(args.rounds):
            for mode in modes:
                for name, (code, threads) in sides.items():
                    db = work / f"{name}-{mode}-{round_}.db"
                    shutil.copy(templates[code], db)
                    with busy_core(mode == "busy"):
                        run = measure(code, db, threads)
                    results.setdefault((name, mode), []).append(run)
                    seconds, cpu, mib = run
                    print(
                        f"round {round_ + 1} {mode:4} {name:7}: {seconds:6.2f} s,"
                        f" CPU {cpu:6.2f} s, {mib:5.0f} MiB",
                        flush=True,
                    )
        load = os.getloadavg()[0]
        print(f"\nload average at the end: {load:.2f} (1 min), {os.cpu_count()} cores")
        print(
            "| side | mode | wall s (median) | wall s (runs) | CPU s (median) | peak MiB (median) |"
        )
        print("| --- | --- | --- | --- | --- | --- |")
        for (name, mode), runs in results.items():
            walls = ", ".join(f"{run[0]:.2f}" for run in runs)
            wall, cpu, mib = (statistics.median(run[i] for run in runs) for i in range(3))
            print(f"| {name} | {mode} | {wall:.2f} | {walls} | {cpu:.2f} | {mib:.0f} |")

        def median(side: str, mode: str, i: int) -> float:
            return statistics.median(run[i] for run in results[(side, mode)])

        if "base" in sides:
            for mode in modes:
                wall, cpu, mem = (
                    median("this", mode, i) / median("base", mode, i) for i in range(3)
                )
                print(f"{mode}: this / base wall {wall:.2f}x, CPU {cpu:.2f}x, peak RSS {mem:.2f}x")
        if "busy" in modes:
            for name in sides:
                ratio = median(name, "busy", 0) / median(name, "idle", 0)
                print(f"{name}: busy / idle wall {ratio:.2f}x")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
