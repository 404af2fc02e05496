"""Unit tests of the Fivetran shim against fake taps and the recording SDK stand-in."""

import json
import os
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)

import connector  # noqa: E402
from sdk_standin import RecordingLogging, RecordingOperations  # noqa: E402

FAKE_TAP = [sys.executable, os.path.join(HERE, "fake_tap.py")]
TOKEN = "glpat-SECRETSECRET123"


def run(config, state=None, **kwargs):
    op, log = RecordingOperations(), RecordingLogging()
    summary = connector.run_sync(config, state or {}, op, log, command=FAKE_TAP, **kwargs)
    return op, log, summary


class UpdateMapsSingerOntoOperations(unittest.TestCase):
    def test_upserts_records_then_checkpoints_in_stream_order(self):
        op, _, summary = run({"gitlab_token": TOKEN, "fake_mode": "ok"})
        self.assertEqual(
            op.sequence(),
            ["upsert:projects", "upsert:projects", "checkpoint", "upsert:merge_requests", "checkpoint"],
        )
        self.assertEqual(summary["upserts"], {"projects": 2, "merge_requests": 1})
        self.assertEqual(summary["checkpoints"], 2)

    def test_passes_nested_objects_as_dicts_and_arrays_as_lists(self):
        op, _, _ = run({"gitlab_token": TOKEN, "fake_mode": "ok"})
        self.assertEqual(op.upserts("projects")[0], {"id": 1, "name": "a", "namespace": {"id": 7, "full_path": "g"}})
        self.assertIsNone(op.upserts("projects")[1]["namespace"])
        mr = op.upserts("merge_requests")[0]
        self.assertEqual(mr["labels"], ["x", "y"])
        self.assertEqual(mr["reviewer_ids"], [])
        self.assertEqual(mr["references"], {"full": "g/a!1"})

    def test_checkpoints_the_state_value_exactly(self):
        op, _, _ = run({"gitlab_token": TOKEN, "fake_mode": "ok"}, state={"bookmarks": {"x": 1}})
        self.assertEqual(op.checkpoints()[0], {"bookmarks": {"projects": {"partitions": []}}, "step": 1})
        self.assertEqual(op.checkpoints()[1], {"step": 2, "previous": {"bookmarks": {"x": 1}}})

    def test_routes_stderr_lines_to_log_levels(self):
        _, log, _ = run({"gitlab_token": TOKEN, "fake_mode": "ok"})
        self.assertIn("2024-05-01T10:00:00.000Z INFO starting sync", log.at("INFO"))
        self.assertEqual(log.at("WARNING"), ["2024-05-01T10:00:01.000Z WARN project 3 skipped: 404"])
        self.assertEqual(log.at("FINE"), ["2024-05-01T10:00:02.000Z DEBUG details"])
        self.assertEqual(log.at("SEVERE"), [])


class UpdatePassesConfigurationAndState(unittest.TestCase):
    def setUp(self):
        fd, self.dump = tempfile.mkstemp(suffix=".json")
        os.close(fd)
        os.environ["FAKE_TAP_DUMP"] = self.dump

    def tearDown(self):
        os.environ.pop("FAKE_TAP_DUMP", None)
        os.unlink(self.dump)

    def received(self):
        with open(self.dump) as f:
            return json.load(f)

    def test_writes_fivetran_string_configuration_unchanged(self):
        config = {"gitlab_token": TOKEN, "fake_mode": "ok", "auto_discover_projects": "true",
                  "page_size": "100", "gitlab_project_ids": "4, 5,group/project", "start_date": "2024-01-01"}
        run(config)
        self.assertEqual(self.received()["config"], config)

    def test_converts_non_string_debug_values_the_way_fivetran_sends_them(self):
        run({"gitlab_token": TOKEN, "fake_mode": "ok", "auto_discover_projects": True, "page_size": 50,
             "gitlab_project_ids": [4, 5], "max_projects_to_sync": None})
        self.assertEqual(self.received()["config"], {"gitlab_token": TOKEN, "fake_mode": "ok",
                                                     "auto_discover_projects": "true", "page_size": "50",
                                                     "gitlab_project_ids": "4,5"})

    def test_passes_empty_first_sync_state_as_an_empty_object(self):
        run({"gitlab_token": TOKEN, "fake_mode": "ok"}, state={})
        got = self.received()
        self.assertEqual(got["state"], {})
        self.assertEqual(got["argv"][0], "--config")
        self.assertIn("--state", got["argv"])
        self.assertNotIn(TOKEN, " ".join(got["argv"]))

    def test_passes_the_checkpointed_state_back_to_the_next_run(self):
        op, _, _ = run({"gitlab_token": TOKEN, "fake_mode": "ok"})
        run({"gitlab_token": TOKEN, "fake_mode": "ok"}, state=op.checkpoints()[-1])
        self.assertEqual(self.received()["state"], {"step": 2, "previous": {}})

    def test_removes_the_temporary_config_holding_the_token(self):
        run({"gitlab_token": TOKEN, "fake_mode": "ok"})
        argv = self.received()["argv"]
        config_path = argv[argv.index("--config") + 1]
        self.assertFalse(os.path.exists(config_path))


