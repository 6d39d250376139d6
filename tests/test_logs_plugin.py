"""The pytest face: fixtures, marker, --iris-seed / ini, report header, xdist."""

from __future__ import annotations

import hashlib
import re

import pytest

from pytest_iris.generation import LogStream
from pytest_iris.seeds import seed_for


@pytest.mark.parametrize("value", ["abc", "-5", str(2**63)])
def test_bad_seed_option_names_the_option_value_and_range(
    pytester: pytest.Pytester, value: str
) -> None:
    pytester.makepyfile("def test_x():\n    pass\n")
    result = pytester.runpytest(f"--iris-seed={value}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    # it was pytest's "invalid int value: 'abc'", with no range, then argparse's
    # usage lines around it; now one usage-error line (user trials)
    assert [line for line in result.errlines if line.strip()] == [
        f"ERROR: --iris-seed: {value!r}: a whole number in 0..{2**63 - 1}"
    ]


def test_bad_ini_seed_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\niris_seed = soon\n")
    pytester.makepyfile("def test_x():\n    pass\n")
    result = pytester.runpytest()
    result.stderr.fnmatch_lines(
        ["*seed: Input should be a valid integer*'soon'*from ini iris_seed*"]
    )
    assert result.ret != 0


def test_iris_log_marker_and_fixture(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest
        from pytest_iris.log.reader import read_log, LogProblem

        @pytest.mark.iris_log("startup", "lock_table:peak=99", "shutdown", count=300,
                              start="2024-05-01T08:00:00")
        def test_log(iris_log, tmp_path):
            assert iris_log.path == tmp_path / "iris" / "mgr" / "messages.log"
            items = list(read_log(iris_log))
            assert not [i for i in items if isinstance(i, LogProblem)]
            assert len(iris_log.text().splitlines()) == 300
            assert iris_log.text().startswith("05/01/24-08:00:00:000 ")
            assert [p.name for p in iris_log.placements] == ["startup", "lock_table", "shutdown"]
            lock = iris_log.lines("lock_table")
            assert "LockTable Warning" in lock[0] and "99% full" in lock[1]
            assert "with mgr: /usr/irissys/mgr" in iris_log.text()
            assert str(tmp_path) not in iris_log.text()

        def test_default_log(iris_log, iris_seed):
            assert iris_log.seed == iris_seed
            assert "Enabling logons" in iris_log.text()

        def test_factory_rejects_unknown_options(iris_log_factory):
            from pytest_iris.errors import ConfigError

            with pytest.raises(ConfigError, match="unknown log option.*'cout'"):
                iris_log_factory(cout=5)

        def test_factory(iris_log_factory):
            a = iris_log_factory(count=100)
            b = iris_log_factory("startup", "process_crash", count=200, seed=5)
            assert a.path != b.path and a.seed != b.seed
            assert b.seed == 5 and "caught signal 11" in b.text()
        """
    )
    result = pytester.runpytest("-q")
    result.assert_outcomes(passed=4)


def test_seed_option_ini_header_and_per_test_seed(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\niris_seed = 77\n")
    pytester.makepyfile(
        test_seeds="""
        def test_a(iris_seed, iris_log):
            print("SEED", iris_seed, iris_log.seed)

        def test_b(iris_seed):
            print("SEED", iris_seed, iris_seed)
        """
    )

    def run(*args: str) -> tuple[str, list[tuple[str, str]]]:
        out = pytester.runpytest("-s", *args).stdout.str()
        return out, re.findall(r"SEED (\d+) (\d+)", out)

    for base, args in ((77, ()), (1, ("--iris-seed=1",))):
        out, seeds = run(*args)
        assert f"iris-seed: {base} (replay generated logs with --iris-seed={base})" in out
        expected = [
            str(seed_for(base, f"test_seeds.py::{name}", "test")) for name in ("test_a", "test_b")
        ]
        assert seeds == [(e, e) for e in expected]
    assert seed_for(1, "x", "test") != seed_for(2, "x", "test") != seed_for(1, "y", "test")


def test_same_bytes_under_xdist(pytester: pytest.Pytester) -> None:
    expected = hashlib.sha256(
        LogStream(99, count=2000, sequences=["startup", "backup"]).text().encode()
    ).hexdigest()
    pytester.makepyfile(
        f"""
        import hashlib, pytest

        @pytest.mark.parametrize("n", range(4))
        @pytest.mark.iris_log("startup", "backup", count=2000, seed=99, install_dir="/usr/irissys")
        def test_same(iris_log, n):
            digest = hashlib.sha256(iris_log.path.read_bytes()).hexdigest()
            assert digest == {expected!r}
        """
    )
    result = pytester.runpytest_subprocess("-n", "2", "-p", "xdist")
    result.assert_outcomes(passed=4)


def test_live_log_fixture_is_stopped_and_joined(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import threading
        import pytest
        from pytest_iris.log.reader import read_log

        @pytest.mark.iris_log(rate=1.0, live={"rate": 1000, "rotate_every": 50})
        def test_live(iris_live_log):
            iris_live_log.wait(120)
            assert iris_live_log.running
            assert len(iris_live_log.rotated) >= 2
            assert iris_live_log.path.name == "messages.log"

        def test_after():
            names = [t.name for t in threading.enumerate()]
            assert not [n for n in names if n.startswith("iris-live-log")], names
        """
    )
    result = pytester.runpytest("-q", "-p", "no:randomly")
    result.assert_outcomes(passed=2)


def test_settings_logs_section_gives_seed_and_defaults(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTEST_IRIS_SEED", "55")
    pytester.makefile(".yaml", iris="instance: PROD\nlogs:\n  count: 123\n")
    pytester.makepyfile(
        """
        def test_defaults(iris_log):
            assert len(iris_log.text().splitlines()) == 123
            assert iris_log.stream.context.instance == "PROD"
        """
    )
    result = pytester.runpytest("--iris-config=iris.yaml")
    result.stdout.fnmatch_lines(["iris-seed: 55 *"])
    result.assert_outcomes(passed=1)
    monkeypatch.setenv("PYTEST_IRIS_LOGS__RATE", "-1")
    result = pytester.runpytest("--iris-config=iris.yaml", "-q")
    assert result.ret != 0
    assert "rate" in result.stderr.str()


def test_templates_from_the_hook_reach_the_log_fixtures(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        def pytest_iris_add_templates():
            return [{
                "id": "app.orders", "category": "Utility.Event", "severity": 0,
                "text": "Order queue drained by {user}", "placeholders": {"user": "user"},
                "role": "job", "weight": 400, "invented": "the application's own message",
            }]
        """
    )
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.iris_log(count=300, sequences=[])
        def test_hook(iris_log):
            assert iris_log.text().count("Order queue drained by ") > 100
        """
    )
    pytester.runpytest("-q").assert_outcomes(passed=1)
