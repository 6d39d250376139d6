"""The bounded load test and the crash test of the HTTP transport and its outbox."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from pytest_iris.log.model import IRISMessage, Severity
from pytest_iris.transport import HttpTransport, MockEndpoint, RetryPolicy

START = datetime(2026, 3, 1, 9, 0, 0)


def message(i: int, tag: str = "load") -> IRISMessage:
    return IRISMessage(
        timestamp=START + timedelta(milliseconds=i),
        pid=20000 + i % 50,
        severity=Severity(i % 4),
        category="Utility.Event",
        text=f"{tag} {i}",
    )


@pytest.mark.parametrize(
    ("batch_size", "total"),
    [(20, 10_000), (1, 2_000)],
    ids=["batched-10000", "single-2000"],
)
def test_load_50_publishers_30_percent_failures_and_2s_down(
    tmp_path: Path, batch_size: int, total: int
) -> None:
    """50 publishers, 30% failures, a 2 s outage midway: every message arrives exactly once.

    The issue's load test is the batched case (10,000 messages); single POSTs
    run the same scenario with fewer messages to keep the suite fast.
    """
    publishers = 50
    with MockEndpoint(seed=5 + batch_size) as endpoint:
        endpoint.faults.fail_fraction(0.3)
        endpoint.faults.lose_fraction(0.02)  # stored, reply lost: retried, dropped by id

        async def run() -> list[bool]:
            transport = HttpTransport(
                endpoint.url,
                outbox_dir=tmp_path / "outbox",
                batch_size=batch_size,
                timeout_s=5.0,
                retry=RetryPolicy(attempts=4, base_delay_s=0.01, max_delay_s=0.25, seed=7),
            )
            async with transport:
                queue = iter(range(total))
                results: list[bool] = []
                outage = asyncio.Event()

                async def publisher() -> None:
                    for i in queue:
                        results.append(await transport.publish(message(i)))
                        if len(results) == total // 2 and not outage.is_set():
                            outage.set()
                            endpoint.go_down(2.0)

                # generous deadlines: a loaded 2-core CI machine is slow, not wrong
                await asyncio.wait_for(
                    asyncio.gather(*(publisher() for _ in range(publishers))), 300
                )
                await transport.drain(timeout_s=120)
                assert len(transport.outbox) == 0
                return results

        started = time.monotonic()
        results = asyncio.run(run())
        elapsed = time.monotonic() - started
        received = endpoint.received

    texts = [m.text for m in received]
    assert len(results) == total
    assert sorted(texts) == sorted(f"load {i}" for i in range(total))  # all, exactly once
    assert len(set(endpoint.received_ids)) == total
    assert results.count(False) > 0, "the outage should have sent messages to the outbox"
    assert endpoint.faults.injected.get("failed", 0) > 0
    assert endpoint.faults.injected.get("refused", 0) > 0
    assert endpoint.duplicates > 0, "lost replies should have caused dropped duplicates"
    assert (tmp_path / "outbox" / "outbox.log").stat().st_size == 0
    print(
        f"batch_size={batch_size}: {total} messages in {elapsed:.1f} s, "
        f"{results.count(False)} via the outbox, faults {endpoint.faults.injected}"
    )


PUBLISHER = textwrap.dedent(
    """
    import asyncio, sys
    from datetime import datetime, timedelta
    from pytest_iris.log.model import IRISMessage
    from pytest_iris.transport import HttpTransport, RetryPolicy

    url, outbox = sys.argv[1], sys.argv[2]

    async def main():
        transport = HttpTransport(url, outbox_dir=outbox,
                                  retry=RetryPolicy(attempts=2, base_delay_s=0.01, max_delay_s=0.05))
        async with transport:
            counter = iter(range(10**9))
            async def publisher():
                for i in counter:
                    m = IRISMessage(timestamp=datetime(2026, 3, 1) + timedelta(milliseconds=i),
                                    pid=7, severity=1, category="Crash.Test", text=f"crash {i}")
                    ok = await transport.publish(m)
                    sys.stdout.write(f"ACK crash {i} {ok}\\n")
                    sys.stdout.flush()
            await asyncio.gather(*(publisher() for _ in range(10)))

    asyncio.run(main())
    """
)

DRAINER = textwrap.dedent(
    """
    import asyncio, sys
    from pytest_iris.transport import HttpTransport

    async def main():
        async with HttpTransport(sys.argv[1], outbox_dir=sys.argv[2]) as transport:
            pending = len(transport.outbox)
            await transport.drain(timeout_s=30)
            print(f"DRAINED {pending}")

    asyncio.run(main())
    """
)


def test_sigkill_mid_run_loses_nothing_accepted(tmp_path: Path) -> None:
    """Kill a publisher with SIGKILL; a new process drains its outbox; every ack arrived."""
    outbox = tmp_path / "outbox"
    (tmp_path / "publisher.py").write_text(PUBLISHER)
    (tmp_path / "drainer.py").write_text(DRAINER)
    acked: list[str] = []
    with MockEndpoint(seed=11) as endpoint:
        endpoint.faults.fail_fraction(0.2)
        child = subprocess.Popen(
            [sys.executable, str(tmp_path / "publisher.py"), endpoint.url, str(outbox)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        try:
            assert child.stdout is not None
            deadline = time.monotonic() + 60
            outboxed = 0
            while time.monotonic() < deadline:
                line = child.stdout.readline()
                if not line:
                    break
                acked.append(line.split()[2])
                outboxed += line.split()[3] == "False"
                if len(acked) == 200:
                    endpoint.go_down(30)  # the child now fills its outbox
                if outboxed >= 100:
                    endpoint.faults.clear()  # back up: the child redelivers while we kill it
                    if outboxed >= 100 and len(acked) >= 400:
                        break
            os.kill(child.pid, signal.SIGKILL)
        finally:
            child.kill()
            child.wait(10)
        assert child.returncode == -signal.SIGKILL
        assert len(acked) >= 400 and outboxed >= 100, (len(acked), outboxed)

        drained = subprocess.run(
            [sys.executable, str(tmp_path / "drainer.py"), endpoint.url, str(outbox)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert drained.returncode == 0, drained.stderr
        received = [m.text.split()[1] for m in endpoint.received]

    missing = sorted(set(acked) - set(received), key=int)
    assert not missing, f"{len(missing)} acknowledged message(s) lost: {missing[:10]}"
    assert len(received) == len(set(received)), "a message was stored twice"
    assert (outbox / "outbox.log").stat().st_size == 0
