// The `pulse-jobs` command (pkg-template/cli.js), run the way a user gets it:
// the bin that npm linked into the consumer project's node_modules/.bin, as a
// child process, against the mock over real sockets. Exit codes, stdout (only
// the JSON), stderr (status lines, errors, never the key), usage errors,
// signals, and the live status line on a real pseudo-terminal (`script`),
// whose frames are written to test-output/cli/tty-capture.txt. The output's
// failures are real too: `ulimit -f`, a closed fd 1 and `| head` are bash's.

import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { after, before, describe, test } from "./support/runner.js";
import { loadPulse, repoRoot } from "./support/package.js";
import { jid, startMockServer } from "./support/mock.js";
import { startSlowStorageMock } from "./support/slow-storage.js";
import { SLACK, exitGuard, sleep } from "./support/util.js";

exitGuard();
const { esm: P, dirs } = await loadPulse();
const BIN = path.join(dirs.consumer, "node_modules", ".bin", "pulse-jobs");
const INSTALLED = path.join(dirs.consumer, "node_modules", "pulse-jobs");
const hasSubmit = typeof P.submitJob === "function";
const WAITS_ON_SUBMIT = hasSubmit ? false : "waits on submitJob in the package (not in this build yet)";
const KEY = "sk-cli-7f3a9c1e-do-not-print";
// A few runs at a time: dozens of Node processes starting at once would only measure the machine.
const PARALLEL = { concurrency: 4 };
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "pulse-cli-test-"));

let m;
before(async () => {
  m = await startMockServer();
});
after(async () => {
  await m?.close();
  fs.rmSync(scratch, { recursive: true, force: true });
});

/** The environment of a run: the mock as base URL, no key unless given, none of node --test's own variables. */
function envFor(extra = {}) {
  const env = { ...process.env, PULSE_BASE_URL: m.apiUrl, ...extra };
  if (!("PULSE_API_KEY" in extra)) delete env.PULSE_API_KEY;
  delete env.NODE_TEST_CONTEXT;
  return env;
}

/**
 * Runs the bin; resolves { code, signal, stdout, stderr, ms, lingered (ms from its last output to its exit) }.
 * `onSpawn(child)` may signal it. `via` runs it from a bash script instead, in which "$@" is the command
 * (`ulimit -f 200; exec "$@"`): the limits and redirections are the shell's own, really applied.
 */
function cli(args, { env, onSpawn, via } = {}) {
  return new Promise((resolve, reject) => {
    const start = Date.now();
    const [file, argv] = via === undefined ? [BIN, args] : ["bash", ["-c", via, "pulse-jobs", BIN, ...args]];
    const child = spawn(file, argv, { env: envFor(env), stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let lastOutput = start;
    child.stdout.setEncoding("utf8").on("data", (d) => ((stdout += d), (lastOutput = Date.now())));
    child.stderr.setEncoding("utf8").on("data", (d) => ((stderr += d), (lastOutput = Date.now())));
    child.on("error", reject);
    child.on("exit", () => {
      const exited = Date.now();
      child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr, ms: exited - start, lingered: exited - lastOutput }));
    });
    onSpawn?.(child);
  });
}

const pretty = (value) => `${JSON.stringify(value, null, 2)}\n`;
const show = (r) => `exit ${r.code}\n--- stdout\n${r.stdout.slice(0, 2000)}\n--- stderr\n${r.stderr}`;
function expectExit(r, code) {
  assert.equal(r.code, code, show(r));
}
/** stdout is one pretty-printed JSON value (2 spaces, trailing newline) and nothing else; returns it. */
function stdoutJson(r) {
  const value = JSON.parse(r.stdout);
  assert.equal(r.stdout, pretty(value), "stdout is exactly the pretty JSON");
  return value;
}
const withoutTime = ({ updated_at, ...job }) => job;

