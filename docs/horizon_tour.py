"""Run the commands of the README's tour of plans over several periods and put their real output into README.md.

    python docs/horizon_tour.py                 # run every step (about an hour on 2 cores: the back-test is most of it)
    python docs/horizon_tour.py --only tiny     # run some steps again
    python docs/horizon_tour.py --reuse         # only put the saved outputs (docs/tour/*.txt) into README.md

Each step's command and output are saved in docs/tour/<step>.txt and replace the block between
``<!-- tour:<step> -->`` and ``<!-- /tour:<step> -->`` in README.md. Commands run from the
repository root with the installed ``allocator``; solution folders go to solutions/.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOUR = ROOT / "docs" / "tour"
HAND = (
    "--set travel_value=1 --set unmet_penalty=1000 --set max_travel_minutes=none --set max_travel_minutes_regular=none"
)
STEPS = {
    "validate": "allocator validate instances/nl-2024-horizon",
    "tiny": f"allocator solve instances/tiny-horizon-standby {HAND} --out solutions/tiny-horizon-standby",
    "band": "allocator solve instances/nl-2024-horizon --gap 0.005 --out solutions/nl-2024-horizon-band",
    "check": "allocator check solutions/nl-2024-horizon-band",
    "report": "allocator report solutions/nl-2024-horizon-band --out horizon-report.html --png docs/horizon",
    "backtest": "allocator backtest --time-limit 60 --out solutions/backtest.csv",
}


def run(step: str) -> str:
    """Run one step; save and return its command and output."""
    command = STEPS[step]
    t = time.perf_counter()
    done = subprocess.run(command, shell=True, cwd=ROOT, capture_output=True, text=True, env=None)
    seconds = time.perf_counter() - t
    text = f"$ {command}\n{done.stdout.rstrip()}\n"
    if done.returncode not in (0, 1):
        raise SystemExit(f"{step} failed with exit code {done.returncode}:\n{done.stderr}")
    (TOUR / f"{step}.txt").write_text(text, encoding="utf-8")
    print(f"{step}: {seconds:.0f} s, exit code {done.returncode}")
    return text


def inject(outputs: dict[str, str]) -> None:
    """Replace each step's block in README.md with its saved output."""
    readme = ROOT / "README.md"
    text = readme.read_text(encoding="utf-8")
    for step, output in outputs.items():
        pattern = re.compile(rf"(<!-- tour:{step} -->\n).*?(<!-- /tour:{step} -->)", re.S)
        if not pattern.search(text):
            raise SystemExit(f"README.md has no block for {step}")
        text = pattern.sub(lambda m, out=output: f"{m[1]}```\n{out}```\n{m[2]}", text)
    readme.write_text(text, encoding="utf-8")


def main() -> None:
    """Run the chosen steps, then update README.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=None, help="comma-separated steps to run again")
    parser.add_argument("--reuse", action="store_true", help="run nothing; put the saved outputs into README.md")
    args = parser.parse_args()
    TOUR.mkdir(parents=True, exist_ok=True)
    chosen = list(STEPS) if args.only is None else args.only.split(",")
    if not args.reuse:
        if shutil.which("allocator") is None:
            raise SystemExit("the allocator command is not installed (pip install -e .)")
        for step in chosen:
            run(step)
    inject(
        {step: (TOUR / f"{step}.txt").read_text(encoding="utf-8") for step in STEPS if (TOUR / f"{step}.txt").is_file()}
    )


if __name__ == "__main__":
    main()
