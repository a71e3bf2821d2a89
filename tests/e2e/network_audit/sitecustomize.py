"""Loaded by the bot process under test (PYTHONPATH): records every outgoing connection attempt
and name lookup through Python's audit hooks, to prove the bot talks to nothing but Slack and
the proxy."""

import json
import os
import sys

_LOG = os.environ.get("NETWORK_AUDIT_LOG")


def _record(event: str, args: tuple) -> None:
    if event == "socket.connect":
        entry = {"event": "connect", "address": list(args[1]) if isinstance(args[1], tuple) else str(args[1])}
    elif event == "socket.getaddrinfo":
        entry = {"event": "getaddrinfo", "host": str(args[0]), "port": str(args[1])}
    else:
        return
    with open(_LOG, "a", encoding="utf-8") as log:
        log.write(json.dumps(entry) + "\n")


if _LOG:
    sys.addaudithook(_record)