describe("the installed bin", PARALLEL, () => {
  test("npm linked node_modules/.bin/pulse-jobs to cli.js, which keeps its shebang", () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(INSTALLED, "package.json"), "utf8"));
    assert.deepEqual(manifest.bin, { "pulse-jobs": "./cli.js" });
    assert.equal(fs.realpathSync(BIN), fs.realpathSync(path.join(INSTALLED, "cli.js")));
    assert.match(fs.readFileSync(BIN, "utf8"), /^#!\/usr\/bin\/env node\n/);
  });

  test("--version prints the version of the package.json beside cli.js", async () => {
    const { version } = JSON.parse(fs.readFileSync(path.join(INSTALLED, "package.json"), "utf8"));
    const r = await cli(["--version"]);
    expectExit(r, 0);
    assert.equal(r.stdout, `${version}\n`);
    assert.equal(r.stderr, "");
  });

  test("--help (and -h) prints the usage with every command and the exit codes", async () => {
    for (const flag of ["--help", "-h"]) {
      const r = await cli([flag]);
      expectExit(r, 0);
      assert.match(r.stdout, /^Usage: pulse-jobs <command> \[options\]/);
      for (const word of ["wait <jobId>", "get <jobId>", "cancel <jobId>", "extract (--file PATH | --file-url URL) [--wait]", "--api-key", "--base-url", "--timeout", "--out", "--json", "--cancel-on-interrupt", "--version", "130"]) {
        assert.ok(r.stdout.includes(word), `help lacks ${word}`);
      }
      assert.equal(r.stderr, "");
    }
  });

  test("every command has its --help, listing only its options", async () => {
    for (const [command, has, lacks] of [
      ["wait", ["--timeout", "--cancel-on-interrupt"], ["--file"]],
      ["get", ["--out"], ["--timeout", "--file"]],
      ["cancel", ["--json"], ["--timeout", "--wait"]],
      ["extract", ["--file PATH", "--file-url URL", "--wait", "--timeout"], []],
    ]) {
      const r = await cli([command, "--help"]);
      expectExit(r, 0);
      assert.match(r.stdout, new RegExp(`^Usage: pulse-jobs ${command} `));
      const options = r.stdout.slice(r.stdout.indexOf("Options:"), r.stdout.indexOf("Exit codes:"));
      for (const word of has) assert.ok(options.includes(word), `${command} --help lacks ${word}`);
      for (const word of lacks) assert.ok(!options.includes(`${word} `), `${command} --help lists ${word}`);
    }
  });
});