class UpdateFailures(unittest.TestCase):
    def test_raises_with_the_taps_last_error_line_on_nonzero_exit(self):
        op, log = RecordingOperations(), RecordingLogging()
        with self.assertRaises(RuntimeError) as ctx:
            connector.run_sync({"gitlab_token": TOKEN, "fake_mode": "fail"}, {}, op, log, command=FAKE_TAP)
        message = str(ctx.exception)
        self.assertIn("exited with code 1", message)
        self.assertIn("GitLab answered 401 Unauthorized for GET /api/v4/projects", message)
        self.assertNotIn("summary", message)
        self.assertEqual(op.sequence(), ["upsert:projects"])  # upserted, never checkpointed
        self.assertEqual(len(log.at("SEVERE")), 1)

    def test_never_puts_the_token_in_errors_or_logs(self):
        op, log = RecordingOperations(), RecordingLogging()
        with self.assertRaises(RuntimeError) as ctx:
            connector.run_sync({"gitlab_token": TOKEN, "fake_mode": "leak"}, {}, op, log, command=FAKE_TAP)
        self.assertNotIn(TOKEN, str(ctx.exception))
        self.assertIn("[REDACTED]", str(ctx.exception))
        self.assertNotIn(TOKEN, log.text())

    def test_raises_with_a_placeholder_when_the_tap_fails_silently(self):
        with self.assertRaisesRegex(RuntimeError, r"exited with code 3: \(no message on stderr\)"):
            run({"gitlab_token": TOKEN, "fake_mode": "silent_fail"})

    def test_rejects_a_stream_that_schema_does_not_declare(self):
        with self.assertRaisesRegex(RuntimeError, "'issues', which schema\\(\\) does not declare"):
            run({"gitlab_token": TOKEN, "fake_mode": "unknown_stream"})

    def test_rejects_a_record_before_its_schema(self):
        with self.assertRaisesRegex(RuntimeError, "RECORD for stream 'projects' before its SCHEMA"):
            run({"gitlab_token": TOKEN, "fake_mode": "record_before_schema"})

    def test_rejects_non_json_stdout(self):
        with self.assertRaisesRegex(RuntimeError, "not a Singer message: hello, I am not JSON"):
            run({"gitlab_token": TOKEN, "fake_mode": "garbage"})

    def test_stops_the_tap_when_the_shim_fails_mid_stream(self):
        started = time.monotonic()
        with self.assertRaises(RuntimeError):
            run({"gitlab_token": TOKEN, "fake_mode": "hang_after_garbage"})
        self.assertLess(time.monotonic() - started, 20)  # the fake would sleep 60 s if left running

    def test_names_the_ways_to_provide_the_tap_when_none_is_found(self):
        saved = connector.BUNDLED_EXECUTABLE
        connector.BUNDLED_EXECUTABLE = "/nonexistent/tap-gitlab"
        try:
            with self.assertRaisesRegex(RuntimeError, "npm run build:sea.*TAP_GITLAB_COMMAND"):
                connector.resolve_tap_command({"PATH": "/nonexistent"})
        finally:
            connector.BUNDLED_EXECUTABLE = saved


class ResolvesTheTapCommand(unittest.TestCase):
    def test_env_override_wins_and_is_split_like_a_shell(self):
        self.assertEqual(
            connector.resolve_tap_command({"TAP_GITLAB_COMMAND": "node '/repo dir/bin/tap-gitlab'", "PATH": ""}),
            ["node", "/repo dir/bin/tap-gitlab"],
        )

    def test_falls_back_to_tap_gitlab_on_path(self):
        with tempfile.TemporaryDirectory() as d:
            exe = os.path.join(d, "tap-gitlab")
            with open(exe, "w") as f:
                f.write("#!/bin/sh\n")
            os.chmod(exe, 0o755)
            saved = connector.BUNDLED_EXECUTABLE
            connector.BUNDLED_EXECUTABLE = os.path.join(d, "missing")
            try:
                self.assertEqual(connector.resolve_tap_command({"PATH": d}), [exe])
            finally:
                connector.BUNDLED_EXECUTABLE = saved

    def test_prefers_the_bundled_executable_over_path(self):
        with tempfile.TemporaryDirectory() as d:
            bundled = os.path.join(d, "bundled")
            with open(bundled, "w") as f:
                f.write("#!/bin/sh\n")
            os.chmod(bundled, 0o755)
            saved = connector.BUNDLED_EXECUTABLE
            connector.BUNDLED_EXECUTABLE = bundled
            try:
                self.assertEqual(connector.resolve_tap_command({"PATH": "/usr/bin"}), [bundled])
            finally:
                connector.BUNDLED_EXECUTABLE = saved


