"""Run every benchmark script in this directory and summarise them against their targets.

Each ``*_bench.py`` runs in its own process (``python -m benchmarks.<name>``), one after
the other, sharing one temporary directory for the stores they build. Scripts report
a figure as a ``RESULT {json}`` line (name, ours, baseline, ratio, target, passed);
a script that prints only ``ratio: N% of baseline (target >= M%)`` is read from that.
Exit status 1 if a benchmark misses its target or a script fails.

Run: ``make bench`` or ``python -m benchmarks.run_all [--quick]``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
_RATIO = re.compile(r"ratio:\s*([\d.]+)%\s*of baseline\s*\(target\s*>=\s*([\d.]+)%")
_PERCENT = re.compile(
    r"^([\w][\w /.-]*):\s*([\d.]+)%\s*of\b[^(\n]*\(target\s*(?:>=\s*)?([\d.]+)%\)", re.MULTILINE
)
_RATE = re.compile(r"^(baseline|optline)[^:]*:\s*([\d,.]+)\s*(\S+)", re.IGNORECASE)
# Smaller runs for a quick look (the targets are stated for the full sizes).
QUICK = {
    "store_bench": ["--contacts", "100000", "--rounds", "3", "--batch", "5000", "--writes", "50"],
    "classify_bench": ["--seconds", "0.5"],
    "contacts_bench": ["--contacts", "100000", "--rounds", "3"],
    "http_bench": ["--seconds", "4", "--rounds", "1"],
    "lag_bench": ["--seconds", "4"],
}


def scripts() -> list[str]:
    return sorted(p.stem for p in HERE.glob("*_bench.py"))


def parse(name: str, output: str) -> list[dict[str, Any]]:
    results = [
        json.loads(line.removeprefix("RESULT "))
        for line in output.splitlines()
        if line.startswith("RESULT ")
    ]
    if results:
        return results
    match = _RATIO.search(output)
    if match is None:
        return _percent_lines(name, output)
    rates: dict[str, str] = {}
    for line in output.splitlines():
        found = _RATE.match(line.strip())
        if found:
            rates[found.group(1).lower()] = f"{found.group(2)} {found.group(3)}"
    ratio, target = float(match.group(1)) / 100, float(match.group(2)) / 100
    return [
        {
            "name": name.removesuffix("_bench"),
            "ours": rates.get("optline", "?"),
            "baseline": rates.get("baseline", "?"),
            "ratio": ratio,
            "target": target,
            "better": ">=",
            "passed": ratio >= target,
        }
    ]


def _percent_lines(name: str, output: str) -> list[dict[str, Any]]:
    """Lines such as ``webhook: 7.5% of the bare endpoint (target 35%)``."""
    results = []
    for found in _PERCENT.finditer(output):
        ratio, target = float(found.group(2)) / 100, float(found.group(3)) / 100
        results.append(
            {
                "name": f"{name.removesuffix('_bench')}: {found.group(1)}",
                "ours": "-",
                "baseline": "-",
                "ratio": ratio,
                "target": target,
                "better": ">=",
                "passed": ratio >= target,
            }
        )
    return results


def show(value: Any, unit: str) -> str:
    if isinstance(value, str):
        return value
    return f"{value:,.0f} {unit}" if unit == "/s" else f"{value:.3f} {unit}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller sizes, fewer rounds")
    parser.add_argument("--only", action="append", help="script name (repeatable)")
    args = parser.parse_args()
    summary: list[dict[str, Any]] = []
    failed: list[str] = []
    with tempfile.TemporaryDirectory(prefix="optline-bench-") as tmp:
        env = {**os.environ, "OPTLINE_BENCH_DIR": tmp}
        for name in scripts():
            if args.only and name not in args.only:
                continue
            command = [sys.executable, "-m", f"benchmarks.{name}"]
            if args.quick:
                command += QUICK.get(name, [])
            print(f"== {name} ({' '.join(command[1:])})", flush=True)
            started = time.perf_counter()
            done = subprocess.run(command, cwd=HERE.parent, env=env, capture_output=True, text=True)
            for line in done.stdout.splitlines():
                if not line.startswith("RESULT "):
                    print(line)
            print(f"   ({time.perf_counter() - started:.0f} s)\n", flush=True)
            if done.returncode != 0:
                print(done.stderr, file=sys.stderr)
                failed.append(name)
                continue
            results = parse(name, done.stdout)
            if not results:
                failed.append(name)
            summary.extend(results)

    print("== summary (optline beside the same-run baseline)")
    print(f"{'benchmark':<20} {'optline':>16} {'baseline':>16} {'ratio':>7}  target   result")
    for r in summary:
        unit = r.get("unit", "")
        verdict = "PASS" if r["passed"] else "FAIL"
        print(
            f"{r['name']:<20} {show(r['ours'], unit):>16} {show(r['baseline'], unit):>16} "
            f"{r['ratio']:>7.2f}  {r['better']} {r['target']:<5g} {verdict}"
        )
    for name in failed:
        print(f"{name:<20} did not report a result: FAIL")
    return 0 if summary and all(r["passed"] for r in summary) and not failed else 1


if __name__ == "__main__":
    sys.exit(main())