describe("exit codes and output", PARALLEL, () => {
  test("wait: a completed job exits 0 with exactly the job's JSON on stdout", async () => {
    const id = jid("ok");
    const r = await cli(["wait", id]);
    expectExit(r, 0);
    const job = stdoutJson(r);
    const direct = await P.waitForJob(id, { baseUrl: m.apiUrl });
    assert.deepEqual(withoutTime(job), withoutTime(direct), "the same job waitForJob resolves with");
    assert.ok(r.lingered < 500 + SLACK, `exited ${r.lingered} ms after printing: nothing may keep the process alive`);
  });

  test("wait: failed, canceled and expired jobs exit 2 with their code on stderr and nothing on stdout", async () => {
    const outcomes = [["failed", "JOB_FAILED"], ["canceled", "JOB_CANCELED"], ["expired", "JOB_EXPIRED"]];
    await Promise.all(
      outcomes.map(async ([scenario, code]) => {
        const r = await cli(["wait", jid(scenario)]);
        expectExit(r, 2);
        assert.equal(r.stdout, "");
        assert.match(r.stderr, new RegExp(`^pulse-jobs: ${code}: `, "m"));
      }),
    );
  });

  test("wait --timeout on a job that never answers exits 3 (TIMEOUT) soon after", async () => {
    const id = jid("hang");
    // The wait's time counts from the call, and a process's first fetch loads
    // Node's HTTP client (hundreds of ms on a busy machine): SLACK for that,
    // so that the poll reaches the mock before the time is up.
    const r = await cli(["wait", id, "--timeout", `${300 + SLACK}ms`]);
    expectExit(r, 3);
    assert.match(r.stderr, /^pulse-jobs: TIMEOUT: /m);
    assert.equal(r.stdout, "");
    const [poll] = m.pollsFor(id);
    assert.ok(poll.closedEarly, "the hanging poll was given up");
    assert.ok(r.lingered < 500 + SLACK, `exited ${r.lingered} ms after the error: nothing may keep the process alive`);
  });

  test("an HTTP error exits 1; a value the package refuses (INVALID_ARGUMENT) exits 4", async () => {
    const http = await cli(["wait", jid("status_500")]);
    expectExit(http, 1);
    assert.match(http.stderr, /^pulse-jobs: HTTP_ERROR: .*500/m);
    const invalid = await cli(["wait", jid("ok"), "--base-url", "ftp://example.com"]);
    expectExit(invalid, 4);
    assert.match(invalid.stderr, /^pulse-jobs: INVALID_ARGUMENT: /m);
  });

  test("get prints the job as sent (a large result stays a pointer); exit 0", async () => {
    const id = jid("large_600000");
    const r = await cli(["get", id]);
    expectExit(r, 0);
    const job = stdoutJson(r);
    assert.equal(job.job_id, id);
    assert.equal(job.result.is_url, true);
    assert.equal(m.storageFor(id).length, 0, "get downloads nothing");
  });

  test("cancel sends DELETE and prints the API's answer; exit 0", async () => {
    const id = jid("steps_5");
    const r = await cli(["cancel", id]);
    expectExit(r, 0);
    assert.deepEqual(stdoutJson(r), { job_id: id, message: "Job canceled" });
    assert.deepEqual(m.apiFor(id).map((x) => x.method), ["DELETE"]);
  });

  test("--out writes the finished job, its large result downloaded, to the file; stdout stays empty", async () => {
    const id = jid("large_600000");
    const file = path.join(scratch, `${id}.json`);
    const r = await cli(["wait", id, "--out", file]);
    expectExit(r, 0);
    assert.equal(r.stdout, "");
    const text = fs.readFileSync(file, "utf8");
    const job = JSON.parse(text);
    assert.equal(text, pretty(job));
    assert.equal(job.status, "completed");
    assert.equal(typeof job.result.markdown, "string", "the pointer was replaced by the downloaded document");
    assert.equal(m.storageFor(id).length, 1);
    assert.match(r.stderr, /wrote /);
  });

  test("not on a TTY: one plain status line per change on stderr, no \\r and no escape sequence", async () => {
    const id = jid("steps_2");
    const r = await cli(["wait", id]);
    expectExit(r, 0);
    stdoutJson(r);
    const lines = r.stderr.trimEnd().split("\n");
    assert.match(lines[0], new RegExp(`^job ${id}: pending \\(poll 1, \\d+\\.\\d s\\)$`));
    assert.match(lines[1], new RegExp(`^job ${id}: processing \\(poll 2, \\d+\\.\\d s\\)$`));
    assert.match(lines[2], new RegExp(`^job ${id}: completed \\(poll 3, \\d+\\.\\d s\\)$`));
    assert.equal(lines.length, 3, r.stderr);
    assert.ok(!/[\r\u001b]/.test(r.stderr), "no \\r or escape sequence");
  });

  test("not on a TTY: a large download reports its start and end, one line each", async () => {
    const id = jid("large_2000000");
    const r = await cli(["wait", id]);
    expectExit(r, 0);
    assert.match(r.stderr, new RegExp(`^job ${id}: downloading the result \\(2\\.0 MB\\)$`, "m"));
    assert.match(r.stderr, new RegExp(`^job ${id}: downloaded 2\\.0 MB in \\d+\\.\\d s$`, "m"));
    assert.equal(stdoutJson(r).result.page_count > 0, true);
  });

  test("--json: no status lines on success; a failure is one JSON object on stderr", async () => {
    const ok = await cli(["wait", jid("steps_1"), "--json"]);
    expectExit(ok, 0);
    assert.equal(ok.stderr, "");
    stdoutJson(ok);

    const http = await cli(["get", jid("status_404"), "--json"]);
    expectExit(http, 1);
    assert.equal(http.stdout, "");
    assert.equal(http.stderr.split("\n").length, 2, "one line");
    const error = JSON.parse(http.stderr);
    assert.deepEqual(Object.keys(error).sort(), ["code", "httpStatus", "message"]);
    assert.equal(error.code, "HTTP_ERROR");
    assert.equal(error.httpStatus, 404);

    const job = await cli(["wait", jid("failed"), "--json"]);
    expectExit(job, 2);
    assert.deepEqual(Object.keys(JSON.parse(job.stderr)).sort(), ["code", "message"]);
    assert.equal(JSON.parse(job.stderr).code, "JOB_FAILED");
  });

  test("the key comes from --api-key or PULSE_API_KEY, and is sent", async () => {
    const a = jid("ok");
    const b = jid("ok");
    expectExit(await cli(["wait", a, "--api-key", KEY]), 0);
    expectExit(await cli(["wait", b], { env: { PULSE_API_KEY: KEY } }), 0);
    assert.equal(m.pollsFor(a)[0].headers["x-api-key"], KEY);
    assert.equal(m.pollsFor(b)[0].headers["x-api-key"], KEY);
  });
});

