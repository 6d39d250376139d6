"""Every real CPF and merge file: read, one parameter changed, written; the diff is that line."""

from __future__ import annotations

from pathlib import Path

import pytest

from cpf_support import VALID_VALUES, copy_real, real_cpf_params
from pytest_iris.tools.cpf import CpfFile, CpfTool, lookup


def _first_catalogued(cpf: CpfFile) -> tuple[int, str, str]:
    """(line, qualified name, current value) of the first catalogued key in the file."""
    for entry in cpf.entries():
        if entry.section is not None and lookup(entry.section, entry.key) is not None:
            parameter = lookup(entry.section, entry.key)
            assert parameter is not None
            return entry.line, parameter.qualified, entry.value
    raise AssertionError("no catalogued parameter in file")


@pytest.mark.parametrize("source", real_cpf_params())
def test_read_and_write_back_is_byte_identical(source: Path | None, tmp_path: Path) -> None:
    path = copy_real(source, tmp_path)
    original = path.read_bytes()
    cpf = CpfFile.read(path)
    assert cpf.to_bytes() == original
    cpf.write()
    assert path.read_bytes() == original


@pytest.mark.parametrize("source", real_cpf_params())
def test_one_change_changes_exactly_one_line(source: Path | None, tmp_path: Path) -> None:
    path = copy_real(source, tmp_path)
    before = path.read_bytes()
    line, name, current = _first_catalogued(CpfFile.read(path))
    new = next(v for v in VALID_VALUES[name] if v != current)

    result = CpfTool(path, total_ram_mb=8192).set({name: new}, apply=True)

    assert result.ok, result.message
    assert [(c.target, c.before, c.after, c.applied) for c in result.changes] == [
        (name, current, new, True)
    ]
    old_lines = before.splitlines(keepends=True)
    new_lines = path.read_bytes().splitlines(keepends=True)
    assert len(new_lines) == len(old_lines)
    differing = [i for i, (a, b) in enumerate(zip(old_lines, new_lines, strict=True)) if a != b]
    assert differing == [line - 1]
    # the changed line keeps its key, its spacing and its line ending
    old_line, new_line = old_lines[line - 1], new_lines[line - 1]
    assert new_line.replace(new.encode(), current.encode(), 1) == old_line
    assert CpfFile.read(path).get(*_split(name)) == new
    # the backup is the file as it was
    backups = CpfTool(path).backups()
    assert len(backups) == 1
    assert backups[0].read_bytes() == before


def _split(qualified: str) -> tuple[str, str]:
    section, key = qualified[1:].split("]", 1)
    return section, key


@pytest.mark.parametrize("source", real_cpf_params())
def test_validate_accepts_every_real_file(source: Path | None, tmp_path: Path) -> None:
    path = copy_real(source, tmp_path)
    result = CpfTool(path, total_ram_mb=8192).validate()
    assert result.ok, result.message


def test_quirks_of_real_merge_files_survive_an_edit(tmp_path: Path) -> None:
    """Space after '=', trailing space, comments, CRLF, no final newline, app sections."""
    text = (
        "[Startup]\r\n"
        "#password SYS\r\n"
        "PasswordHash=8511fe0215912efb646d884e82cd612470b07cd6,t1mt0fka\r\n"
        "\r\n"
        "[config]\r\n"
        "globals= 0,0,512,0,0,0\r\n"
        "gmheap=256000 \r\n"
        "#LargePagesRequired = 1 -> 64\r\n"
        "memlock=64\r\n"
        "\r\n"
        "[speedtest]\r\n"
        "speedtesthugepages=7000"
    )
    path = tmp_path / "merge.cpf"
    path.write_bytes(text.encode())
    cpf = CpfFile.read(path)
    assert cpf.get("config", "globals") == "0,0,512,0,0,0"
    assert cpf.get("config", "gmheap") == "256000"
    assert cpf.get("speedtest", "speedtesthugepages") == "7000"
    assert cpf.sections() == ["Startup", "config", "speedtest"]

    cpf.set("config", "globals", "0,0,1024,0,0,0")
    cpf.set("config", "gmheap", "307200")
    cpf.write()
    assert (
        path.read_bytes()
        == text.replace("globals= 0,0,512", "globals= 0,0,1024")
        .replace("gmheap=256000 ", "gmheap=307200 ")
        .encode()
    )


