"""Property tests: any bytes round-trip, and an edit changes only the lines of that key."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_iris.tools.cpf import CpfFile

#: Pieces that exercise every rule: line endings, '=', brackets, comments, spaces, bad UTF-8.
PIECES = st.sampled_from(
    [b"\n", b"\r\n", b"\r", b"=", b"[", b"]", b"#", b" ", b"\t", b"a", b"Key", b"0,0,1",
     b"[config]", b"\xff", b"\xc3\xa9", b"\xef\xbb\xbf"]
)  # fmt: skip
DATA = st.lists(PIECES, max_size=60).map(b"".join)


@settings(max_examples=300, deadline=None)
@given(DATA)
def test_any_bytes_round_trip(data: bytes) -> None:
    assert CpfFile.parse(data).to_bytes() == data


@settings(max_examples=300, deadline=None)
@given(DATA, st.integers(min_value=0))
def test_setting_an_existing_key_changes_only_its_lines(data: bytes, pick: int) -> None:
    cpf = CpfFile.parse(data)
    entries = [e for e in cpf.entries() if e.section and e.key and e.key[0] not in "#["]
    if not entries:
        return
    chosen = entries[pick % len(entries)]
    if "]" in chosen.section or "\r" in chosen.section or "\r" in chosen.key:
        return
    targets = {e.line for e in cpf.find(chosen.section, chosen.key)}
    before = cpf.to_bytes().split(b"\n")
    cpf.set(chosen.section, chosen.key, "NEW")
    after = cpf.to_bytes().split(b"\n")
    assert len(after) == len(before)
    changed = {i + 1 for i, (a, b) in enumerate(zip(before, after, strict=True)) if a != b}
    assert changed == targets
    assert cpf.get(chosen.section, chosen.key) == "NEW"
    # the edited model's index equals a fresh parse of what it would write
    fresh = CpfFile.parse(cpf.to_bytes())
    assert list(cpf.entries()) == list(fresh.entries())
    assert cpf.sections() == fresh.sections()
    assert fresh.get(chosen.section, chosen.key) == "NEW"


@settings(max_examples=200, deadline=None)
@given(DATA, st.sampled_from(["config", "Startup", "New"]), st.sampled_from(["jrnbufs", "Key"]))
def test_adding_a_key_keeps_every_other_line(data: bytes, section: str, key: str) -> None:
    cpf = CpfFile.parse(data)
    if cpf.find(section, key):
        return
    # a stray CR ending an unterminated last line becomes part of its CRLF: compare without
    before = [line.text.rstrip("\r") for line in cpf.lines]
    copy = cpf.copy()
    copy.set(section, key, "1")
    after = [line.text.rstrip("\r") for line in copy.lines]
    # every old line is still there, in order; what was added is the key, and for a
    # new section its header and at most one blank separator
    added = list(after)
    for text in reversed(before):
        del added[len(added) - 1 - added[::-1].index(text)]
    assert f"{key}=1" in added
    assert sorted(added) == sorted(
        [f"{key}=1"] + ([f"[{section}]"] if len(added) > 1 else []) + [""] * (len(added) - 2)
    )
    fresh = CpfFile.parse(copy.to_bytes())
    assert fresh.get(section, key) == "1"
    assert list(copy.entries()) == list(fresh.entries())
    assert cpf.to_bytes() == data  # the original model is untouched by the copy's edit
    if not cpf.has_section(section):  # a new section goes at the end: the old bytes lead
        assert copy.to_bytes().startswith(data)