describe("usage errors exit 4 and send nothing", PARALLEL, () => {
  const id = jid("ok");
  const cases = [
    [],
    ["nope"],
    ["wait"],
    ["get"],
    ["cancel"],
    ["wait", id, "extra"],
    ["wait", id, "--bogus"],
    ["wait", id, "-x"],
    ["wait", id, "--json=yes"],
    ["wait", id, "--timeout"],
    ["wait", id, "--timeout", "5"],
    ["wait", id, "--timeout", "soon"],
    ["wait", id, "--timeout", "-1s"],
    ["wait", id, "--timeout", "1.5d"],
    ["get", id, "--timeout", "1s"],
    ["cancel", id, "--cancel-on-interrupt"],
    ["wait", id, "--file", "a.pdf"],
    ["extract"],
    ["extract", "--wait"],
    ["extract", "--file", "a.pdf", "--file-url", "https://example.com/a.pdf"],
    ["extract", "--file-url", "https://example.com/a.pdf", "--timeout", "1m"],
    ["extract", "--file-url", "https://example.com/a.pdf", "positional"],
    ["wait", id, "--api-key", ""],
  ];
  for (const args of cases) {
    test(`pulse-jobs ${args.join(" ") || "(nothing)"}`, async () => {
      const r = await cli(args);
      expectExit(r, 4);
      assert.equal(r.stdout, "");
      assert.match(r.stderr, /^pulse-jobs: USAGE: .+\nRun "pulse-jobs (\w+ )?--help" for usage\.\n$/);
      assert.equal(m.requestsFor(id).length, 0, "nothing reached the mock");
    });
  }

  test("with --json the usage error is one JSON object", async () => {
    const r = await cli(["wait", "--json"]);
    expectExit(r, 4);
    const error = JSON.parse(r.stderr);
    assert.equal(error.code, "USAGE");
    assert.equal(typeof error.message, "string");
  });
});

describe("the key is never printed", PARALLEL, () => {
  const runs = [
    ["a server that echoes the key (401)", () => ["wait", jid("echo_401"), "--api-key", KEY]],
    ["a failed job whose error holds the key", () => ["wait", jid("failedecho")], { PULSE_API_KEY: KEY }],
    ["--api-key=KEY and an HTTP error, --json", () => ["get", jid("echo_500"), `--api-key=${KEY}`, "--json"]],
    ["a usage error after --api-key", () => ["wait", "--api-key", KEY, "--bogus"]],
    ["a usage error: missing id", () => ["wait", "--api-key", KEY]],
    ["a usage error: unknown command", () => ["--api-key", KEY, KEY]],
    ["an ambiguous value", () => ["wait", jid("ok"), "--api-key", `-${KEY}`]],
    ["a timeout", () => ["wait", jid("hang"), "--timeout", "200ms", "--api-key", KEY]],
  ];
  for (const [name, args, env] of runs) {
    test(name, async () => {
      const r = await cli(args(), { env });
      assert.notEqual(r.code, 0, show(r));
      assert.ok(!r.stdout.includes(KEY), `stdout holds the key:\n${show(r)}`);
      assert.ok(!r.stderr.includes(KEY), `stderr holds the key:\n${show(r)}`);
    });
  }

  test("the echoing server did receive the key (so the test means something)", async () => {
    const id = jid("echo_401");
    const r = await cli(["wait", id, "--api-key", KEY]);
    expectExit(r, 1);
    assert.equal(m.apiFor(id)[0].headers["x-api-key"], KEY);
    assert.match(r.stderr, /HTTP_ERROR/);
  });
});

/** Every string in a parsed JSON value, property names included. */
function stringsIn(value) {
  if (typeof value === "string") return [value];
  if (value === null || typeof value !== "object") return [];
  return Object.entries(value).flatMap(([name, item]) => [...(Array.isArray(value) ? [] : [name]), ...stringsIn(item)]);
}

/** The key is in no form a reader of `text` (a JSON text) could get it back from. */
function assertNoKey(text, key, where) {
  assert.ok(!text.includes(key), `${where} holds the key`);
  assert.ok(!text.includes(JSON.stringify(key).slice(1, -1)), `${where} holds the key JSON-escaped`);
  const holding = stringsIn(JSON.parse(text)).filter((s) => s.includes(key));
  assert.deepEqual(holding, [], `${where} holds the key once parsed`);
}

/**
 * A stand-in API on a real socket whose jobs quote the request's x-api-key the
 * ways a JSON text can: with `\/` and `\uXXXX` escapes, in a property name,
 * inside an array. (The mock quotes it only as JSON.stringify writes it.)
 */
