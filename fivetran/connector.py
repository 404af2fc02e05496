"""Fivetran Connector SDK shim for tap-gitlab.

The tap is a Singer tap written in Node. This shim runs it as a subprocess and maps its output
onto the Connector SDK:

    SCHEMA  -> checked (the stream must be a table declared by schema()), otherwise ignored
    RECORD  -> op.upsert(table=stream, data=record)   (nested objects as dicts, arrays as lists)
    STATE   -> op.checkpoint(state=value)             (always after the records it covers)
    stderr  -> log.fine / log.info / log.warning / log.severe by the line's level
    exit!=0 -> RuntimeError carrying the tap's last error line (the token is never included)

All logic lives in plain functions that take `op` / `log` objects, so the module imports and
is testable without `fivetran_connector_sdk` installed (tests use tests/sdk_standin.py).

Which tap is run (first match wins):
  1. the TAP_GITLAB_COMMAND environment variable (a shell-style command line, e.g.
     "node /path/to/repo/bin/tap-gitlab"),
  2. the self-contained executable bin/tap-gitlab next to this file (`npm run build:sea`),
  3. `tap-gitlab` on PATH.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import tempfile
import threading
from collections import deque
from typing import Any, Callable, Deque, Dict, Iterable, List, Mapping, Optional, Sequence

HERE = os.path.dirname(os.path.abspath(__file__))
BUNDLED_EXECUTABLE = os.path.join(HERE, "bin", "tap-gitlab")
BUNDLED_CATALOG = os.path.join(HERE, "catalog", "catalog.json")
COMMAND_ENV = "TAP_GITLAB_COMMAND"
DEFAULT_STREAMS = ("projects", "merge_requests", "users")
# Configuration keys whose values are secrets: redacted from every log line and error.
SECRET_KEYS = ("gitlab_token", "private_token")

try:  # The real SDK in Fivetran's runtime and under `fivetran debug`; absent in unit tests.
    from fivetran_connector_sdk import Connector  # type: ignore
    from fivetran_connector_sdk import Logging as _sdk_log  # type: ignore
    from fivetran_connector_sdk import Operations as _sdk_op  # type: ignore
except ImportError:  # pragma: no cover - exercised when the SDK is not installed
    Connector = None
    _sdk_log = None
    _sdk_op = None


class TapError(RuntimeError):
    """The tap failed or broke the Singer protocol; the message never contains the token."""


# --------------------------------------------------------------------------------------------
# Resolving the tap command
# --------------------------------------------------------------------------------------------


def resolve_tap_command(env: Optional[Mapping[str, str]] = None) -> List[str]:
    """Returns the argv prefix that runs the tap (see the module docstring for the order)."""
    env = os.environ if env is None else env
    override = env.get(COMMAND_ENV, "").strip()
    if override:
        return shlex.split(override)
    if os.path.isfile(BUNDLED_EXECUTABLE) and os.access(BUNDLED_EXECUTABLE, os.X_OK):
        return [BUNDLED_EXECUTABLE]
    on_path = shutil.which("tap-gitlab", path=env.get("PATH"))
    if on_path:
        return [on_path]
    raise TapError(
        "tap-gitlab was not found: build fivetran/bin/tap-gitlab with `npm run build:sea`, put "
        f"tap-gitlab on PATH, or set {COMMAND_ENV} (e.g. \"node /path/to/repo/bin/tap-gitlab\")."
    )


# --------------------------------------------------------------------------------------------
# Configuration, secrets, temp files
# --------------------------------------------------------------------------------------------


def secrets_of(configuration: Mapping[str, Any]) -> List[str]:
    """The secret values in a configuration (non-empty strings only)."""
    return [str(configuration[k]) for k in SECRET_KEYS if configuration.get(k)]


def redact(text: str, secrets: Iterable[str]) -> str:
    """Replaces every secret value in `text` with [REDACTED]."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[REDACTED]")
    return text


