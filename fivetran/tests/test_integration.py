"""End to end: the shim runs the real tap against the local GitLab simulator.

The simulator is started as a subprocess (`node test/simulator/cli.mjs --port 0`, or, before that
CLI exists, startSimulator() from test/simulator/server.mjs) and its dataset (GET /__dataset) is the
ground truth. Each available tap is exercised: `node bin/tap-gitlab` when dist/cli.js is built, the
single executable fivetran/bin/tap-gitlab when `npm run build:sea` ran, or TAP_GITLAB_COMMAND.
Skipped, with the reason, when neither the simulator nor a tap is available.
"""

import json
import os
import shlex
import shutil
import subprocess
import sys
import unittest
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
FIVETRAN = os.path.dirname(HERE)
REPO = os.path.dirname(FIVETRAN)
sys.path.insert(0, FIVETRAN)
sys.path.insert(0, HERE)

import connector  # noqa: E402
from sdk_standin import RecordingLogging, RecordingOperations  # noqa: E402

SIM_CLI = os.path.join(REPO, "test", "simulator", "cli.mjs")
SIM_SERVER = os.path.join(REPO, "test", "simulator", "server.mjs")
NODE = shutil.which("node")


def available_taps():
    """(label, argv) for every tap this machine can run."""
    taps = []
    if os.environ.get("TAP_GITLAB_COMMAND"):
        taps.append(("TAP_GITLAB_COMMAND", shlex.split(os.environ["TAP_GITLAB_COMMAND"])))
    if NODE and os.path.isfile(os.path.join(REPO, "dist", "cli.js")):
        taps.append(("node bin/tap-gitlab", [NODE, os.path.join(REPO, "bin", "tap-gitlab")]))
    if os.access(connector.BUNDLED_EXECUTABLE, os.X_OK):
        taps.append(("SEA fivetran/bin/tap-gitlab", [connector.BUNDLED_EXECUTABLE]))
    return taps


def skip_reason():
    if not NODE:
        return "node is not on PATH"
    if not (os.path.isfile(SIM_CLI) or os.path.isfile(SIM_SERVER)):
        return "test/simulator is absent"
    if not available_taps():
        return "no tap to run: build dist/cli.js (npm run build) or fivetran/bin/tap-gitlab (npm run build:sea)"
    return None