async function startQuotingServer() {
  const escape = (key) => [...key].map((ch) => (ch === "/" ? "\\/" : ch === '"' || ch === "\\" ? `\\${ch}` : /[a-z]/.test(ch) ? `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}` : ch)).join("");
  const server = http.createServer((req, res) => {
    const id = decodeURIComponent(req.url.split("/").pop());
    const quoted = escape(req.headers["x-api-key"] ?? "");
    const body = `{"job_id":${JSON.stringify(id)},"status":"failed","error":"could not parse; key was ${quoted}","details":{"${quoted}":["${quoted}",1]}}`;
    res.writeHead(200, { "content-type": "application/json" }).end(body);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((resolve) => server.close(resolve)) };
}

describe("the JSON output holds no key", PARALLEL, () => {
  test("get of a job whose error quotes the key: stdout and --out are redacted", async () => {
    const id = jid("failedecho");
    const r = await cli(["get", id], { env: { PULSE_API_KEY: KEY } });
    expectExit(r, 0);
    assertNoKey(r.stdout, KEY, "stdout");
    assert.equal(stdoutJson(r).error, "could not parse; key was [redacted]");
    assert.equal(m.apiFor(id)[0].headers["x-api-key"], KEY, "the mock was sent the key it quoted");

    const file = path.join(scratch, `${id}.json`);
    const o = await cli(["get", jid("failedecho"), "--out", file, `--api-key=${KEY}`]);
    expectExit(o, 0);
    const text = fs.readFileSync(file, "utf8");
    assertNoKey(text, KEY, "--out");
    assert.equal(JSON.parse(text).error, "could not parse; key was [redacted]");
  });

  test("a key with \" and \\ in it, quoted with \\/ and \\u escapes, in a value and a property name, stays out", async () => {
    const server = await startQuotingServer();
    try {
      const key = 'sk-"quoted"\\back/slash-9f2e';
      const r = await cli(["get", "quoting-1", "--api-key", key, "--base-url", server.url]);
      expectExit(r, 0);
      assertNoKey(r.stdout, key, "stdout");
      const job = JSON.parse(r.stdout);
      assert.equal(job.error, "could not parse; key was [redacted]");
      assert.deepEqual(job.details, { "[redacted]": ["[redacted]", 1] });
      assert.ok(!r.stderr.includes(key), r.stderr);
    } finally {
      await server.close();
    }
  });
});

describe("the JSON is never lost", PARALLEL, () => {
  const dir = fs.mkdtempSync(path.join(scratch, "out-"));
  const missing = path.join(dir, "no", "such", "dir", "x.json");
  const escaped = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

  for (const command of ["wait", "get", "cancel"]) {
    test(`${command} --out in a missing directory: exit 1 OUTPUT_FAILED, nothing sent`, async () => {
      const id = jid("steps_1");
      const r = await cli([command, id, "--out", missing]);
      assert.deepEqual(m.requestsFor(id), [], "nothing reached the mock");
      expectExit(r, 1);
      assert.match(r.stderr, new RegExp(`^pulse-jobs: OUTPUT_FAILED: cannot write --out ${escaped(missing)}: ENOENT: no such file or directory\n$`));
      assert.equal(r.stdout, "");
    });
  }

  test("extract --wait --out in a missing directory: exit 1 OUTPUT_FAILED, nothing submitted", { skip: WAITS_ON_SUBMIT }, async () => {
    const url = `https://example.com/${jid("never-sent")}.pdf`;
    const r = await cli(["extract", "--file-url", url, "--wait", "--out", missing, "--json"]);
    assert.deepEqual(m.mock.requests.filter((x) => JSON.stringify(x.body ?? null).includes(url)), [], "nothing submitted");
    expectExit(r, 1);
    assert.deepEqual(JSON.parse(r.stderr), { code: "OUTPUT_FAILED", message: `cannot write --out ${missing}: ENOENT: no such file or directory` });
  });

  test("--out naming a directory: exit 1 OUTPUT_FAILED (EISDIR), nothing sent", async () => {
    const id = jid("ok");
    const r = await cli(["wait", id, "--out", dir]);
    assert.deepEqual(m.requestsFor(id), [], "nothing reached the mock");
    expectExit(r, 1);
    assert.match(r.stderr, new RegExp(`^pulse-jobs: OUTPUT_FAILED: cannot write --out ${escaped(dir)}: EISDIR`, "m"));
  });

  test("--out under a real file-size limit (ulimit -f 200): exit 1 EFBIG, the old file intact, no temp file", async () => {
    const sub = fs.mkdtempSync(path.join(dir, "limit-"));
    const file = path.join(sub, "job.json");
    const old = Buffer.from(`${JSON.stringify({ previous: "run", note: "ünïcode ✓", pad: "x".repeat(3000) })}\n`);
    fs.writeFileSync(file, old);
    const id = jid("large_600000"); // about 600 KB of JSON, over 200 blocks of 1 KB
    const r = await cli(["wait", id, "--out", file], { via: 'ulimit -f 200; exec "$@"' });
    assert.equal(m.storageFor(id).length, 1, "the result was downloaded, so the write was tried");
    assert.ok(fs.readFileSync(file).equals(old), `the old file, byte for byte (now ${fs.statSync(file).size} bytes)`);
    assert.deepEqual(fs.readdirSync(sub), ["job.json"], "no temp file left");
    expectExit(r, 1);
    assert.equal(r.signal, null, "not killed by SIGXFSZ");
    assert.match(r.stderr, new RegExp(`^pulse-jobs: OUTPUT_FAILED: cannot write --out ${escaped(file)}: EFBIG: file too large$`, "m"));
  });

  test("stdout redirected to a file under ulimit -f 200: exit 1 EFBIG, not a truncated file and exit 0", async () => {
    const file = path.join(fs.mkdtempSync(path.join(dir, "stdout-")), "job.json");
    const r = await cli(["wait", jid("large_600000"), file], { via: 'f="${@: -1}"; set -- "${@:1:$#-1}"; ulimit -f 200; exec "$@" > "$f"' });
    expectExit(r, 1);
    assert.equal(r.signal, null, "not killed by SIGXFSZ");
    assert.match(r.stderr, /^pulse-jobs: OUTPUT_FAILED: cannot write the JSON to stdout: EFBIG: file too large$/m);
  });

  test("--out replaces a file whole, keeps its mode, writes through a symlink, leaves no temp file", async () => {
    const sub = fs.mkdtempSync(path.join(dir, "replace-"));
    const file = path.join(sub, "job.json");
    fs.writeFileSync(file, "y".repeat(100_000), { mode: 0o640 });
    fs.chmodSync(file, 0o640);
    fs.symlinkSync("job.json", path.join(sub, "link.json"));
    const r = await cli(["wait", jid("ok"), "--out", path.join(sub, "link.json")]);
    expectExit(r, 0);
    const text = fs.readFileSync(file, "utf8");
    assert.equal(text, pretty(JSON.parse(text)));
    assert.equal(fs.statSync(file).mode & 0o777, 0o640);
    assert.ok(fs.lstatSync(path.join(sub, "link.json")).isSymbolicLink(), "the link stays a link");
    assert.deepEqual(fs.readdirSync(sub).sort(), ["job.json", "link.json"]);
  });

  test("stdout closed (>&-): exit 1 OUTPUT_FAILED before anything is sent; >/dev/null still exits 0", async () => {
    const id = jid("ok");
    const r = await cli(["wait", id], { via: 'exec "$@" >&-' });
    expectExit(r, 1);
    assert.match(r.stderr, /^pulse-jobs: OUTPUT_FAILED: stdout is closed/m);
    assert.deepEqual(m.requestsFor(id), [], "nothing reached the mock");

    const discarded = jid("ok");
    expectExit(await cli(["wait", discarded], { via: 'exec "$@" >/dev/null' }), 0);
    assert.equal(m.pollsFor(discarded).length, 1);
  });

  test("stdout's reader leaving early (| head -c 10): exit 1 OUTPUT_FAILED, EPIPE", async () => {
    const id = jid("large_600000"); // far more than a pipe's buffer holds: the write meets the closed pipe
    const r = await cli(["wait", id], { via: '"$@" | head -c 10 >/dev/null; exit "${PIPESTATUS[0]}"' });
    expectExit(r, 1);
    assert.match(r.stderr, /^pulse-jobs: OUTPUT_FAILED: the JSON was cut short: the reader of stdout closed the pipe \(EPIPE\)$/m);
  });
});

describe("interrupts", PARALLEL, () => {
  /** Starts a wait on a job that never ends, sends SIGINT after its first poll. */
  async function interrupt(extra) {
    const id = jid("steps_100000");
    const r = await cli(["wait", id, ...extra], {
      onSpawn: async (child) => {
        await m.waitFor(id, (recs) => recs.length >= 1, 10_000);
        child.kill("SIGINT");
      },
    });
    return { id, r };
  }

  test("SIGINT aborts the wait: exit 130, the job is left running", async () => {
    const { id, r } = await interrupt([]);
    expectExit(r, 130);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, new RegExp(`^pulse-jobs: ABORTED: interrupted; job ${id} goes on`, "m"));
    await sleep(200);
    assert.ok(!m.apiFor(id).some((x) => x.method === "DELETE"), "no DELETE");
  });

  test("SIGINT with --cancel-on-interrupt: exit 130 and the mock saw the DELETE", async () => {
    const { id, r } = await interrupt(["--cancel-on-interrupt"]);
    expectExit(r, 130);
    const deletes = m.apiFor(id).filter((x) => x.method === "DELETE");
    assert.equal(deletes.length, 1, "one DELETE");
    assert.equal(deletes[0].path, `/job/${id}`);
    assert.match(r.stderr, new RegExp(`interrupted; job ${id} canceled on the server`));
  });

  test("SIGINT with --cancel-on-interrupt --json: { code: ABORTED, cancelConfirmed: true }", async () => {
    const { r } = await interrupt(["--cancel-on-interrupt", "--json"]);
    expectExit(r, 130);
    const error = JSON.parse(r.stderr);
    assert.equal(error.code, "ABORTED");
    assert.equal(error.cancelConfirmed, true);
  });
});

