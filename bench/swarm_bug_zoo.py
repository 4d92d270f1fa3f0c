#!/usr/bin/env python3
"""Seeds to catch each bug, with and without swarm testing (bench/README.md).

For every bug scenario (essim's own, scenarios/bugs/, and the bug zoo's,
examples/bug-zoo/scenarios/), runs HUNTS hunts from different first seeds,
each until the first seed that shows the scenario's violation (at most
MAX_SEEDS seeds), once as the file is and once with `swarm: true` added.
essim's own bug scenarios turn on just the faults their bug needs; the
second table runs each of their bugs in one general scenario instead
(scenarios/bank-everything.yaml with sync failures added: every fault on),
as a user who does not know the bug would. The zoo's scenarios are all one
general mix already. Prints Markdown tables: the median seeds to catch, the
range, and the hunts that missed. Seeds are deterministic, so the tables are
too.

  bench/swarm_bug_zoo.py [--essim build/default/cli/essim]
                         [--zoo-sim build/bug-zoo/zoo_sim] [--hunts 21]
"""

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def variant(text: str, swarm: bool, max_seeds: int) -> str:
    """The scenario hunting up to max_seeds seeds, with swarm on or not."""
    text, n = re.subn(r"within_seeds:\s*\d+", f"within_seeds: {max_seeds}", text)
    if n != 1:
        raise SystemExit("a bug scenario must have exactly one within_seeds")
    text = re.sub(r"^swarm:.*$", "", text, flags=re.M)
    return text + ("\nswarm: true\n" if swarm else "")


def general(bug_text: str) -> str:
    """The bug of a scenario of scenarios/bugs/, in bank-everything's faults."""
    bugs = re.search(r"^bugs:.*$", bug_text, flags=re.M).group(0)
    expect = re.search(r"^expect:.*$", bug_text, flags=re.M).group(0)
    base = (ROOT / "scenarios/bank-everything.yaml").read_text()
    base = re.sub(r"^(require_probes|expect|seeds):.*$", "", base, flags=re.M)
    base = base.replace("disk: {torn_writes: true}",
                        "disk: {torn_writes: true, sync_failures: 0.01}")
    # An operation the bug needs (a rebuild) comes along.
    ops = re.search(r"^operations:\n(?:  - .*\n)+", bug_text, flags=re.M)
    return f"{base}\n{ops.group(0) if ops else ''}{bugs}\n{expect}\n"


def hunt(runner: str, scenario: Path, first: int, max_seeds: int, work: Path) -> int | None:
    """Seeds run until the catch (1 = the first seed), or None for a miss."""
    report_dir = work / "report"
    proc = subprocess.run(
        [runner, "run", str(scenario), "--seed", str(first), "--seeds", str(max_seeds),
         "--report-dir", str(report_dir), "--quiet", "-j", "2"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, check=False)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{scenario}: exit {proc.returncode}\n{proc.stderr}")
    report = json.loads((report_dir / "report.json").read_text())
    caught = report["scenarios"][0]["caught_at_seed"]
    return None if caught is None else caught - first + 1


def has_faults(runner: str, scenario: Path) -> bool:
    proc = subprocess.run([runner, "validate", str(scenario)], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, check=False)
    if proc.returncode == 0:
        return True
    if "turns none on" in proc.stdout:
        return False
    raise SystemExit(f"{scenario} does not validate:\n{proc.stdout}")


def summary(counts: list[int | None]) -> str:
    caught = sorted(c for c in counts if c is not None)
    missed = len(counts) - len(caught)
    if not caught:
        return f"never ({missed} missed)"
    # A miss counts as more seeds than any catch.
    median = statistics.median_low([c if c is not None else 10**12 for c in counts])
    med = "miss" if median == 10**12 else str(median)
    return f"{med} ({caught[0]}–{caught[-1]}{f', {missed} missed' if missed else ''})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--essim", default=str(ROOT / "build/default/cli/essim"))
    parser.add_argument("--zoo-sim", default=str(ROOT / "build/bug-zoo/zoo_sim"))
    parser.add_argument("--hunts", type=int, default=21)
    parser.add_argument("--max-seeds", type=int, default=200)
    parser.add_argument("--only", default="", help="scenarios whose file name contains this")
    parser.add_argument("--zoo-only", action="store_true", help="the bug zoo's scenarios only")
    args = parser.parse_args()

    jobs = [] if args.zoo_only else [(args.essim, p)
                                     for p in sorted((ROOT / "scenarios/bugs").glob("*.yaml"))]
    if os.access(args.zoo_sim, os.X_OK):
        jobs += [(args.zoo_sim, p)
                 for p in sorted((ROOT / "examples/bug-zoo/scenarios").glob("*.yaml"))
                 if "within_seeds" in p.read_text()]  # the bugs, not the passing twins
    else:
        print(f"(no {args.zoo_sim}: the bug zoo is left out; scripts/test builds it)",
              file=sys.stderr)
    jobs = [(r, p) for r, p in jobs if args.only in p.name and not p.name.startswith(".")]

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        # Copies: a build that replaces a binary midway cannot break the run.
        copies = {}
        for runner in sorted({r for r, _ in jobs}):
            copies[runner] = str(work / f"runner{len(copies)}")
            shutil.copy2(runner, copies[runner])
        jobs = [(copies[r], p) for r, p in jobs]
        args.essim = copies.get(args.essim, args.essim)
        print("| bug scenario | seeds to catch, as written: median (range) "
              "| with `swarm: true` |")
        print("|---|---:|---:|")
        table(jobs, lambda text: text, work, args)
        if not args.zoo_only:
            print("\n| bug, in bank-everything's faults | seeds to catch: median (range) "
                  "| with `swarm: true` |")
            print("|---|---:|---:|")
            table([j for j in jobs if j[0] == args.essim], general, work, args)
    return 0


def table(jobs, rewrite, work: Path, args) -> None:
    for runner, path in jobs:
        text = rewrite(path.read_text())
        row = [path.stem]
        for swarm in (False, True):
            # Beside the original, so paths in it (external: cwd) still resolve.
            scenario = path.parent / f".swarm-bench-{path.stem}.yaml"
            scenario.write_text(variant(text, swarm, args.max_seeds))
            try:
                if swarm and not has_faults(runner, scenario):
                    row.append("no faults to draw")
                    continue
                counts = [hunt(runner, scenario, 1 + i * 100_003, args.max_seeds, work)
                          for i in range(args.hunts)]
                row.append(summary(counts))
            finally:
                scenario.unlink()
        print(f"| `{row[0]}` | {row[1]} | {row[2]} |", flush=True)


if __name__ == "__main__":
    sys.exit(main())
