"""A stand-in for fivetran_connector_sdk's Operations and Logging that records every call.

Only the surface the shim uses is modelled: Operations.upsert(table=, data=), Operations.checkpoint(state=),
Logging.fine/info/warning/severe(message). Calls are kept in one ordered list so tests can assert
ordering (upserts before the checkpoint that covers them). Values are deep-copied on record, as the
real SDK serialises them at call time.
"""

from __future__ import annotations

import copy
import json
from typing import Any, Dict, List, Tuple


class RecordingOperations:
    """Records upsert/checkpoint calls in order; checks arguments the way the SDK needs them."""

    def __init__(self) -> None:
        self.calls: List[Tuple[str, Dict[str, Any]]] = []

    def upsert(self, table: str, data: Dict[str, Any]) -> None:
        if not isinstance(table, str) or not table:
            raise TypeError("upsert needs a table name")
        if not isinstance(data, dict):
            raise TypeError("upsert data must be a dict")
        json.dumps(data)  # the SDK serialises rows: everything must be JSON-able
        self.calls.append(("upsert", {"table": table, "data": copy.deepcopy(data)}))

    def checkpoint(self, state: Dict[str, Any]) -> None:
        if not isinstance(state, dict):
            raise TypeError("checkpoint state must be a dict")
        json.dumps(state)
        self.calls.append(("checkpoint", {"state": copy.deepcopy(state)}))

    # convenience views for assertions
    def upserts(self, table: str | None = None) -> List[Dict[str, Any]]:
        return [c[1]["data"] for c in self.calls if c[0] == "upsert" and (table is None or c[1]["table"] == table)]

    def checkpoints(self) -> List[Dict[str, Any]]:
        return [c[1]["state"] for c in self.calls if c[0] == "checkpoint"]

    def counts(self) -> Dict[str, int]:
        out: Dict[str, int] = {}
        for name, args in self.calls:
            if name == "upsert":
                out[args["table"]] = out.get(args["table"], 0) + 1
        return out

    def sequence(self) -> List[str]:
        """Compact call sequence, e.g. ['upsert:projects', 'checkpoint']."""
        return [f"upsert:{a['table']}" if n == "upsert" else n for n, a in self.calls]


class RecordingLogging:
    """Records log calls as (level, message)."""

    def __init__(self) -> None:
        self.lines: List[Tuple[str, str]] = []

    def fine(self, message: str) -> None:
        self.lines.append(("FINE", message))

    def info(self, message: str) -> None:
        self.lines.append(("INFO", message))

    def warning(self, message: str) -> None:
        self.lines.append(("WARNING", message))

    def severe(self, message: str) -> None:
        self.lines.append(("SEVERE", message))

    def at(self, level: str) -> List[str]:
        return [m for lvl, m in self.lines if lvl == level]

    def text(self) -> str:
        return "\n".join(m for _, m in self.lines)