describe("extract", { ...PARALLEL, skip: WAITS_ON_SUBMIT }, () => {
  const submissions = (jobId) => m.mock.requests.filter((r) => r.method === "POST" && r.jobId === jobId);

  test("--file-url without --wait prints the submission (JSON body with file_url); exit 0", async () => {
    const url = "https://example.com/report.pdf";
    const r = await cli(["extract", "--file-url", url, "--api-key", KEY]);
    expectExit(r, 0);
    const answer = stdoutJson(r);
    assert.equal(typeof answer.job_id, "string");
    assert.equal(answer.status, "pending");
    const [post] = submissions(answer.job_id);
    assert.equal(post.path, "/extract");
    assert.equal(post.headers["x-api-key"], KEY);
    assert.equal(post.body.kind, "json");
    assert.equal(post.body.fields.file_url, url);
    assert.equal(post.body.async, true);
    assert.equal(m.pollsFor(answer.job_id).length, 0, "no wait without --wait");
  });

  test("--file --wait uploads the file (multipart) and prints the finished job; exit 0", async () => {
    const file = path.join(scratch, "invoice.pdf");
    fs.writeFileSync(file, Buffer.alloc(12_345, 7));
    const r = await cli(["extract", "--file", file, "--wait"]);
    expectExit(r, 0);
    const job = stdoutJson(r);
    assert.equal(job.status, "completed");
    const [post] = submissions(job.job_id);
    assert.equal(post.body.kind, "multipart");
    assert.equal(post.body.async, true);
    assert.equal(post.body.fields.file.filename, "invoice.pdf");
    assert.equal(post.body.fields.file.size, 12_345);
    assert.match(r.stderr, new RegExp(`^job ${job.job_id}: submitted$`, "m"));
    assert.match(r.stderr, new RegExp(`^job ${job.job_id}: completed \\(poll \\d+`, "m"));
  });

  test("--file without fs.openAsBlob (Node 18) reads the file whole and uploads the same part", async () => {
    const file = path.join(scratch, "scan.png");
    fs.writeFileSync(file, Buffer.alloc(4_321, 1));
    const preload = pathToFileURL(path.join(repoRoot, "tests", "js", "support", "no-open-as-blob.mjs")).href;
    const r = await cli(["extract", "--file", file, "--json"], { env: { NODE_OPTIONS: `--import=${preload}` } });
    expectExit(r, 0);
    const [post] = submissions(stdoutJson(r).job_id);
    assert.deepEqual([post.body.fields.file.filename, post.body.fields.file.size], ["scan.png", 4_321]);
  });

  test("--file that cannot be read exits 4 and sends nothing", async () => {
    const r = await cli(["extract", "--file", path.join(scratch, "missing.pdf")]);
    expectExit(r, 4);
    assert.match(r.stderr, /^pulse-jobs: INVALID_ARGUMENT: cannot read --file .*ENOENT/m);
    // Other tests of this suite submit at the same time: look for this one's file only.
    const sent = m.mock.requests.filter((x) => x.method === "POST" && JSON.stringify(x.body ?? null).includes("missing.pdf"));
    assert.deepEqual(sent, []);
  });
});