def test_values_split_on_the_first_equals_and_keys_with_spaces(tmp_path: Path) -> None:
    text = (
        "[SQL]\n"
        "IdTrxFrom=~ `!@#$%^&*()_+-=[]\\{}|;':\",./<>?\n"
        "[Gateways]\n"
        "%DotNet Server=.NET,53372,%Gateway_Object,N6.0\n"
        "[SqlSysDatatypes]\n"
        "DEC(%1)=%Library.Numeric(MAXVAL=<|'$select(%1<19:$extract(999999999999999999,1,%1),1:9999999999999999999)'|>,MINVAL=<|'-$select(%1<19:$extract(999999999999999999,1,%1),1:9999999999999999999)'|>,SCALE=0)\n"
        "[Map.USER]\n"
        'Global_EnsEDI.Description("X","X12")=ENSLIB\n'
    )
    cpf = CpfFile.parse(text)
    assert cpf.get("SQL", "IdTrxFrom") == "~ `!@#$%^&*()_+-=[]\\{}|;':\",./<>?"
    assert cpf.get("Gateways", "%DotNet Server") == ".NET,53372,%Gateway_Object,N6.0"
    assert cpf.get("SqlSysDatatypes", "DEC(%1)", "").startswith("%Library.Numeric(MAXVAL=")
    assert cpf.get("Map.USER", 'Global_EnsEDI.Description("X","X12")') == "ENSLIB"
    cpf.set("Gateways", "%DotNet Server", ".NET,53373,%Gateway_Object,N6.0")
    assert cpf.to_bytes() == text.replace("53372", "53373").encode()


def test_duplicate_keys_read_last_and_set_all(tmp_path: Path) -> None:
    text = "[config]\nglobals=0,0,32,0,0,0\nroutines=64\nglobals=0,0,64,0,0,0\n"
    cpf = CpfFile.parse(text)
    assert cpf.get("config", "globals") == "0,0,64,0,0,0"
    assert len(cpf.find("config", "globals")) == 2
    assert cpf.set("config", "globals", "0,0,128,0,0,0") == "0,0,64,0,0,0"
    assert cpf.to_bytes() == (
        b"[config]\nglobals=0,0,128,0,0,0\nroutines=64\nglobals=0,0,128,0,0,0\n"
    )


def test_new_key_goes_to_its_section_in_the_files_style(tmp_path: Path) -> None:
    crlf_no_final = "[config]\r\nglobals=0,0,64,0,0,0\r\nroutines=64"
    cpf = CpfFile.parse(crlf_no_final)
    assert cpf.set("config", "jrnbufs", "128") is None
    assert cpf.to_bytes() == (crlf_no_final + "\r\njrnbufs=128").encode()

    two_sections = "[Startup]\nSystemMode=DATA\n\n[config]\nglobals=0,0,64,0,0,0\n\n[Actions]\nX\n"
    cpf = CpfFile.parse(two_sections)
    cpf.set("Startup", "WebServer", "1")
    cpf.set("ECP", "ClientReconnectDuration", "600")
    assert cpf.to_bytes().decode() == (
        "[Startup]\nSystemMode=DATA\nWebServer=1\n\n[config]\nglobals=0,0,64,0,0,0\n\n"
        "[Actions]\nX\n\n[ECP]\nClientReconnectDuration=600\n"
    )


def test_non_utf8_bytes_and_bom_survive(tmp_path: Path) -> None:
    data = (
        b"\xef\xbb\xbf[config]\r\noverview=Windows (Intel)\xa0~Windows\r\nglobals=0,0,0,0,0,0\r\n"
    )
    cpf = CpfFile.parse(data)
    assert cpf.sections() == ["config"]
    cpf.set("config", "globals", "0,0,64,0,0,0")
    assert cpf.to_bytes() == data.replace(b"0,0,0,0,0,0", b"0,0,64,0,0,0")


def test_case_insensitive_fallback_and_problems() -> None:
    cpf = CpfFile.parse("stray=1\n[Config]\nMAXSERVERCONN=5\njust text\n")
    assert cpf.get("config", "MaxServerConn") == "5"
    assert cpf.problems() == [
        "line 1: 'stray=1' is outside any [section]",
        "line 4: 'just text' is not a [section], key=value or comment",
    ]
