"""Run every benchmark in bench/ once and print one table of their ratios against their targets.

    .venv/bin/python bench/run_all.py               # what `make bench` runs: the issues' sizes
    .venv/bin/python bench/run_all.py --quick       # small sizes: proves the plumbing, not the targets
    .venv/bin/python bench/run_all.py --only records_sync --all

A benchmark is a script here that imports `report` (bench/report.py) and calls `report.result`
for each ratio it computes. Each script runs as a subprocess, its output passing through, with
BENCH_RESULTS naming a file of its own; the table is printed at the end. A metric a script
reports several times (one row per filter or size, told apart by `detail`) is folded into its
worst row, with the number of rows that missed the target (`--all` shows every row).

The exit status is non-zero only if a script crashed, timed out or reported nothing: a missed
target is a FAIL in the table, and the table is the result.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
sys.path.insert(0, str(BENCH_DIR))

import report  # noqa: E402

# `make bench`: one run of each at the sizes the issues set their targets for (about 6 minutes
# in all on 2 cores; see bench/README.md). A benchmark not listed runs with its own defaults.
FULL: dict[str, list[str]] = {
    "masking_resolve": [],  # 100,000 active rules (issue 6), 2 alternating rounds of 10 s per app
    "records_sync": [],  # 10,000 and 100,000 records (issue 5: 100k, and 10k vs 100k linearity)
    "records_dashboard": [],  # 100,000 and 1,000,000 rows (issue 5), p50 of 15 runs per filter
}
# --quick: a minute or two; the ratios of these sizes say nothing about the targets.
QUICK: dict[str, list[str]] = {
    "masking_resolve": ["--rules", "2000", "--seconds", "2", "--rounds", "1", "--warmup", "1"],
    "records_sync": ["--sizes", "1000", "3000"],
    "records_dashboard": ["--sizes", "5000", "20000", "--runs", "3"],
}
_USES_REPORT = re.compile(r"^\s*(?:import report\b|from report import\b)", re.MULTILINE)


def benchmarks() -> list[str]:
    """The scripts that report results: the known ones first, then any other, by name."""
    found = sorted(
        path.stem
        for path in BENCH_DIR.glob("*.py")
        if path.stem not in ("report", "run_all") and _USES_REPORT.search(path.read_text(encoding="utf-8"))
    )
    return [name for name in FULL if name in found] + [name for name in found if name not in FULL]


@dataclass
class Run:
    name: str
    returncode: int | None = None  # None: timed out
    seconds: float = 0.0
    rows: list[dict] = field(default_factory=list)

    @property
    def crashed(self) -> bool:
        return self.returncode != 0 or not self.rows

    @property
    def failure(self) -> str:
        if self.returncode is None:
            return "timed out"
        if self.returncode:
            return f"exited with status {self.returncode}"
        return "reported no results"


def run(name: str, args: list[str], *, timeout: float, results_dir: Path, server: str | None = None) -> Run:
    results = results_dir / f"{name}.jsonl"
    env = {**os.environ, report.ENV: str(results)}
    if server:  # the records scripts take --server; masking_resolve takes DATABASE_URL's server
        env["DATABASE_URL"] = f"{server}/postgres"
        if "--server" in (BENCH_DIR / f"{name}.py").read_text(encoding="utf-8"):
            args = ["--server", server, *args]
    command = [sys.executable, str(BENCH_DIR / f"{name}.py"), *args]
    print(f"\n=== {name} {' '.join(args)}".rstrip(), flush=True)
    began = time.monotonic()
    outcome = Run(name)
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    try:
        outcome.returncode = process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        print(f"=== {name}: timed out after {timeout:.0f} s; interrupting it", flush=True)
        process.send_signal(signal.SIGINT)  # KeyboardInterrupt: the script stops its servers, drops its database
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    outcome.seconds = time.monotonic() - began
    if results.exists():
        outcome.rows = [json.loads(line) for line in results.read_text(encoding="utf-8").splitlines() if line.strip()]
    return outcome


def _worst(rows: list[dict]) -> dict:
    """The row to show for a folded metric: a failing one if any, the furthest from the target."""
    candidates = [row for row in rows if row["ok"] is False] or rows
    comparison = rows[0]["target"].strip()[:1]
    measured = [row for row in candidates if row["value"] is not None]
    if comparison in ("<", ">") and len(measured) == len(candidates):
        pick = max if comparison == "<" else min
        return pick(measured, key=lambda row: row["value"])
    return next((row for row in candidates if row["value"] is None), candidates[0])


def table_rows(runs: list[Run], *, fold: bool = True) -> list[tuple[str, str, str, str, str]]:
    lines = []
    for outcome in runs:
        groups: dict[tuple[str, str], list[dict]] = {}
        for row in outcome.rows:
            key = (row["metric"], row["target"]) if fold else (f"{row['metric']}\0{row['detail']}", row["target"])
            groups.setdefault(key, []).append(row)
        for (_, target), rows in groups.items():
            worst = _worst(rows)
            missed = sum(row["ok"] is False for row in rows)
            if len(rows) > 1:
                metric = f"{worst['metric']} [worst of {len(rows)}: {worst['detail']}]"
                verdict = "pass" if not missed else f"FAIL ({missed} of {len(rows)})"
            else:
                metric = worst["metric"] + (f" [{worst['detail']}]" if worst["detail"] else "")
                verdict = {True: "pass", False: "FAIL", None: "-"}[worst["ok"]]
            value = "n/a" if worst["value"] is None else f"{worst['value']:.2f}"
            lines.append((outcome.name, metric, value, target, verdict))
        if outcome.crashed:
            lines.append((outcome.name, f"(the script {outcome.failure})", "", "", "ERROR"))
    return lines


def print_table(runs: list[Run], *, fold: bool = True) -> None:
    header = ("benchmark", "metric", "value", "target", "result")
    lines = table_rows(runs, fold=fold)
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *lines, strict=False)]
    aligned = ("<", "<", ">", "<", "<")
    print()
    for number, cells in enumerate([header, *lines]):
        print("  ".join(f"{c:{align}{width}}" for c, align, width in zip(cells, aligned, widths, strict=True)).rstrip())
        if number == 0:
            print("  ".join("-" * width for width in widths))
    took = ", ".join(f"{outcome.name} {outcome.seconds:.0f} s" for outcome in runs)
    print(f"\n{len(runs)} benchmark(s) in {sum(o.seconds for o in runs) / 60:.1f} min ({took})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes: checks that every benchmark runs")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run only these benchmarks (script names)")
    parser.add_argument("--all", action="store_true", help="one table row per reported result, nothing folded")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds allowed per script (default 1800)")
    parser.add_argument(
        "--server", help="PostgreSQL server for every script, e.g. postgres://postgres@127.0.0.1:5433 (on loopback)"
    )
    args = parser.parse_args()

    names = benchmarks()
    if args.only:
        unknown = sorted(set(args.only) - set(names))
        if unknown:
            parser.error(f"no such benchmark: {', '.join(unknown)} (have: {', '.join(names)})")
        names = [name for name in names if name in args.only]
    settings = QUICK if args.quick else FULL
    with tempfile.TemporaryDirectory(prefix="bench-results-") as results_dir:
        runs = []
        try:
            for name in names:
                options = {"timeout": args.timeout, "results_dir": Path(results_dir), "server": args.server}
                runs.append(run(name, settings.get(name, []), **options))
        finally:
            if args.quick:
                print("\n(--quick: small sizes, so the ratios below do not speak to the targets)")
            print_table(runs, fold=not args.all)
    return 1 if any(outcome.crashed for outcome in runs) else 0


if __name__ == "__main__":
    sys.exit(main())
