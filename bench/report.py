"""Results of a benchmark, for `make bench` (bench/run_all.py), as JSON lines.

A script in bench/ calls this at its end, where it has computed its ratios:

    import report  # bench/ is the script's own directory, so it is on sys.path

    report.result(bench="records_sync", metric="sync / (serve + bulk_create)", value=1.2, target="<= 1.5")

Each call appends one line to the file named by the environment variable BENCH_RESULTS. Without
it (a script run by hand) nothing is written: the script's own printout is the result.
"""

from __future__ import annotations

import json
import math
import operator
import os
import re

ENV = "BENCH_RESULTS"
_TARGET = re.compile(r"^\s*(<=|>=|<|>|==)\s*([-+]?\d+(?:\.\d*)?)")
_COMPARE = {"<=": operator.le, ">=": operator.ge, "<": operator.lt, ">": operator.gt, "==": operator.eq}


def meets(value: float, target: str) -> bool | None:
    """Whether `value` meets a target written `<= 1.5`, `>= 0.5`, `== 1`...; None if the target
    says no comparison."""
    match = _TARGET.match(target)
    if match is None:
        return None
    return bool(math.isfinite(value) and _COMPARE[match.group(1)](value, float(match.group(2))))


def result(*, bench: str, metric: str, value: float, target: str, ok: bool | None = None, detail: str = "") -> None:
    """Record one measured ratio. `ok` defaults to comparing `value` with `target`; `detail` tells
    apart rows of one metric (a filter, a size), which the runner folds into their worst row."""
    path = os.environ.get(ENV)
    if not path:
        return
    value = float(value)
    row = {
        "bench": bench,
        "metric": metric,
        "detail": detail,
        "value": value if math.isfinite(value) else None,
        "target": target,
        "ok": meets(value, target) if ok is None else bool(ok),
    }
    with open(path, "a", encoding="utf-8") as results:
        results.write(json.dumps(row) + "\n")