def tap_config(configuration: Mapping[str, Any]) -> Dict[str, str]:
    """The tap's config file content: Fivetran's flat string map, passed through unchanged.

    Fivetran sends strings only; the tap coerces "true", "100" and "4,5,6" itself. Non-string
    values (possible in hand-written debug configurations) are converted the way Fivetran would
    send them, so the tap sees the same input locally and in production.
    """
    out: Dict[str, str] = {}
    for key, value in configuration.items():
        if value is None:
            continue
        if isinstance(value, bool):
            out[key] = "true" if value else "false"
        elif isinstance(value, (list, tuple)):
            out[key] = ",".join(str(v) for v in value)
        elif isinstance(value, dict):
            out[key] = json.dumps(value)
        else:
            out[key] = str(value)
    return out


def _write_json(directory: str, name: str, value: Any) -> str:
    path = os.path.join(directory, name)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # the config holds the token
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(value, handle)
    return path


# --------------------------------------------------------------------------------------------
# schema()
# --------------------------------------------------------------------------------------------

_SCALAR_TYPES = {"integer": "LONG", "number": "DOUBLE", "boolean": "BOOLEAN", "string": "STRING"}


def column_type(prop: Mapping[str, Any]) -> Optional[str]:
    """The Fivetran column type of one JSON-schema property, or None to let Fivetran infer it."""
    declared = prop.get("type")
    types = [declared] if isinstance(declared, str) else list(declared or [])
    non_null = [t for t in types if t != "null"]
    if len(non_null) != 1:
        return "JSON" if ("object" in non_null or "array" in non_null) else None
    kind = non_null[0]
    if kind in ("object", "array"):
        return "JSON"
    if kind == "string":
        fmt = prop.get("format")
        if fmt == "date-time":
            return "UTC_DATETIME"
        if fmt == "date":
            return "NAIVE_DATE"
    return _SCALAR_TYPES.get(kind)


def tables_from_catalog(catalog: Mapping[str, Any]) -> List[Dict[str, Any]]:
    """Maps a Singer catalog to Fivetran's schema(): one table per stream, key = key_properties."""
    tables: List[Dict[str, Any]] = []
    for entry in catalog.get("streams", []):
        name = entry.get("stream") or entry.get("tap_stream_id")
        keys = entry.get("key_properties")
        if keys is None:
            for meta in entry.get("metadata", []):
                if meta.get("breadcrumb") == []:
                    keys = meta.get("metadata", {}).get("table-key-properties")
        columns: Dict[str, str] = {}
        for column, prop in (entry.get("schema", {}).get("properties") or {}).items():
            ctype = column_type(prop)
            if ctype is not None:
                columns[column] = ctype
        table: Dict[str, Any] = {"table": name, "columns": columns}
        if keys:
            table["primary_key"] = list(keys)
        tables.append(table)
    return tables


def load_catalog(
    configuration: Mapping[str, Any],
    command: Optional[Sequence[str]] = None,
    catalog_path: Optional[str] = BUNDLED_CATALOG,
    timeout: float = 120.0,
) -> Dict[str, Any]:
    """The tap's catalog: the bundled catalog/catalog.json if present, else `<tap> --discover`."""
    if catalog_path and os.path.isfile(catalog_path):
        with open(catalog_path, encoding="utf-8") as handle:
            return json.load(handle)
    argv = list(command) if command else resolve_tap_command()
    secrets = secrets_of(configuration)
    with tempfile.TemporaryDirectory(prefix="tap-gitlab-") as tmp:
        config_path = _write_json(tmp, "config.json", tap_config(configuration))
        proc = subprocess.run(
            argv + ["--config", config_path, "--discover"],
            capture_output=True, text=True, timeout=timeout, check=False,
        )
    if proc.returncode != 0:
        raise TapError(
            f"tap-gitlab --discover exited with code {proc.returncode}: "
            + redact(last_error_line(proc.stderr.splitlines()) or "(no message)", secrets)
        )
    try:
        return json.loads(proc.stdout)
    except json.JSONDecodeError as exc:
        raise TapError(f"tap-gitlab --discover did not print a JSON catalog: {exc}") from None


