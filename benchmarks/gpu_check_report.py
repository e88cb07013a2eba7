"""The results of benchmarks/gpu_check.py: PASS/FAIL checks, figures and targets, saved to JSON as they are
taken, each part run under its own time cap; and the closing table."""

from __future__ import annotations

import json
import os
import signal
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any


class PartTimeout(Exception):
    """A part ran past its time cap."""


class Report:
    """All results, written to ``path`` after every change (so a killed run keeps what it had)."""

    def __init__(self, path: Path, dry: bool) -> None:
        self.path, self.dry = path, dry
        self.data: dict[str, Any] = {"started": time.strftime("%Y-%m-%d %H:%M:%S"), "dry_run": dry, "parts": {},
                                     "targets": []}
        self.current: dict[str, Any] = {}

    def save(self) -> None:
        """Write the JSON file atomically."""
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps(self.data, indent=1, default=str) + "\n")
        os.replace(tmp, self.path)

    def check(self, name: str, ok: bool, detail: str) -> bool:
        """Record and print one PASS/FAIL line of the running part."""
        self.current.setdefault("checks", []).append({"name": name, "ok": bool(ok), "detail": detail})
        print(f"  {'PASS' if ok else 'FAIL'} {name}: {detail}", flush=True)
        self.save()
        return bool(ok)

    def figure(self, name: str, value: Any, how: str, **extra: Any) -> None:
        """Record and print one figure with how it was measured."""
        self.current.setdefault("figures", {})[name] = {"value": value, "how": how, **extra}
        shown = f"{value:.4g}" if isinstance(value, float) else value
        print(f"  {name} = {shown}  [{how}]" + (f" {extra}" if extra else ""), flush=True)
        self.save()

    def target(self, name: str, value: float | None, goal: float, unit: str = "x") -> None:
        """One row of the final table: a ratio against its target."""
        met = None if value is None else value >= goal
        self.data["targets"].append({"name": name, "value": value, "target": f">= {goal}{unit}", "met": met,
                                     "note": "cpu dry run (not a GPU figure)" if self.dry else ""})
        self.save()

    def run_part(self, name: str, fn: Callable[[], None], cap: float) -> None:
        """Run one part under its time cap; an exception or timeout is that part's FAIL, nothing more."""
        print(f"== {name} (cap {cap:.0f}s){' [cpu dry run]' if self.dry else ''}", flush=True)
        self.current = self.data["parts"][name] = {"status": "RUNNING", "cap_s": round(cap)}
        self.save()
        start = time.perf_counter()

        def expire(*_: Any) -> None:
            raise PartTimeout(f"{name} ran past its {cap:.0f}s cap")

        previous = signal.signal(signal.SIGALRM, expire)
        signal.setitimer(signal.ITIMER_REAL, max(cap, 1.0))
        try:
            fn()
            failed = any(not c["ok"] for c in self.current.get("checks", []))
            self.current["status"] = "FAIL" if failed else "PASS"
        except Exception as exc:  # noqa: BLE001 - any failure is recorded, the next part still runs
            self.current["status"] = "FAIL"
            self.current["error"] = f"{type(exc).__name__}: {exc}"
            self.current["traceback"] = traceback.format_exc(limit=6)
            print(f"  FAIL {name}: {type(exc).__name__}: {exc}", flush=True)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
            self.current["seconds"] = round(time.perf_counter() - start, 2)
            print(f"   -> {self.current['status']} in {self.current['seconds']}s", flush=True)
            self.save()


def print_table(report: Report) -> None:
    """Parts and targets vs figures, at the end of the output."""
    print("\n== summary" + (" (cpu dry run: not GPU figures)" if report.dry else ""))
    for name, part in report.data["parts"].items():
        print(f"  {part['status']:7s} {name} ({part.get('seconds', 0)}s)")
    print(f"  {'target':62s} {'figure':>9s}  {'goal':>8s}  met")
    for row in report.data["targets"]:
        value = "n/a" if row["value"] is None else f"{row['value']:.2f}x"
        met = {True: "yes", False: "NO", None: "-"}[row["met"]]
        print(f"  {row['name']:62s} {value:>9s}  {row['target']:>8s}  {met}")
