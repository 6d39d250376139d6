"""A live web user gets its ``%SYS.cspServer3`` job, as on the fake host.

The routine is the one a real instance lists for a web gateway connection
(commands.md §6, the Atelier ``/jobs`` sample: ``%SYS.cspServer3`` on
``|TCP|1972|pid``): a superserver job. The live httpd asks the superserver
for it per web user; the job lives as long as httpd holds the link and ends
with the instance.
"""

from __future__ import annotations

from pathlib import Path

import psutil
import pytest

from pytest_iris.sandbox import LiveSandbox, SandboxHost, namespaces_available


def _jobs(host: LiveSandbox | SandboxHost, role: str) -> list[tuple[list[str], str]]:
    """(argv from ``-cj`` on, parent's role) of each ``role`` job, by ``-p`` slot."""
    with host.procfs():
        superserver = host.pids()["superserver"][0]
        jobs = []
        for pid in host.pids().get(role, []):
            process = psutil.Process(pid)
            parent = "superserver" if process.ppid() == superserver else str(process.ppid())
            jobs.append((process.cmdline()[2:], parent))
    return sorted(jobs)


def test_web_users_get_gateway_jobs_on_the_live_host_as_on_the_fake(tmp_path: Path) -> None:
    reason = namespaces_available()
    if reason:
        pytest.skip(f"live sandbox needs Linux namespaces: {reason}")
    with (
        SandboxHost(tmp_path / "fake", users=1) as fake,
        LiveSandbox(tmp_path / "live", users=1) as live,
    ):
        for host in (fake, live):
            assert "gateway_job" not in host.pids()
            host.connect(users=0, web_users=2)
        jobs = _jobs(live, "gateway_job")
        assert jobs == _jobs(fake, "gateway_job")
        assert [argv for argv, _parent in jobs] == [
            ["-cj", "-p10", "%SYS.cspServer3"],
            ["-cj", "-p11", "%SYS.cspServer3"],
        ]
        assert {parent for _argv, parent in jobs} == {"superserver"}
        # the gateway's link to the superserver is not a client connection on either host
        assert live.connections() == fake.connections() == 3
        assert len(live.pids()["user_job"]) == 1
        # a superserver client that comes later takes the next free slot, as on the fake host
        live.connect(users=1)
        fake.connect(users=1)
        assert _jobs(live, "user_job") == _jobs(fake, "user_job")
        assert [argv[1] for argv, _parent in _jobs(live, "user_job")] == ["-p12", "-p9"]
        assert live.iris("stop", "IRIS", "quietly").status == 0
        assert "gateway_job" not in live.pids()