// ---- the live view on a real terminal ------------------------------------------------

const quote = (s) => `'${String(s).replace(/'/g, "'\\''")}'`;

/**
 * Runs a shell command on a pseudo-terminal (util-linux `script`), 100x10;
 * resolves with everything the terminal received.
 */
function onTty(command, env) {
  return new Promise((resolve, reject) => {
    const child = spawn("script", ["-qfec", `stty cols 100 rows 10; ${command}`, "/dev/null"], { env: envFor(env), stdio: ["ignore", "pipe", "pipe"] });
    let raw = "";
    child.stdout.setEncoding("utf8").on("data", (d) => (raw += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, raw }));
  });
}

/** The frames drawn in place (\r + clear-line) and the lines that ended, in order. */
function frames(raw) {
  return raw
    .split(/\r\u001b\[2K|\r?\n/)
    .map((f) => f.replace(/\r/g, ""))
    .filter((f) => f !== "");
}

/** What the terminal shows at the end: \r, clear-line and newlines applied. */
function screen(raw) {
  const rows = [""];
  let col = 0;
  for (let i = 0; i < raw.length; i += 1) {
    const ch = raw[i];
    if (raw.startsWith("\u001b[2K", i)) {
      rows[rows.length - 1] = "";
      i += 3;
    } else if (ch === "\r") col = 0;
    else if (ch === "\n") {
      rows.push("");
      col = 0;
    } else {
      const row = rows[rows.length - 1];
      rows[rows.length - 1] = row.slice(0, col) + ch + row.slice(col + 1);
      col += 1;
    }
  }
  return rows.join("\n").trimEnd();
}

const hasScript = (() => {
  try {
    execFileSync("script", ["-qfec", "true", "/dev/null"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

describe("on a TTY", { skip: hasScript ? false : "util-linux script is not installed" }, () => {
  let slow;
  before(async () => {
    // 6 MB dripped at 64 KB every 25 ms: about 2.5 s of download, a dozen frames.
    slow = await startSlowStorageMock({ chunkBytes: 64 * 1024, intervalMs: 25 });
  });
  after(() => slow?.close());

  test("a live status line with a countdown, then a download progress bar; written to test-output/cli/tty-capture.txt", async () => {
    const out = path.join(scratch, "tty-result.json");
    const pollId = jid("steps_2");
    const polling = await onTty(`${quote(BIN)} wait ${quote(pollId)} > ${quote(out)}`);
    assert.equal(polling.code, 0, polling.raw);
    const pollFrames = frames(polling.raw);
    assert.ok(polling.raw.includes("\r\u001b[2K"), "rewrites its line in place");
    assert.ok(pollFrames.some((f) => new RegExp(`^job ${pollId}: pending \\(poll 1, \\d+\\.\\d s; next poll in \\d+\\.\\d s\\)$`).test(f)), pollFrames.join("\n"));
    const countdowns = pollFrames.filter((f) => f.includes(": pending (poll 1,")).length;
    assert.ok(countdowns >= 3, `the line ticks between polls (${countdowns} frames during the first 1 s delay)`);
    assert.match(screen(polling.raw), new RegExp(`job ${pollId}: completed \\(poll 3, \\d+\\.\\d s\\)$`), "the last frame stays, on its own line");
    assert.equal(JSON.parse(fs.readFileSync(out, "utf8")).status, "completed", "stdout (redirected) got the job");

    const dlId = "large_6000000-tty1"; // short, so that the whole bar fits 100 columns (this mock is the test's own)
    const started = Date.now();
    const download = await onTty(`${quote(BIN)} wait ${quote(dlId)} --out ${quote(out)}`, { PULSE_BASE_URL: slow.apiUrl });
    const ms = Date.now() - started;
    assert.equal(download.code, 0, download.raw);
    const dlFrames = frames(download.raw);
    const bars = dlFrames.filter((f) => /: downloading \[[=> ]{20}\] \d+% [\d.]+ [KM]?B \/ 6\.0 MB at [\d.]+ [KM]?B\/s$/.test(f));
    assert.ok(bars.length >= 3, `progress bar frames: ${bars.length}\n${dlFrames.join("\n")}`);
    assert.ok(bars.some((f) => / [1-9]\d?% /.test(f)), "a bar part way through");
    assert.match(screen(download.raw), new RegExp(`job ${dlId}: completed \\(poll 1, \\d+\\.\\d s; result 6\\.0 MB downloaded\\)\\s+wrote `));
    assert.equal(typeof JSON.parse(fs.readFileSync(out, "utf8")).result.markdown, "string");
    for (const f of [...pollFrames, ...dlFrames]) assert.ok(f.length < 100, `a frame wider than the terminal: ${f}`);

    const capture = [
      "pulse-jobs on a 100x10 pseudo-terminal (util-linux script), stderr as the terminal received it.",
      "Each frame below was drawn over the previous one with \\r + ESC[2K (clear line).",
      "",
      `$ pulse-jobs wait ${pollId} > result.json`,
      ...dedupe(pollFrames).map((f) => `  | ${f}`),
      "",
      "The screen at the end:",
      ...screen(polling.raw).split("\n").map((l) => `  > ${l}`),
      "",
      `$ pulse-jobs wait ${dlId} --out result.json     (storage dripping 6 MB at ~2.6 MB/s; took ${(ms / 1000).toFixed(1)} s)`,
      ...dedupe(dlFrames).map((f) => `  | ${f}`),
      "",
      "The screen at the end:",
      ...screen(download.raw).split("\n").map((l) => `  > ${l}`),
      "",
    ].join("\n");
    const dir = path.join(repoRoot, "test-output", "cli");
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "tty-capture.txt"), capture);
  });

  test("--json on a TTY draws nothing", async () => {
    const out = path.join(scratch, "tty-json.json");
    const r = await onTty(`${quote(BIN)} wait ${quote(jid("steps_1"))} --json > ${quote(out)}`);
    assert.equal(r.code, 0);
    assert.equal(r.raw, "");
  });
});

/** Consecutive duplicates dropped (the final frame is drawn twice: last tick, then to stay). */
function dedupe(list) {
  return list.filter((f, i) => f !== list[i - 1]);
}
