"""A small fake tap for the shim's unit tests.

Behaviour comes from the config file's `fake_mode` key; FAKE_TAP_DUMP (env) names a file where the
fake writes the argv, config and state it received, so tests can check what the shim passed.
"""

import json
import os
import sys


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def err(line):
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def arg(name):
    argv = sys.argv[1:]
    return argv[argv.index(name) + 1] if name in argv else None


def main():
    config_path = arg("--config")
    state_path = arg("--state")
    config = json.load(open(config_path)) if config_path else {}
    state = json.load(open(state_path)) if state_path else None
    dump = os.environ.get("FAKE_TAP_DUMP")
    if dump:
        with open(dump, "w") as f:
            json.dump({"argv": sys.argv[1:], "config": config, "state": state}, f)

    if "--discover" in sys.argv:
        emit({"streams": [
            {"tap_stream_id": "projects", "stream": "projects", "key_properties": ["id"],
             "schema": {"type": "object", "properties": {
                 "id": {"type": "integer"},
                 "updated_at": {"type": ["null", "string"], "format": "date-time"},
                 "namespace": {"type": ["null", "object"], "properties": {"id": {"type": ["null", "integer"]}}}}},
             "metadata": []},
        ]})
        return 0

    mode = config.get("fake_mode", "ok")
    token = config.get("gitlab_token", "")
    if mode == "ok":
        err("2024-05-01T10:00:00.000Z INFO starting sync")
        emit({"type": "SCHEMA", "stream": "projects", "key_properties": ["id"],
              "schema": {"type": "object", "properties": {"id": {"type": "integer"}}}})
        emit({"type": "RECORD", "stream": "projects", "record": {"id": 1, "name": "a",
              "namespace": {"id": 7, "full_path": "g"}}, "time_extracted": "2024-05-01T10:00:00Z"})
        emit({"type": "RECORD", "stream": "projects", "record": {"id": 2, "name": "b", "namespace": None}})
        emit({"type": "STATE", "value": {"bookmarks": {"projects": {"partitions": []}}, "step": 1}})
        err("2024-05-01T10:00:01.000Z WARN project 3 skipped: 404")
        emit({"type": "SCHEMA", "stream": "merge_requests", "key_properties": ["id"],
              "schema": {"type": "object", "properties": {"id": {"type": "integer"}}}})
        emit({"type": "RECORD", "stream": "merge_requests", "record": {"id": 10, "labels": ["x", "y"],
              "reviewer_ids": [], "references": {"full": "g/a!1"}}})
        emit({"type": "STATE", "value": {"step": 2, "previous": state}})
        err("2024-05-01T10:00:02.000Z DEBUG details")
        return 0
    if mode == "fail":
        emit({"type": "SCHEMA", "stream": "projects", "key_properties": ["id"], "schema": {"type": "object"}})
        emit({"type": "RECORD", "stream": "projects", "record": {"id": 1}})
        err("2024-05-01T10:00:00.000Z ERROR GitLab answered 401 Unauthorized for GET /api/v4/projects")
        err("2024-05-01T10:00:00.000Z INFO summary: 1 record")
        return 1
    if mode == "leak":
        err(f"2024-05-01T10:00:00.000Z ERROR bad token {token} rejected")
        return 1
    if mode == "silent_fail":
        return 3
    if mode == "unknown_stream":
        emit({"type": "SCHEMA", "stream": "issues", "key_properties": ["id"], "schema": {"type": "object"}})
        emit({"type": "RECORD", "stream": "issues", "record": {"id": 1}})
        return 0
    if mode == "record_before_schema":
        emit({"type": "RECORD", "stream": "projects", "record": {"id": 1}})
        return 0
    if mode == "garbage":
        sys.stdout.write("hello, I am not JSON\n")
        return 0
    if mode == "hang_after_garbage":
        sys.stdout.write("not json\n")
        sys.stdout.flush()
        import time
        time.sleep(60)
        return 0
    err(f"unknown fake_mode {mode}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