class SchemaFromCatalog(unittest.TestCase):
    CATALOG = {"streams": [
        {"tap_stream_id": "merge_requests", "stream": "merge_requests",
         "schema": {"type": "object", "properties": {
             "id": {"type": "integer"},
             "title": {"type": ["null", "string"]},
             "draft": {"type": ["null", "boolean"]},
             "updated_at": {"type": ["null", "string"], "format": "date-time"},
             "due": {"type": ["null", "string"], "format": "date"},
             "author": {"type": ["null", "object"], "properties": {"id": {"type": ["null", "integer"]}}},
             "labels": {"type": ["null", "array"], "items": {"type": "string"}},
             "score": {"type": ["null", "number"]},
             "odd": {}}},
         "metadata": [{"breadcrumb": [], "metadata": {"table-key-properties": ["id"]}}]},
    ]}

    def test_maps_streams_to_tables_with_keys_and_column_types(self):
        self.assertEqual(connector.tables_from_catalog(self.CATALOG), [{
            "table": "merge_requests", "primary_key": ["id"],
            "columns": {"id": "LONG", "title": "STRING", "draft": "BOOLEAN", "updated_at": "UTC_DATETIME",
                        "due": "NAIVE_DATE", "author": "JSON", "labels": "JSON", "score": "DOUBLE"},
        }])

    def test_reads_the_bundled_catalog_file_when_present(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "catalog.json")
            with open(path, "w") as f:
                json.dump(self.CATALOG, f)
            tables = connector.schema_tables({}, command=["/nonexistent-tap"], catalog_path=path)
        self.assertEqual([t["table"] for t in tables], ["merge_requests"])

    def test_runs_discover_when_no_catalog_is_bundled(self):
        tables = connector.schema_tables({"gitlab_token": TOKEN}, command=FAKE_TAP, catalog_path=None)
        self.assertEqual(tables, [{"table": "projects", "primary_key": ["id"],
                                   "columns": {"id": "LONG", "updated_at": "UTC_DATETIME", "namespace": "JSON"}}])

    def test_raises_when_discover_fails_without_leaking_the_token(self):
        with self.assertRaises(RuntimeError) as ctx:
            connector.schema_tables({"gitlab_token": TOKEN}, command=[sys.executable, "-c",
                                    f"import sys; sys.stderr.write('ERROR no {TOKEN}\\n'); sys.exit(2)"],
                                    catalog_path=None)
        self.assertIn("exited with code 2", str(ctx.exception))
        self.assertNotIn(TOKEN, str(ctx.exception))


class StderrLevels(unittest.TestCase):
    def test_classifies_logger_and_bare_lines(self):
        cases = {
            "2024-05-01T10:00:00.000Z ERROR x": "ERROR",
            "2024-05-01T10:00:00.000Z WARN x": "WARNING",
            "CRITICAL something broke": "ERROR",
            "WARNING: careful": "WARNING",
            "INFO METRIC: {\"type\":\"counter\"}": "INFO",
            "plain text": "INFO",
            "2024-05-01T10:00:00.000Z DEBUG x": "DEBUG",
        }
        for line, level in cases.items():
            self.assertEqual(connector.line_level(line), level, line)

    def test_last_error_line_prefers_errors_over_later_lines(self):
        self.assertEqual(connector.last_error_line(["a", "X ERROR boom", "X INFO summary", ""]), "X ERROR boom")
        self.assertEqual(connector.last_error_line(["a", "b", "  "]), "b")
        self.assertIsNone(connector.last_error_line([]))


class TapFailuresAreReportedByTheirCause(unittest.TestCase):
    @staticmethod
    def script(body):
        import stat
        import textwrap
        fd, path = tempfile.mkstemp(suffix=".sh")
        os.write(fd, ("#!/bin/sh\n" + textwrap.dedent(body)).encode())
        os.close(fd)
        os.chmod(path, stat.S_IRWXU)
        return [path]

    def test_the_taps_fatal_line_is_the_error_not_an_earlier_error_log_line(self):
        cmd = self.script("""
            echo '2024-05-01T10:00:00.000Z ERROR Configured project 999999: GitLab answered 404' >&2
            echo 'tap-gitlab: GitLab answered 500 to GET /api/v4/projects/101/merge_requests after 8 retries' >&2
            exit 1
        """)
        log = RecordingLogging()
        with self.assertRaises(connector.TapError) as ctx:
            connector.run_sync({"gitlab_token": "glpat-test"}, {}, RecordingOperations(), log, command=cmd)
        self.assertIn("answered 500", str(ctx.exception))
        self.assertIn(("SEVERE", "tap-gitlab: GitLab answered 500 to GET /api/v4/projects/101/merge_requests after 8 retries"), log.lines)

    def test_a_tap_killed_in_the_middle_of_a_line_is_reported_by_its_exit_not_as_a_protocol_error(self):
        cmd = self.script("""
            printf '%s\\n' '{"type":"SCHEMA","stream":"projects","key_properties":["id"],"schema":{"type":"object"}}'
            printf '%s' '{"type":"RECORD","stream":"projects","record":{"id":1,"na'
            kill -9 $$
        """)
        with self.assertRaises(connector.TapError) as ctx:
            connector.run_sync({"gitlab_token": "glpat-test"}, {}, RecordingOperations(), RecordingLogging(), command=cmd)
        self.assertIn("exited with code -9", str(ctx.exception))


if __name__ == "__main__":
    unittest.main()
