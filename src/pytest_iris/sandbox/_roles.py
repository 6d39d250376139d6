"""The sandbox instance's process roles and their routines: plain data, no imports, so that
the chaos schema can name the roles a ``kill`` fault takes without importing the
sandbox (which imports the generators, the registry and the chaos loader back)."""

from __future__ import annotations

#: The instance's daemons and system jobs, in start order: (role, routine, job).
#: The routine names are the documented ones (commands.md §6, SKILLS
#: security-reference: CONTROL, WRTDMN, AUXWD, JRNDMN, GARCOL, EXPDMN, MONITOR,
#: CLNDMN, RECEIVE, ECPWork, %SYS.SERVER, %CSP.Daemon, LMFMON; task manager
#: %SYS.TaskSuper.1) and the real log's SWRTDMN (facts.md §4.5). ``job`` marks
#: those that run as jobs of the effective user (``-cj -p<n> <entry>``); the
#: others are kernel daemons of the instance owner. The switches after
#: ``-s<mgr>`` are ours: no real ``ps`` listing of an instance exists
#: (commands.md §6); only the control process's ``-B -C<cpf>*<instance>``
#: follows a real command line (commands.md §3.1, ``irisinstall -s . -B -c c -C ...``).
DAEMONS: tuple[tuple[str, str, bool], ...] = (
    ("write_daemon", "WRTDMN", False),
    ("journal_daemon", "JRNDMN", False),
    ("garbage_collector", "GARCOL", False),
    ("expansion_daemon", "EXPDMN", False),
    ("monitor", "START^MONITOR", True),
    ("clean_daemon", "^CLNDMN", True),
    ("license_monitor", "^LMFMON", True),
    ("ecp_receive", "^RECEIVE", True),
    ("ecp_worker", "^ECPWork", True),
    ("task_manager", "^%SYS.TaskSuper.1", True),
    ("csp_daemon", "^%CSP.Daemon", True),
)
#: the superserver's job routine for a client (commands.md §6, /jobs sample: ``%SYS.BINDSRV``
#: on ``|TCP|1972|pid``) and for a web gateway connection (``%SYS.cspServer3``)
CLIENT_JOB = "%SYS.BINDSRV"
GATEWAY_JOB = "%SYS.cspServer3"
