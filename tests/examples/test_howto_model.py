"""How-to examples of docs/model.md: each one is included in that page."""

from datetime import datetime
from pathlib import Path

from pytest_iris import (
    IRISMessage,
    LogEntry,
    LogProblem,
    Severity,
    format,
    parse,
    read_log,
    summarize,
)


def test_format_and_parse_one_entry():
    message = IRISMessage(
        timestamp=datetime(2024, 3, 9, 21, 16, 17, 787000),
        pid=389,
        severity=Severity.INFO,
        category="Generic.Event",
        text="Global buffer setting requires attention.  Auto-selected 25% of total memory.",
    )
    line = format(message)
    assert line == (
        "03/09/24-21:16:17:787 (389) 0 [Generic.Event] Global buffer setting requires "
        "attention.  Auto-selected 25% of total memory."
    )
    assert parse(line) == message

    banner = parse(
        "06/26/23-08:02:18:110 (144145) 0 [Generic.Event]\n"
        "Startup of InterSystems IRIS [IRIS for UNIX ...]\n"
        "  System Initialized."
    )
    assert banner.text == "" and len(banner.continuation) == 2


def test_read_a_whole_log():
    Path("messages.log").write_bytes(
        b"05/04/20-12:19:46:408 (182049) 2 CP: Pausing users because the Write Daemon has not shown\n"
        b"   signs of activity for 301 seconds.\n"
        b"\x00 torn write\n"
        b"01/09/22-11:02:08:227 (684) 1 [Utility.Event] Becoming primary mirror server\n"
    )
    items = list(read_log("messages.log"))
    assert [type(item) for item in items] == [LogEntry, LogProblem, LogEntry]
    assert items[0].message.continuation == ("   signs of activity for 301 seconds.",)
    assert str(items[1]) == "line 3: NUL byte at column 1"
    assert summarize("messages.log").by_severity[2] == 1