def schema_tables(
    configuration: Mapping[str, Any],
    command: Optional[Sequence[str]] = None,
    catalog_path: Optional[str] = BUNDLED_CATALOG,
) -> List[Dict[str, Any]]:
    """The list schema() returns, from the tap's catalog."""
    return tables_from_catalog(load_catalog(configuration, command=command, catalog_path=catalog_path))


# --------------------------------------------------------------------------------------------
# stderr -> logging
# --------------------------------------------------------------------------------------------

_LEVEL_RE = re.compile(r"^(?:\S+\s+)?(?P<level>DEBUG|TRACE|INFO|WARN|WARNING|ERROR|CRITICAL|FATAL)\b[:\s]?", re.I)
_ERROR_LEVELS = ("ERROR", "CRITICAL", "FATAL")


def is_fatal_line(line: str) -> bool:
    """The tap's one fatal message before a non-zero exit: `tap-gitlab: ...`."""
    return line.strip().startswith("tap-gitlab:")


def line_level(line: str) -> str:
    """The level of one stderr line: DEBUG, INFO, WARNING or ERROR (unmarked lines are INFO; the fatal line is ERROR)."""
    if is_fatal_line(line):
        return "ERROR"
    match = _LEVEL_RE.match(line)
    if not match:
        return "INFO"
    level = match.group("level").upper()
    if level in ("DEBUG", "TRACE"):
        return "DEBUG"
    if level in ("WARN", "WARNING"):
        return "WARNING"
    if level in _ERROR_LEVELS:
        return "ERROR"
    return "INFO"


def last_error_line(lines: Iterable[str]) -> Optional[str]:
    """The tap's fatal line (`tap-gitlab: ...`), else the last ERROR-level line, else the last non-empty line."""
    last_any: Optional[str] = None
    last_error: Optional[str] = None
    last_fatal: Optional[str] = None
    for raw in lines:
        line = raw.strip()
        if not line:
            continue
        last_any = line
        if is_fatal_line(line):
            last_fatal = line
        elif line_level(line) == "ERROR":
            last_error = line
    return last_fatal or last_error or last_any


def forward_log_line(log: Any, line: str) -> None:
    """Sends one (already redacted) stderr line to the SDK logger at its level."""
    level = line_level(line)
    if level == "DEBUG":
        (getattr(log, "fine", None) or log.info)(line)
    elif level == "WARNING":
        log.warning(line)
    elif level == "ERROR":
        log.severe(line)
    else:
        log.info(line)


# --------------------------------------------------------------------------------------------
# update()
# --------------------------------------------------------------------------------------------


class SyncSummary(dict):
    """Counts of what one update() sent: {'upserts': {table: n}, 'checkpoints': n}."""


def handle_message(
    message: Mapping[str, Any],
    op: Any,
    known_streams: Iterable[str],
    seen_schemas: set,
    summary: SyncSummary,
    log: Any,
) -> None:
    """Applies one Singer message to the SDK operations."""
    kind = message.get("type")
    if kind == "RECORD":
        stream = message.get("stream")
        if stream not in seen_schemas:
            raise TapError(f"tap-gitlab sent a RECORD for stream {stream!r} before its SCHEMA")
        record = message.get("record")
        if not isinstance(record, dict):
            raise TapError(f"tap-gitlab sent a RECORD for stream {stream!r} without a record object")
        op.upsert(table=stream, data=record)
        summary["upserts"][stream] = summary["upserts"].get(stream, 0) + 1
    elif kind == "STATE":
        value = message.get("value")
        if not isinstance(value, dict):
            raise TapError("tap-gitlab sent a STATE whose value is not a JSON object")
        op.checkpoint(state=value)
        summary["checkpoints"] += 1
    elif kind == "SCHEMA":
        stream = message.get("stream")
        if stream not in known_streams:
            raise TapError(
                f"tap-gitlab sent stream {stream!r}, which schema() does not declare "
                f"(known: {', '.join(sorted(known_streams))})"
            )
        seen_schemas.add(stream)
    else:
        (getattr(log, "fine", None) or log.info)(f"ignoring Singer message of type {kind!r}")


