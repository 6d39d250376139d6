"""The message model and its line form: format and parse are exact inverses."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError as PydanticValidationError

import pytest_iris
from pytest_iris import IRISMessage, Severity, format_message, parse_message
from pytest_iris.errors import ParseError
from pytest_iris.log.reader import LogEntry, parse_text

BANNER = (
    "06/26/23-08:02:18:110 (144145) 0 [Generic.Event]\n"
    "Startup of InterSystems IRIS [IRIS for UNIX (Red Hat Enterprise Linux 8 for x86-64) "
    "2023.1 (Build 235.1) Fri Jun 2 2023 13:26:47 EDT]\n"
    "        in ../bin/\n"
    "  System Initialized."
)


#: The WIJ recovery block of the corpus (real lines 111-122): not an entry.
RECOVERY = (111, 122)


def real_entries(path: Path) -> list[str]:
    """The corpus split into entries by the lines that start with a stamp."""
    entries: list[list[str]] = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if RECOVERY[0] <= number <= RECOVERY[1]:
            continue  # the block, its blank first line included (read back separately)
        if line[:2].isdigit():
            entries.append([line])
        else:
            entries[-1].append(line)
    return ["\n".join(lines) for lines in entries]


def test_every_real_entry_round_trips(real_log: Path) -> None:
    entries = real_entries(real_log)
    assert len(entries) == 91
    for text in entries:
        assert format_message(parse_message(text)) == text


def test_the_whole_real_file_round_trips_byte_for_byte(real_log: Path) -> None:
    raw = real_log.read_text()
    items = list(parse_text(raw))
    assert [item.kind for item in items].count("wij-recovery") == 1
    assert all(item.kind in ("entry", "wij-recovery") for item in items)
    rebuilt = "\n".join(
        item.message.format() if isinstance(item, LogEntry) else item.format() for item in items
    )
    assert rebuilt + "\n" == raw


def test_fields_of_an_iris_line() -> None:
    message = parse_message(
        "03/09/24-21:16:17:787 (389) 0 [Generic.Event] Global buffer setting requires "
        "attention.  Auto-selected 25% of total memory."
    )
    assert message.timestamp == datetime(2024, 3, 9, 21, 16, 17, 787000)
    assert message.pid == 389
    assert message.severity is Severity.INFO
    assert message.category == "Generic.Event"
    assert "attention.  Auto-selected" in message.text  # two spaces kept


def test_cache_line_has_no_category() -> None:
    message = parse_message(
        "05/04/20-12:14:45:624 (182049) 3 Daemon WRTDMN (pid 182058) died. Freezing system"
    )
    assert message.category is None
    assert message.severity is Severity.FATAL
    assert message.text.startswith("Daemon WRTDMN")


def test_banner_is_one_entry_with_empty_text() -> None:
    message = parse_message(BANNER)
    assert message.text == ""
    assert message.continuation[0].startswith("Startup of InterSystems IRIS")
    assert message.format() == BANNER


def test_indented_continuation_of_a_cache_message() -> None:
    text = (
        "05/04/20-12:19:46:408 (182049) 2 CP: Pausing users because the Write Daemon has not shown\n"
        "   signs of activity for 301 seconds. Users will resume if Write Daemon completes a\n"
        "   pass or writes to disk (wdpass=106040)."
    )
    message = parse_message(text)
    assert len(message.continuation) == 2
    assert message.format() == text


def test_recovery_block_is_not_part_of_a_message() -> None:
    text = (
        "08/11/21-05:49:44:347 (18374) 0 [Utility.Event] Backup.General.ExternalFreeze: "
        "System suspended\n\n*** Recovery started at Wed Aug 11 06:12:30 2021\n"
        "Exiting with status 3 (Success)"
    )
    with pytest.raises(ParseError, match="wij-recovery block is not a message"):
        parse_message(text)
    with pytest.raises(PydanticValidationError, match="starts a WIJ recovery block"):
        IRISMessage(
            timestamp=datetime(2021, 8, 11),
            pid=1,
            severity=Severity.INFO,
            category="Generic.Event",
            text="",
            continuation=("*** Recovery started at Wed Aug 11 06:12:30 2021",),
        )


def test_journaling_message_keeps_its_unindented_second_line() -> None:
    text = (
        "08/11/21-05:49:43:342 (18374) 0 [Generic.Event] INTERSYSTEMS IRIS JOURNALING SYSTEM "
        "MESSAGE\nJournaling switched to: /iris/journal1/20210811.003"
    )
    message = parse_message(text)
    assert message.continuation == ("Journaling switched to: /iris/journal1/20210811.003",)
    assert message.format() == text


def test_categories_may_hold_spaces() -> None:
    message = parse_message("01/01/25-00:00:00:000 (1) 1 [My App.Event X] hello")
    assert message.category == "My App.Event X"


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("garbage", "before the first entry"),
        ("01/01/25-00:00:00:000 (1) 7 [X] bad severity", "malformed header"),
        ("13/01/25-00:00:00:000 (1) 0 [X] month 13", "invalid timestamp"),
        ("01/01/25-00:00:00:000 (1) 0 [X] a\n01/01/25-00:00:00:000 (1) 0 [X] b", "found 2"),
        ("01/01/25-00:00:00:000 (1) 0 [X] a\nnot indented", "not a continuation"),
    ],
)
def test_parse_message_names_what_is_wrong(text: str, why: str) -> None:
    with pytest.raises(ParseError, match=why):
        parse_message(text)


@pytest.mark.parametrize(
    ("fields", "why"),
    [
        ({"category": "a]b"}, "must not contain"),
        ({"category": ""}, "must not be empty"),
        ({"category": None, "text": "[Looks.Like] a category"}, "read back as a category"),
        ({"text": "two\nlines"}, "line breaks"),
        ({"continuation": ("01/02/25-x",)}, "starts like a timestamp"),
        ({"continuation": ("flush left",)}, "blank, indented"),
        ({"timestamp": datetime(1999, 1, 1)}, "two digits"),
        ({"timestamp": datetime(2024, 1, 1, 0, 0, 0, 1)}, "whole milliseconds"),
        ({"pid": -1}, "greater than or equal"),
    ],
)
def test_invalid_messages_are_rejected(fields: dict[str, object], why: str) -> None:
    values: dict[str, object] = {
        "timestamp": datetime(2024, 1, 1),
        "pid": 1,
        "severity": 0,
        "category": "Generic.Event",
        "text": "x",
    }
    values.update(fields)
    with pytest.raises(PydanticValidationError, match=why):
        IRISMessage(**values)  # type: ignore[arg-type]


def test_message_is_frozen() -> None:
    message = parse_message("01/01/25-00:00:00:000 (1) 0 [X] a")
    with pytest.raises(PydanticValidationError):
        message.pid = 2  # type: ignore[misc]


def test_json_schema_is_exported() -> None:
    schemas = pytest_iris.json_schemas()
    props = schemas["IRISMessage"]["properties"]
    assert {"timestamp", "pid", "severity", "category", "text", "continuation"} <= set(props)
    json.dumps(schemas)  # serialisable as is


def test_top_level_api_names_resolve() -> None:
    for name in pytest_iris.__all__:
        assert getattr(pytest_iris, name) is not None
    assert pytest_iris.parse is parse_message
    assert pytest_iris.format is format_message


_safe_char = st.characters(blacklist_characters="\n\r\x00", blacklist_categories=("Cs",))
timestamps = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31)).map(
    lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000)
)
categories = st.none() | st.text(
    st.characters(blacklist_characters="]\n\r\x00", blacklist_categories=("Cs",)), min_size=1
)
continuation_line = st.one_of(
    st.just(""),
    st.builds(
        lambda lead, rest: lead + rest, st.sampled_from([" ", "\t", "*"]), st.text(_safe_char)
    ).filter(lambda s: not s.startswith("*** Recovery started at ")),
)


@st.composite
def messages(draw: st.DrawFn) -> IRISMessage:
    category = draw(categories)
    text = draw(st.text(_safe_char))
    if category is None and text.startswith("["):
        text = " " + text
    if text == "":
        cont = draw(
            st.lists(
                st.text(_safe_char).filter(
                    lambda s: not s[:1].isdigit() and not s.startswith("*** Recovery started at ")
                ),
                max_size=4,
            )
        )
    else:
        cont = draw(st.lists(continuation_line, max_size=4))
    return IRISMessage(
        timestamp=draw(timestamps),
        pid=draw(st.integers(min_value=0, max_value=2**31)),
        severity=draw(st.sampled_from(list(Severity))),
        category=category,
        text=text,
        continuation=tuple(cont),
    )


@given(messages())
def test_parse_inverts_format(message: IRISMessage) -> None:
    assert parse_message(format_message(message)) == message
