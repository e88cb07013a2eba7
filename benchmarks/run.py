"""Run the benchmark suite: ``python benchmarks/run.py [--only PREFIX ...] [--json] [--repeats N]``.

Prints one line per figure with the min and median over repeats. Cases are collected from the
``bench_*.py`` modules beside this file. Cases marked ``fresh_process`` run each repeat in a new
interpreter (``--one NAME``), so cold-start figures are real.
"""

from __future__ import annotations

import argparse
import importlib
import json
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import Case  # noqa: E402


def collect() -> list[tuple[str, Case]]:
    """(module name, case) for every case of every bench module, in file order."""
    cases: list[tuple[str, Case]] = []
    for path in sorted(HERE.glob("bench_*.py")):
        module = importlib.import_module(path.stem)
        cases.extend((path.stem, case) for case in getattr(module, "CASES", []))
    return cases


def _as_dict(value: float | dict[str, float]) -> dict[str, float]:
    return dict(value) if isinstance(value, dict) else {"": float(value)}


def measure(module: str, case: Case, repeats: int) -> dict[str, list[float]]:
    """Run ``case`` ``repeats`` times; return the samples per figure."""
    samples: dict[str, list[float]] = {}
    for _ in range(repeats):
        if case.fresh_process:
            out = subprocess.run(
                [sys.executable, str(Path(__file__).resolve()), "--one", f"{module}:{case.name}"],
                capture_output=True, text=True, check=True,
            ).stdout
            value = json.loads(out.strip().splitlines()[-1])
        else:
            value = case.run()
        for key, number in _as_dict(value).items():
            samples.setdefault(key, []).append(float(number))
    return samples


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=None, help="run cases whose name starts with any PREFIX")
    parser.add_argument("--json", action="store_true", help="print one JSON object per figure")
    parser.add_argument("--repeats", type=int, default=None, help="override every case's repeat count")
    parser.add_argument("--list", action="store_true", help="list case names and exit")
    parser.add_argument("--one", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.one:  # a fresh interpreter measuring one repeat: import only that case's module
        module_name, _, case_name = args.one.partition(":")
        module = importlib.import_module(module_name)
        case = next(c for c in module.CASES if c.name == case_name)
        print(json.dumps(case.run()))
        return 0
    cases = collect()
    if args.only:
        cases = [(m, c) for m, c in cases if any(c.name.startswith(p) for p in args.only)]
    if args.list:
        for _, case in cases:
            print(case.name)
        return 0
    if not cases:
        print("no benchmark case matches", args.only, file=sys.stderr)
        return 2
    for module, case in cases:
        repeats = args.repeats or case.repeats
        for key, values in measure(module, case, repeats).items():
            name = f"{case.name}[{key}]" if key else case.name
            low, mid = min(values), statistics.median(values)
            if args.json:
                print(json.dumps({"name": name, "unit": case.unit, "min": low, "median": mid, "n": len(values)}))
            else:
                print(f"{name:<48} min {low:10.3f} {case.unit:<6} median {mid:10.3f} {case.unit:<6} (n={len(values)})",
                      flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
