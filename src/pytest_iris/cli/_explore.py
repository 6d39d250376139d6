"""``pytest-iris chaos --explore N``: the property-based search from the shell.

``-n 0`` searches in this process; ``-n W`` runs pytest with pytest-xdist over
:mod:`pytest_iris.chaos.explore_shards`, whose items are seed ranges, so the
search spreads over W cores (and over CI machines with any sharding plugin,
since each item is an ordinary test id). Every failure is shrunk and written
as an ``iris_chaos_found_*.yaml`` file under ``--out``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

#: examples each shard item runs under ``-n W`` (a seed range of its own)
SHARD_EXAMPLES = 25


def run_explore(args: argparse.Namespace, remediator: str, registry: Any, settings: Any) -> int:
    try:
        import hypothesis  # noqa: F401
    except ImportError:
        print(
            "pytest-iris chaos --explore: needs Hypothesis: pip install 'pytest-iris[hypothesis]'",
            file=sys.stderr,
        )
        return 2
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        print(f"pytest-iris chaos: --out {out}: is not a directory", file=sys.stderr)
        return 2
    if args.workers:
        return _spread(args, remediator, out)
    from pytest_iris.chaos.explore import explore

    started = time.perf_counter()
    print(f"exploring {args.explore} generated scenarios against {remediator!r} (seed {args.seed})")

    def tick(n: int) -> None:
        if n % 10 == 0:
            print(f"  {n} examples, {time.perf_counter() - started:.0f}s", flush=True)

    done = explore(
        args.explore,
        remediator,
        out=out,
        seed=args.seed,
        registry=registry,
        settings=settings,
        on_example=tick,
    )
    rate = done.examples / done.seconds if done.seconds else 0.0
    print(
        f"{done.examples} examples in {done.seconds:.1f}s ({rate:.2f}/s), "
        f"{len(done.found)} failure(s) found"
    )
    for found in done.found:
        print(f"  {found.path}: {len(found.scenario.faults)} fault(s)")
        print("\n".join(f"    - {p}" for p in found.problems))
    return 1 if done.found else 0


def shard_config(
    examples: int, seed: int, remediator: str, out: Path, workers: int = 1
) -> dict[str, Any]:
    """What each shard item reads from ``PYTEST_IRIS_EXPLORE``: at least one seed range per
    worker, each of about :data:`SHARD_EXAMPLES` examples."""
    shards = min(examples, max(workers, -(-examples // SHARD_EXAMPLES)))
    return {
        "examples": examples,
        "shards": shards,
        "seed": seed,
        "remediator": remediator,
        "out": str(out.absolute()),
    }


def _spread(args: argparse.Namespace, remediator: str, out: Path) -> int:
    from pytest_iris.chaos import explore_shards

    config = shard_config(args.explore, args.seed, remediator, out, args.workers)
    env = {**os.environ, explore_shards.ENV: json.dumps(config)}
    command = [
        sys.executable, "-m", "pytest", explore_shards.__file__, "-p", "xdist", "-n",
        str(args.workers), "-q", "-p", "no:cacheprovider", "--rootdir", os.getcwd(),
        "-W", "ignore::pytest.PytestAssertRewriteWarning",
    ]  # fmt: skip
    print(
        f"exploring {args.explore} generated scenarios against {remediator!r} in "
        f"{config['shards']} seed ranges over {args.workers} workers: {' '.join(command[1:])}",
        flush=True,
    )
    started = time.perf_counter()
    done = subprocess.run(command, env=env, check=False)
    wall = time.perf_counter() - started
    print(f"{args.explore} examples in {wall:.1f}s ({args.explore / wall:.2f}/s)")
    found = sorted(out.glob("iris_chaos_found_*.yaml")) if out.is_dir() else []
    for path in found:
        print(f"  {path}")
    if done.returncode not in (0, 1):
        return 2
    return 1 if done.returncode == 1 else 0
