"""``python -m pytest_iris`` is the ``pytest-iris`` command."""

from pytest_iris.cli import main

raise SystemExit(main())