class Simulator:
    """A simulator subprocess; prints {url, token} JSON on its first stdout line."""

    def __init__(self):
        if os.path.isfile(SIM_CLI):
            argv = [NODE, SIM_CLI, "--port", "0", "--seed", "7", "--projects", "12", "--mrs", "40", "--users", "60"]
        else:
            script = (
                "const m = await import(process.argv[1]);"
                "const s = await m.startSimulator({ port: 0, seed: 7, projects: 12, mergeRequestsPerProject: 40, users: 60 });"
                "console.log(JSON.stringify({ url: s.url, token: s.token }));"
                "process.on('SIGTERM', () => s.close().then(() => process.exit(0)));"
            )
            argv = [NODE, "--input-type=module", "-e", script, "file://" + SIM_SERVER]
        self.proc = subprocess.Popen(argv, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line:
            err = self.proc.stderr.read()
            self.proc.wait()
            raise RuntimeError(f"simulator did not start: {err.strip()[-500:]}")
        info = json.loads(line)
        self.url, self.token = info["url"].rstrip("/"), info["token"]

    def dataset(self):
        with urllib.request.urlopen(self.url + "/__dataset", timeout=30) as resp:
            return json.load(resp)

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self.proc.stderr.close()


USER_FIELDS = ("author", "assignee", "merge_user", "merged_by", "closed_by")
USER_LISTS = ("assignees", "reviewers")


def ground_truth(dataset):
    """Ids the tap must emit with auto-discovery over every member project (private and archived)."""
    projects = [p for p in dataset["projects"] if (p.get("permissions") or {}).get("project_access")]
    project_ids = {p["id"] for p in projects}
    mrs = [m for m in dataset["mergeRequests"] if m["project_id"] in project_ids]
    users = set()
    for m in mrs:
        for f in USER_FIELDS:
            if m.get(f):
                users.add(m[f]["id"])
        for f in USER_LISTS:
            for u in m.get(f) or []:
                users.add(u["id"])
    return {"projects": project_ids, "merge_requests": {m["id"] for m in mrs}, "users": users}


@unittest.skipIf(skip_reason(), skip_reason() or "")
class ShimAgainstSimulator(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sim = Simulator()
        cls.truth = ground_truth(cls.sim.dataset())
        # Fivetran sends strings only: so does this configuration.
        cls.config = {
            "gitlab_token": cls.sim.token,
            "gitlab_base_url": cls.sim.url,
            "auto_discover_projects": "true",
            "project_name_pattern": "*",
            "include_private_projects": "true",
            "include_archived_projects": "true",
            "max_concurrency": "4",
            "page_size": "100",
        }

    @classmethod
    def tearDownClass(cls):
        cls.sim.close()

    def sync(self, command, state):
        op, log = RecordingOperations(), RecordingLogging()
        connector.run_sync(self.config, state, op, log, command=command)
        return op, log

    def test_first_sync_upserts_every_record_and_a_second_sync_nothing_new(self):
        self.assertGreater(len(self.truth["merge_requests"]), 0, "the simulator has merge requests")
        for label, command in available_taps():
            with self.subTest(tap=label):
                op, log = self.sync(command, {})
                for table, ids in self.truth.items():
                    got = [r["id"] for r in op.upserts(table)]
                    self.assertEqual(set(got), ids, f"{label}: {table} ids")
                    self.assertEqual(len(got), len(ids), f"{label}: {table} upserted once each")
                self.assertGreaterEqual(len(op.checkpoints()), 1)
                self.assertEqual(op.sequence()[-1], "checkpoint", "the run ends with a checkpoint")
                self.assertNotIn(self.sim.token, log.text())
                # nested objects arrive as dicts, arrays as lists, timestamps as UTC 'Z' strings
                mr = next(r for r in op.upserts("merge_requests") if r.get("labels"))
                self.assertIsInstance(mr["labels"], list)
                self.assertTrue(mr["updated_at"].endswith("Z"))
                project = op.upserts("projects")[0]
                self.assertIsInstance(project.get("namespace"), dict)

                first = {(t, r["id"]): r.get("updated_at") for t in self.truth for r in op.upserts(t)}
                op2, _ = self.sync(command, op.checkpoints()[-1])
                new = [(t, r["id"]) for t in self.truth for r in op2.upserts(t)
                       if first.get((t, r["id"]), "missing") != r.get("updated_at")]
                self.assertEqual(new, [], f"{label}: the second sync upserted only unchanged boundary rows")
                # incremental: a merge request comes again only if it sits on its project's bookmark
                # (the newest updated_at of the first sync; GitLab's updated_after is inclusive)
                newest = {}
                for r in op.upserts("merge_requests"):
                    newest[r["project_id"]] = max(newest.get(r["project_id"], ""), r["updated_at"])
                off_boundary = [r["id"] for r in op2.upserts("merge_requests")
                                if r["updated_at"] != newest[r["project_id"]]]
                self.assertEqual(off_boundary, [], f"{label}: the second sync re-sent only boundary rows")
                self.assertEqual(op2.upserts("projects"), [], f"{label}: unchanged projects are not re-sent")
                self.assertGreaterEqual(len(op2.checkpoints()), 1)
                print(f"\n  [{label}] first sync {op.counts()}, {len(op.checkpoints())} checkpoints; "
                      f"second sync {op2.counts()}", file=sys.stderr)

    def test_a_wrong_token_fails_the_sync_with_the_taps_message_and_no_token(self):
        label, command = available_taps()[0]
        bad = dict(self.config, gitlab_token="glpat-wrong-token-000")
        with self.assertRaises(RuntimeError) as ctx:
            connector.run_sync(bad, {}, RecordingOperations(), RecordingLogging(), command=command)
        self.assertRegex(str(ctx.exception), r"exited with code 1: .*401")
        self.assertNotIn("glpat-wrong-token-000", str(ctx.exception))

    def test_the_example_configuration_is_accepted_by_the_tap(self):
        label, command = available_taps()[0]
        with open(os.path.join(FIVETRAN, "configuration.example.json")) as f:
            example = json.load(f)
        self.assertTrue(all(isinstance(v, str) for v in example.values()), "strings only, as Fivetran sends")
        example.update(gitlab_token=self.sim.token, gitlab_base_url=self.sim.url, project_name_pattern="*",
                       max_records_per_sync="5", start_date="")
        op, _ = self.sync_with(command, example)
        self.assertGreater(sum(op.counts().values()), 0)
        self.assertGreaterEqual(len(op.checkpoints()), 1)

    def test_schema_from_the_taps_discover_declares_the_three_tables(self):
        for label, command in available_taps():
            with self.subTest(tap=label):
                tables = connector.schema_tables(self.config, command=command, catalog_path=None)
                self.assertEqual(sorted(t["table"] for t in tables), ["merge_requests", "projects", "users"])
                for t in tables:
                    self.assertEqual(t["primary_key"], ["id"])
                    self.assertEqual(t["columns"]["id"], "LONG")
                    if t["table"] != "users":
                        self.assertEqual(t["columns"]["updated_at"], "UTC_DATETIME")
                if os.path.isfile(connector.BUNDLED_CATALOG):
                    self.assertEqual(tables, connector.schema_tables({}), "bundled catalog matches the tap")

    def sync_with(self, command, config):
        op, log = RecordingOperations(), RecordingLogging()
        connector.run_sync(config, {}, op, log, command=command)
        return op, log


if __name__ == "__main__":
    unittest.main()
