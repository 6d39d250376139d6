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
    assert CpfFile.parse(cpf.to_bytes()).get(chosen.section, chosen.key) == "NEW"