def run_sync(
    configuration: Mapping[str, Any],
    state: Optional[Mapping[str, Any]],
    op: Any,
    log: Any,
    command: Optional[Sequence[str]] = None,
    known_streams: Optional[Iterable[str]] = None,
    env: Optional[Mapping[str, str]] = None,
) -> SyncSummary:
    """Runs the tap once and maps its output onto `op` / `log`; raises TapError on failure."""
    argv = list(command) if command else resolve_tap_command(env)
    streams = set(known_streams) if known_streams is not None else set(DEFAULT_STREAMS)
    secrets = secrets_of(configuration)
    summary = SyncSummary(upserts={}, checkpoints=0)
    stderr_tail: Deque[str] = deque(maxlen=50)

    with tempfile.TemporaryDirectory(prefix="tap-gitlab-") as tmp:
        config_path = _write_json(tmp, "config.json", tap_config(configuration))
        state_path = _write_json(tmp, "state.json", dict(state or {}))
        proc = subprocess.Popen(
            argv + ["--config", config_path, "--state", state_path],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=dict(env) if env is not None else None,
            text=True, encoding="utf-8", bufsize=1,
        )

        def pump_stderr() -> None:
            assert proc.stderr is not None
            for raw in proc.stderr:
                line = redact(raw.rstrip("\r\n"), secrets)
                if not line.strip():
                    continue
                stderr_tail.append(line)
                forward_log_line(log, line)

        reader = threading.Thread(target=pump_stderr, name="tap-gitlab-stderr", daemon=True)
        reader.start()
        seen_schemas: set = set()
        try:
            assert proc.stdout is not None
            for raw in proc.stdout:
                if not raw.endswith("\n") and proc.wait() != 0:
                    # A line cut off by the tap's death (killed, out of memory): the exit code says what happened.
                    break
                line = raw.strip()
                if not line:
                    continue
                try:
                    message = json.loads(line)
                except json.JSONDecodeError:
                    raise TapError(
                        "tap-gitlab printed a line that is not a Singer message: " + redact(line[:200], secrets)
                    ) from None
                if not isinstance(message, dict):
                    raise TapError("tap-gitlab printed a JSON value that is not a Singer message")
                handle_message(message, op, streams, seen_schemas, summary, log)
            code = proc.wait()
        finally:
            if proc.poll() is None:  # we are failing: stop the tap, do not leave it behind
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            reader.join(timeout=10)
            if proc.stdout:
                proc.stdout.close()
            if proc.stderr:
                proc.stderr.close()

    if code != 0:
        detail = last_error_line(stderr_tail) or "(no message on stderr)"
        raise TapError(f"tap-gitlab exited with code {code}: {redact(detail, secrets)}")
    log.info(
        "tap-gitlab finished: "
        + ", ".join(f"{table}={n}" for table, n in sorted(summary["upserts"].items()))
        + f" upserts, {summary['checkpoints']} checkpoints"
    )
    return summary


# --------------------------------------------------------------------------------------------
# Connector SDK entry points
# --------------------------------------------------------------------------------------------


def schema(configuration: dict) -> List[Dict[str, Any]]:
    """Connector SDK schema(): tables projects, merge_requests, users with their keys and types."""
    return schema_tables(configuration)


def update(configuration: dict, state: dict) -> None:
    """Connector SDK update(): one tap run, records upserted, STATE checkpointed."""
    if _sdk_op is None or _sdk_log is None:
        raise RuntimeError("fivetran_connector_sdk is not installed; use run_sync(op=..., log=...) instead")
    known = [t["table"] for t in schema(configuration)]
    run_sync(configuration, state, _sdk_op, _sdk_log, known_streams=known)


connector = Connector(update=update, schema=schema) if Connector is not None else None

if __name__ == "__main__":  # pragma: no cover - `python connector.py` == `fivetran debug`
    if connector is None:
        raise SystemExit("install fivetran-connector-sdk first (pip install -r requirements.txt)")
    with open(os.path.join(HERE, "configuration.json"), encoding="utf-8") as f:
        connector.debug(configuration=json.load(f))
