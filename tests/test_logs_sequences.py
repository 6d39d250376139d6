"""Named sequences: right order, consistent PIDs and numbers, catalog coverage."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pytest

from pytest_iris.errors import ConfigError
from pytest_iris.generation import (
    LogStream,
    SequenceContext,
    load_catalog,
    render_entries,
    render_sequence,
    sequence_names,
)
from pytest_iris.generation.catalog import parse_catalog
from pytest_iris.generation.entries import BLOCK
from pytest_iris.log.model import IRISMessage
from pytest_iris.memory import plan_shared_memory

PIDS = {"control": 1149, "write_daemon": 1180, "write_daemon_helper_1": 1183,
        "write_daemon_helper_2": 1184, "journal_daemon": 1190, "web_server": 1201,
        "startup": 1210}  # fmt: skip
PLAN = plan_shared_memory(0, 0, 0, 0, 16384)
CTX = SequenceContext(
    install_dir="/opt/iris", instance="PROD", pids=PIDS, plan=PLAN, seed=5,
    start=datetime(2025, 1, 15, 20, 21, 48, 401000),
)  # fmt: skip
_NUMBERS = re.compile(r"(\d+)MB ([A-Za-z ]+?)(?:,|$)")


def _templates(name: str, **params: object) -> list[str]:
    return [e.template for e in render_entries(name, CTX, **params)]


@pytest.mark.parametrize("name", sequence_names())
def test_every_sequence_renders_valid_ordered_messages(name: str) -> None:
    messages = render_sequence(name, CTX)
    assert messages and all(isinstance(m, IRISMessage) for m in messages)
    times = [m.timestamp for m in messages]
    assert times == sorted(times)
    assert times[0] == CTX.start
    assert render_sequence(name, CTX) == messages  # deterministic


def test_startup_allocation_breakdown_adds_up_to_the_total() -> None:
    messages = render_sequence("startup", CTX)
    first, second = messages[0], messages[1]
    total = int(re.fullmatch(r"Allocated (\d+)MB shared memory", first.text).group(1))  # type: ignore[union-attr]
    parts = {label: int(mb) for mb, label in _NUMBERS.findall(second.text)}
    assert list(parts) == ["global buffers", "routine buffers", "journal buffers",
                           "buffer descriptors", "heap", "ECP", "miscellaneous"]  # fmt: skip
    assert parts["global buffers"] == 4096  # 25 % of 16 GB
    assert 0 <= total - sum(parts.values()) <= 2  # IRIS rounds each part down
    assert total == PLAN.total_mb
    assert (first.timestamp, first.pid) == (second.timestamp, second.pid)


def test_startup_order_and_pids_follow_the_real_2023_log() -> None:
    messages = render_sequence("startup", CTX, fresh=True)
    assert [e.template for e in render_entries("startup", CTX, fresh=True)][:10] == [
        "shm.allocated", "shm.breakdown", "startup.aesni", "startup.simd",
        "startup.using_wij", "startup.no_journal_info", "startup.creating_wij",
        "startup.created_wij", "startup.banner", "startup.write_daemon_started",
    ]  # fmt: skip
    by_text = {m.text: m for m in messages}
    assert by_text["Write daemon started."].pid == PIDS["write_daemon"]
    assert by_text["Enabling logons"].pid == PIDS["startup"]
    assert by_text["Using WIJ file: /opt/iris/mgr/IRIS.WIJ"].pid == PIDS["control"]
    banner = next(m for m in messages if m.text == "" and m.continuation)
    assert "        with mgr: /opt/iris/mgr" in banner.continuation
    assert banner.continuation[-1] == "  System Initialized."
    assert messages[-1].text == "Enabling logons"


def test_startup_without_plan_leaves_allocation_to_the_caller() -> None:
    from dataclasses import replace

    names = _templates_ctx(replace(CTX, plan=None))
    assert not any(n.startswith("shm.") for n in names)
    assert names[0] == "startup.aesni"


def _templates_ctx(ctx: SequenceContext) -> list[str]:
    return [e.template for e in render_entries("startup", ctx)]


def test_shm_failure_reduced_is_one_eighth_less() -> None:
    messages = render_sequence("shm_failure", CTX, outcome="reduced")
    texts = [(int(m.severity), m.text) for m in messages[:4]]
    # severity 2: documented_messages.md §1 quotes the huge-page failure at level 2
    assert texts[0] == (2, f"Failed to allocate {PLAN.total_mb}MB shared memory using Huge Pages. "
                           "Startup will retry with standard pages.")  # fmt: skip
    assert texts[1][0] == 2 and texts[1][1].startswith(f"Failed to allocate {PLAN.total_mb}MB")
    reduced = PLAN.reduced()
    assert texts[2] == (1, f"Allocated {reduced.total_mb}MB shared memory")
    assert texts[3] == (1, reduced.breakdown_text())
    assert reduced.global_buffers_mb == PLAN.global_buffers_mb * 7 // 8
    assert messages[-1].text == "Enabling logons"


@pytest.mark.parametrize("outcome", ["abort", "required"])
def test_shm_failure_abort_ends_without_logons(outcome: str) -> None:
    messages = render_sequence("shm_failure", CTX, outcome=outcome)
    assert messages[-1].severity == 3
    assert not any(m.text == "Enabling logons" for m in messages)


def test_write_daemon_death_names_the_real_daemon_pids() -> None:
    messages = render_sequence("write_daemon_death", CTX, style="cache")
    assert messages[0].text == f"Daemon WRTDMN (pid {PIDS['write_daemon']}) died. Freezing system"
    assert messages[0].pid == PIDS["control"] and messages[0].category is None
    assert messages[1].text == (
        f"Daemon SLAVWD (pid {PIDS['write_daemon_helper_1']}) died. Freezing system"
    )
    terminated = [m for m in messages if "terminated abnormally" in m.text]
    assert terminated[0].text.endswith(f"(pid {PIDS['write_daemon']})")
    assert len({m.pid for m in terminated}) == 1  # one cleanup job
    last = messages[-1]
    assert last.pid == PIDS["control"] and last.text.startswith("CP: Pausing users")
    assert last.continuation[0].startswith("   signs of activity for 301 seconds.")


def test_cpf_merge_failure_and_success() -> None:
    failed = render_sequence("cpf_merge", CTX)
    assert failed[0].text == "Merging /home/irisowner/iris-merge.cpf into /opt/iris/iris.cpf"
    assert failed[1].text == "Validating CPF file /opt/iris/iris.cpf_Merge"
    assert failed[-2].text.startswith("ERROR #503") and failed[-1].text.startswith("ERROR #507")
    assert len({m.pid for m in failed}) == 1
    ok = render_sequence("cpf_merge", CTX, fail=False)
    assert ok[-1].text == "Validating [Actions] section"


def test_backup_writes_the_nine_real_lines() -> None:
    """messages_real.log lines 100-108 (IRIS 2021.1), numbers and paths aside."""
    real = Path(__file__).parent / "data" / "messages_real.log"
    real_lines = real.read_text().splitlines()[99:108]
    messages = render_sequence("backup", CTX, freeze_seconds=10)
    lines = "\n".join(m.format() for m in messages).splitlines()

    def shape(line: str) -> str:  # stamp, pid and path-like words taken out
        line = line.split(") ", 1)[1]
        return re.sub(r"/\S+|\d+", "X", line)

    assert [shape(line) for line in lines if line[:1].isdigit()] == [
        shape(line) for line in real_lines if line[:1].isdigit()
    ]
    switch = next(m for m in messages if m.text.endswith("JOURNALING SYSTEM MESSAGE"))
    assert switch.continuation == ("Journaling switched to: /opt/iris/mgr/journal/20250115.002",)
    freeze = [m for m in messages if "ExternalFreeze" in m.text or "JOURNALING" in m.text]
    thaw = [m for m in messages if "ExternalThaw" in m.text]
    assert len({m.pid for m in freeze}) == 1 and len({m.pid for m in thaw}) == 1
    assert freeze[0].pid != thaw[0].pid  # the thaw runs as another job, as in the real lines
    assert 10 <= (thaw[0].timestamp - freeze[-1].timestamp).total_seconds() < 12


def test_license_limit_counts_up() -> None:
    texts = [m.text for m in render_sequence("license_limit", CTX, times=3)]
    assert texts == [f"License limit exceeded {n} times since instance start." for n in (1, 2, 3)]


def test_lock_table_thresholds() -> None:
    messages = render_sequence("lock_table", CTX, peak=99)
    assert [int(m.severity) for m in messages] == [1, 2, 2, 0]
    warn = int(re.search(r"is (\d+)% full", messages[0].text).group(1))  # type: ignore[union-attr]
    assert 85 < warn < 95
    assert "99% full" in messages[1].text


def test_bad_parameters_are_named() -> None:
    with pytest.raises(ConfigError, match="has no parameter"):
        render_sequence("startup", CTX, colour="red")
    with pytest.raises(ConfigError, match="outcome must be"):
        render_sequence("shm_failure", CTX, outcome="maybe")
    with pytest.raises(ConfigError, match="available: startup"):
        render_sequence("reboot", CTX)


def test_missing_roles_get_stable_pids() -> None:
    ctx = SequenceContext(seed=3)
    a = render_sequence("startup", ctx)
    b = render_sequence("startup", ctx)
    assert [m.pid for m in a] == [m.pid for m in b]
    assert len({m.pid for m in a}) >= 3


def test_catalog_entries_have_a_source_or_an_invented_note() -> None:
    catalog = load_catalog()
    assert len(catalog) > 60
    for template in catalog:
        assert template.source or template.invented, template.id


def test_every_emitted_category_is_in_the_catalog() -> None:
    catalog = load_catalog()
    extra = [
        "write_daemon_death:style=cache",
        "mirror:role=failover",
        "shm_failure:outcome=standard",
    ]
    stream = LogStream(4, count=3000, sequences=[*sequence_names(), *extra])
    for entry in stream.entries():
        if entry.severity == BLOCK:  # the WIJ recovery program's block: not a template
            continue
        template = catalog[entry.template]
        assert entry.category == template.category
        assert entry.severity == template.severity
        assert template.source or template.invented


def test_catalog_loader_rejects_unsourced_and_invalid_entries() -> None:
    base = {"id": "x", "category": "Utility.Event", "severity": 0, "text": "hello"}
    with pytest.raises(ConfigError, match="'source' or an explicit 'invented'"):
        parse_catalog({"templates": [base]})
    with pytest.raises(ConfigError, match="severity must be"):
        parse_catalog({"templates": [{**base, "severity": 5, "source": "s"}]})
    with pytest.raises(ConfigError, match="continuation line 0"):
        parse_catalog({"templates": [{**base, "source": "s", "continuation": ["garbage"]}]})
    with pytest.raises(ConfigError, match="duplicate id"):
        parse_catalog({"templates": [{**base, "source": "s"}, {**base, "invented": "i"}]})


def test_extended_catalog_adds_noise_templates() -> None:
    extra = {
        "id": "app.heartbeat",
        "category": "Utility.Event",
        "severity": 0,
        "text": "Heartbeat from {host}",
        "placeholders": {"host": "hostname"},
        "role": "job",
        "weight": 500,
        "invented": "an application's own message, for this test",
    }
    catalog = load_catalog().extended([extra])
    stream = LogStream(2, count=400, sequences=[], catalog=catalog)
    beats = [e for e in stream.entries() if e.template == "app.heartbeat"]
    assert len(beats) > 200  # weight 500 against ~90 for everything else
    assert all(e.text.startswith("Heartbeat from ") for e in beats)
    with pytest.raises(ConfigError, match="placeholder kinds"):
        load_catalog().extended([{**extra, "id": "bad", "placeholders": {}}])


@pytest.mark.parametrize("name", sequence_names())
def test_given_pids_do_not_change_the_other_draws(name: str) -> None:
    from dataclasses import replace

    bare = render_entries(name, replace(CTX, pids={}))
    given = render_entries(name, CTX)
    assert [(e.ms, e.template) for e in bare] == [(e.ms, e.template) for e in given]


def test_wij_recovery_is_the_real_unstamped_block_before_the_startup(tmp_path: Path) -> None:
    """messages_real.log lines 111-122: the block, then the startup within the same second."""
    from pytest_iris.generation.outputs import write_messages_log
    from pytest_iris.log.reader import LogBlock, LogEntry, read_log

    real = Path(__file__).parent / "data" / "messages_real.log"
    real_block = real.read_text().splitlines()[110:122]
    path = write_messages_log(tmp_path, seed=4, count=200, sequences=["wij_recovery"])
    items = list(read_log(path))
    assert [i.kind for i in items[:2]] == ["wij-recovery", "entry"]
    block = items[0]
    assert isinstance(block, LogBlock)

    def shape(line: str) -> str:
        return re.sub(r"/\S+|\d+|[A-Z][a-z]{2} [A-Z][a-z]{2} +", "X", line)

    assert [shape(line) for line in block.lines] == [shape(line) for line in real_block]
    first = items[1]
    assert isinstance(first, LogEntry) and first.severity == 2
    assert not [i for i in items if i.kind == "problem"]
