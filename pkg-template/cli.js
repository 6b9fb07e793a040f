#!/usr/bin/env node
// The `pulse-jobs` command: wait for, read, cancel and submit Pulse jobs from
// a shell. Node 18.3+ (node:util parseArgs), no dependencies. stdout carries
// only the JSON asked for, so `pulse-jobs wait ID | jq` works; status goes
// to stderr. Node-only, shipped unminified (assemble.js copies it as is).

import { randomBytes } from "node:crypto";
import fs from "node:fs";
import { basename, dirname, join } from "node:path";
import util from "node:util";
import v8 from "node:v8";

const EXIT = { ok: 0, error: 1, jobEnded: 2, timeout: 3, usage: 4 };
const EXIT_FOR_CODE = { JOB_FAILED: 2, JOB_CANCELED: 2, JOB_EXPIRED: 2, TIMEOUT: 3, INVALID_ARGUMENT: 4, USAGE: 4 };
const SIGNAL_EXIT = { SIGINT: 130, SIGTERM: 143 };
const TICK_MS = 200;

const OPTIONS = {
  "api-key": { type: "string", arg: "KEY", help: "API key (default: $PULSE_API_KEY)" },
  "base-url": { type: "string", arg: "URL", help: "API base URL (default: $PULSE_BASE_URL, else https://api.runpulse.com)" },
  file: { type: "string", arg: "PATH", help: "the document to upload (multipart)" },
  "file-url": { type: "string", arg: "URL", help: "a URL the API fetches the document from" },
  wait: { type: "boolean", help: "wait for the submitted job and print it finished" },
  timeout: { type: "string", arg: "TIME", help: "give up waiting after TIME: 500ms, 90s, 30m, 2h; 0 = never (default 30m)" },
  out: { type: "string", arg: "FILE", help: "write the JSON to FILE instead of stdout (checked first, replaced atomically)" },
  json: { type: "boolean", help: "machine output only: no status lines; a failure is one JSON object on stderr" },
  "cancel-on-interrupt": { type: "boolean", help: "on Ctrl-C (or at --timeout) also cancel the job on the server" },
  help: { type: "boolean", short: "h", help: "show this help" },
  version: { type: "boolean", help: "print the version" },
};
const COMMON = ["api-key", "base-url", "out", "json", "help", "version"];
const WAITING = ["timeout", "cancel-on-interrupt"];
const COMMANDS = {
  wait: { args: "<jobId>", about: "Wait until the job ends and print it, its large result downloaded.", options: [...WAITING, ...COMMON] },
  get: { args: "<jobId>", about: "Read the job once and print it as the API sent it.", options: COMMON },
  cancel: { args: "<jobId>", about: "Cancel a pending or processing job and print the API's answer.", options: COMMON },
  extract: {
    args: "(--file PATH | --file-url URL) [--wait]",
    about: "Submit a document; print the submission, or with --wait the finished job.",
    options: ["file", "file-url", "wait", ...WAITING, ...COMMON],
  },
};
const EXIT_CODES = `Exit codes:
  0    done (the job completed; get, cancel or a submission succeeded)
  1    any other error (HTTP, network, invalid response, output not written, ...)
  2    the job failed, was canceled or expired
  3    timeout (--timeout passed)
  4    usage error or invalid argument
  130  interrupted (Ctrl-C; 143 for SIGTERM)`;

/** A failure of our own (usage, files) shaped like a PulseError for the exit code and --json. */
class CliError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

// ---- text -------------------------------------------------------------------

function optionLines(names) {
  const rows = names.map((name) => {
    const { short, arg, help } = OPTIONS[name];
    return [`${short ? `-${short}, ` : "    "}--${name}${arg ? ` ${arg}` : ""}`, help];
  });
  const width = Math.max(...rows.map(([left]) => left.length)) + 2;
  return rows.map(([left, help]) => `  ${left.padEnd(width)}${help}`).join("\n");
}

function usageText(command) {
  if (command) {
    const { args, about, options } = COMMANDS[command];
    return `Usage: pulse-jobs ${command} ${args} [options]\n\n${about}\n\nOptions:\n${optionLines(options)}\n\n${EXIT_CODES}\n`;
  }
  const commands = Object.entries(COMMANDS)
    .map(([name, { args, about }]) => `  ${name} ${args}\n      ${about}`)
    .join("\n");
  const all = Object.keys(OPTIONS).filter((name) => name !== "help" && name !== "version");
  return `Usage: pulse-jobs <command> [options]

Wait for, read, cancel and submit jobs of the Pulse document-extraction API.
The JSON goes to stdout (or --out FILE); status lines go to stderr.

Commands:
${commands}

Options:
${optionLines([...all, "help", "version"])}

${EXIT_CODES}

Run "pulse-jobs <command> --help" for a command's options.
`;
}

/** The key's value wherever argv or the environment holds it, to blank out of anything we print. */
function secretsIn(argv, env) {
  const secrets = [env.PULSE_API_KEY];
  argv.forEach((arg, i) => {
    if (arg === "--api-key") secrets.push(argv[i + 1]);
    else if (arg.startsWith("--api-key=")) secrets.push(arg.slice("--api-key=".length));
  });
  // Very short values would blank out ordinary words; they are no secret worth the mangling.
  return secrets.filter((s) => typeof s === "string" && s.length >= 4);
}

/**
 * Blanks out each secret as it is, JSON-escaped (a `"` or `\` in it, as a JSON
 * text holds it) and percent-encoded (as a URL would).
 */
function redactor(secrets) {
  const forms = [...new Set(secrets.flatMap((s) => [s, JSON.stringify(s).slice(1, -1), encodeURIComponent(s)]))];
  return (text) => forms.reduce((out, form) => (out.includes(form) ? out.split(form).join("[redacted]") : out), String(text));
}

/**
 * A copy of a parsed JSON value with every string, property names included,
 * redacted: JSON.stringify would escape a key's `"` or `\`, and a server's
 * `\/` or `\u0070` escapes were decoded when it was parsed, so the text alone
 * is searched too late.
 */
function redactValue(value, redact) {
  if (typeof value === "string") return redact(value);
  if (Array.isArray(value)) return value.map((item) => redactValue(item, redact));
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(Object.entries(value).map(([name, item]) => [redact(name), redactValue(item, redact)]));
}

// Our own text may echo argv or server strings: no escape sequence gets to the terminal.
const printable = (text) => String(text).replace(/[\u0000-\u001f\u007f-\u009f]/g, "?");
const seconds = (ms) => `${(Math.max(0, ms) / 1000).toFixed(1)} s`;

function bytes(n) {
  if (n < 1e3) return `${n} B`;
  if (n < 1e6) return `${(n / 1e3).toFixed(1)} KB`;
  if (n < 1e9) return `${(n / 1e6).toFixed(1)} MB`;
  return `${(n / 1e9).toFixed(2)} GB`;
}

/** The pretty JSON we print, without the key: its strings cleaned first, then the text (a key that spans JSON syntax). */
const jsonText = (value, redact) => redact(`${JSON.stringify(redactValue(value, redact), null, 2)}\n`);

// ---- arguments --------------------------------------------------------------

/** "30m" -> 1800000; units ms, s, m, h; "0" alone means no limit. */
function parseDuration(text) {
  if (text === "0") return 0;
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text);
  const ms = match && Math.round(Number(match[1]) * { ms: 1, s: 1e3, m: 6e4, h: 36e5 }[match[2]]);
  if (!Number.isSafeInteger(ms) || ms <= 0) throw new CliError("USAGE", "--timeout takes a duration such as 500ms, 90s, 30m or 2h (0 = no limit)");
  return ms;
}

/** argv -> { command, values, rest } (rest: the positionals after the command); throws CliError("USAGE") with a message that echoes no value. */
function parseCommandLine(argv) {
  const options = Object.fromEntries(Object.entries(OPTIONS).map(([name, { type, short }]) => [name, short ? { type, short } : { type }]));
  let parsed;
  try {
    parsed = util.parseArgs({ args: argv, options, strict: true, allowPositionals: true });
  } catch (error) {
    // Node's own text goes on about "--" and repeats the option: the name is enough.
    const name = /'(-[^' ]*)/.exec(error.message)?.[1] ?? "";
    if (error.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") throw new CliError("USAGE", `unknown option ${name}`);
    throw new CliError("USAGE", error.message.split("\n")[0]);
  }
  const { values, positionals } = parsed;
  const [command, ...rest] = positionals;
  if (command === undefined) {
    if (values.help || values.version) return { command, values, rest };
    throw new CliError("USAGE", "missing command");
  }
  if (!Object.hasOwn(COMMANDS, command)) throw new CliError("USAGE", `unknown command "${printable(command).slice(0, 40)}"`);
  if (values.help || values.version) return { command, values, rest };
  const spec = COMMANDS[command];
  const stray = Object.keys(values).find((name) => !spec.options.includes(name));
  if (stray) throw new CliError("USAGE", `--${stray} does not apply to "${command}"`);
  checkArguments(command, values, rest);
  return { command, values, rest };
}

function checkArguments(command, values, rest) {
  if (command === "extract") {
    if (rest.length > 0) throw new CliError("USAGE", "extract takes no positional argument");
    if ((values.file === undefined) === (values["file-url"] === undefined)) throw new CliError("USAGE", "extract needs exactly one of --file and --file-url");
    const waiting = WAITING.find((name) => values[name] !== undefined);
    if (!values.wait && waiting) throw new CliError("USAGE", `--${waiting} needs --wait`);
  } else {
    if (rest.length === 0) throw new CliError("USAGE", `${command} needs a job id`);
    if (rest.length > 1) throw new CliError("USAGE", `${command} takes one job id, got ${rest.length}`);
  }
  if (values.timeout !== undefined) values.timeoutMs = parseDuration(values.timeout);
  for (const name of ["api-key", "base-url", "out", "file", "file-url"]) {
    if (values[name] === "") throw new CliError("USAGE", `--${name} is empty`);
  }
}

// ---- status lines -------------------------------------------------------------

/**
 * Reports a wait on stderr: on a terminal, one line rewritten in place
 * (ticking, so the elapsed time and the countdown move between polls) and a
 * progress bar while a large result downloads; elsewhere, one plain line per
 * change, so logs stay readable. Disabled (--json): does nothing.
 */
function statusReporter(stream, { enabled, tty, redact }) {
  const noop = () => {};
  if (!enabled) return { submitted: noop, note: noop, start: noop, poll: noop, download: noop, end: noop };
  const started = Date.now();
  const s = { id: "", status: null, attempt: 0, elapsedMs: 0, nextDelayMs: null, at: started, dl: null, ended: false };
  const columns = () => stream.columns || 80;
  let ticker = null;
  let drawn = false;
  let drawnAt = 0;

  const line = (text) => stream.write(redact(`${text}\n`));
  const draw = (text) => {
    // A line longer than the terminal wraps, and \r would then rewrite only its last row.
    stream.write(`\r\x1b[2K${redact(text).slice(0, columns() - 1)}`);
    drawn = true;
    drawnAt = Date.now();
  };

  // The whole line, or with the id shortened when the terminal is too narrow for it.
  function render(final) {
    const text = frame(final, s.id);
    return text.length < columns() || s.id.length <= 12 ? text : frame(final, `${s.id.slice(0, 8)}...`);
  }

  function frame(final, id) {
    const now = Date.now();
    const head = `job ${id}`;
    if (s.dl && !final) {
      const { loaded, total, startedAt } = s.dl;
      const rate = `${bytes(Math.round(loaded / Math.max(0.05, (now - startedAt) / 1000)))}/s`;
      if (total === null) return `${head}: downloading the result ${bytes(loaded)} at ${rate}`;
      const done = Math.min(1, total > 0 ? loaded / total : 1);
      const width = 20;
      const full = Math.floor(done * width);
      const bar = `[${"=".repeat(full)}${full < width ? ">" : ""}${" ".repeat(Math.max(0, width - full - 1))}]`;
      return `${head}: downloading ${bar} ${Math.floor(done * 100)}% ${bytes(loaded)} / ${bytes(total)} at ${rate}`;
    }
    if (s.status === null) return `${head}: waiting for the first poll (${seconds(now - started)})`;
    const elapsed = s.ended ? s.elapsedMs : s.elapsedMs + (now - s.at);
    let text = `${head}: ${s.status} (poll ${s.attempt}, ${seconds(elapsed)}`;
    if (s.dl) text += `; result ${bytes(s.dl.loaded)} downloaded`;
    else if (!final && s.nextDelayMs !== null) {
      const left = s.at + s.nextDelayMs - now;
      text += left > 0 ? `; next poll in ${seconds(left)}` : "; polling";
    }
    return `${text})`;
  }

  function startTicking() {
    if (!tty || ticker) return;
    ticker = setInterval(() => draw(render(false)), TICK_MS);
    ticker.unref(); // the status line never keeps the process alive
  }

  return {
    submitted(id) {
      s.id = printable(id);
      line(`job ${s.id}: submitted`);
    },
    note(text) {
      if (tty && drawn) stream.write("\r\x1b[2K");
      line(printable(text));
      drawn = false;
    },
    start(id) {
      s.id = printable(id);
      if (tty) draw(render(false));
      startTicking();
    },
    poll(job, info) {
      const changed = job.status !== s.status;
      Object.assign(s, { status: printable(job.status), attempt: info.attempt, elapsedMs: info.elapsedMs, nextDelayMs: info.nextDelayMs, at: Date.now() });
      if (tty) draw(render(false));
      else if (changed) line(`job ${s.id}: ${s.status} (poll ${s.attempt}, ${seconds(s.elapsedMs)})`);
    },
    download({ loaded, total }) {
      const first = s.dl === null;
      if (first) s.dl = { loaded: 0, total, startedAt: Date.now(), reported: false };
      Object.assign(s.dl, { loaded, total });
      // Chunks come far faster than a terminal needs frames: the ticker draws the rest.
      if (tty) return void (first || Date.now() - drawnAt >= TICK_MS ? draw(render(false)) : undefined);
      if (first) line(`job ${s.id}: downloading the result (${total === null ? "size unknown" : bytes(total)})`);
      if (total !== null && loaded >= total && !s.dl.reported) {
        s.dl.reported = true;
        line(`job ${s.id}: downloaded ${bytes(loaded)} in ${seconds(Date.now() - s.dl.startedAt)}`);
      }
    },
    /** Stops ticking and leaves the last frame on its own line, before the result or an error. */
    end() {
      clearInterval(ticker);
      s.ended = true;
      if (tty && drawn) {
        draw(render(true));
        stream.write("\n");
        drawn = false;
      } else if (!tty && s.dl && !s.dl.reported) {
        s.dl.reported = true;
        line(`job ${s.id}: downloaded ${bytes(s.dl.loaded)} in ${seconds(Date.now() - s.dl.startedAt)}`);
      }
    },
  };
}

// ---- output ---------------------------------------------------------------------
//
// Where the JSON goes is checked before any request: a large result may be
// single-use, and a cancel or a submission cannot be taken back, so a path
// that cannot be written must fail while nothing is lost yet.

/** "ENOENT: no such file or directory" out of Node's "ENOENT: no such file or directory, open '…'" (which names our temp file). */
const cause = (error) => (typeof error?.code === "string" && error.message.startsWith(`${error.code}: `) ? error.message.split(", ")[0] : (error?.code ?? String(error)));

const outputFailed = (what, error) => new CliError("OUTPUT_FAILED", `cannot write ${what}: ${cause(error)}`);

/** A fresh name beside `path`: the same directory, so the rename stays on one file system. */
const tempPathFor = (path) => join(dirname(path), `.${basename(path)}.${process.pid}-${randomBytes(4).toString("hex")}.tmp`);

/**
 * Node stands /dev/null, opened read-write, in for a closed fd 1 (`>&-`), and
 * the JSON would vanish with exit 0. A shell's `>/dev/null` is write-only, so
 * a read tells them apart (so would stdio "ignore" from Node's spawn, which
 * opens it read-write too: that discards the JSON just the same).
 */
function stdoutClosed() {
  try {
    const out = fs.fstatSync(1);
    if (!out.isCharacterDevice() || out.rdev !== fs.statSync("/dev/null").rdev) return false;
    fs.readSync(1, Buffer.alloc(1));
    return true;
  } catch {
    return false; // write-only (EBADF), or no /dev/null here: a real stdout
  }
}

/**
 * Checks where the JSON will go; returns { path, mode?, inPlace } for --out
 * (the file a symlink points to; its mode, kept), null for stdout. Throws
 * OUTPUT_FAILED naming the path and the cause.
 */
function prepareOutput(out) {
  if (out === undefined) {
    if (stdoutClosed()) throw new CliError("OUTPUT_FAILED", "stdout is closed, so the JSON would be lost: give --out FILE (or >/dev/null to discard it)");
    return null;
  }
  try {
    let path = out;
    let stat = fs.lstatSync(path, { throwIfNoEntry: false });
    if (stat?.isSymbolicLink()) {
      path = fs.realpathSync(path);
      stat = fs.statSync(path);
    }
    if (stat?.isDirectory()) throw Object.assign(new Error("EISDIR: is a directory"), { code: "EISDIR" });
    if (stat) fs.accessSync(path, fs.constants.W_OK); // a read-only file stays read-only
    // A device or a FIFO (/dev/null, a named pipe) is written in place, never replaced.
    if (stat && !stat.isFile()) return { path, inPlace: true };
    // A file made and removed beside it proves the directory takes the temp file and the rename.
    const probe = tempPathFor(path);
    fs.closeSync(fs.openSync(probe, "wx"));
    fs.unlinkSync(probe);
    return { path, mode: stat && stat.mode & 0o777, inPlace: false };
  } catch (error) {
    throw outputFailed(`--out ${out}`, error);
  }
}

/**
 * Writes `text` to a temp file beside the target, flushed to disk, then
 * renames it over the target: a failure (a full disk, `ulimit -f`) leaves the
 * old file as it was and no temp file. Node ignores SIGXFSZ (as it does
 * SIGPIPE), so a write past the size limit fails with EFBIG instead of
 * killing the process.
 */
function writeAtomically({ path, mode }, text) {
  const temp = tempPathFor(path);
  let fd;
  try {
    fd = fs.openSync(temp, "wx", mode ?? 0o666);
    if (mode !== undefined) fs.fchmodSync(fd, mode); // open's mode went through the umask
    fs.writeFileSync(fd, text);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(temp, path);
  } catch (error) {
    if (fd !== undefined) fs.closeSync(fd);
    fs.rmSync(temp, { force: true }); // nothing of ours is left beside the target
    throw error;
  }
}

/**
 * Resolves once stdout took the whole text; rejects with its error (EPIPE:
 * the reader left before the end). A file on stdout (`> job.json`) is written
 * here, in a loop: Node's stream for a file makes one write(2) and drops the
 * rest of a short one (`ulimit -f`, a full disk) without an error.
 */
async function writeStdout(text) {
  if (fs.fstatSync(1).isFile()) return fs.writeFileSync(1, text);
  await new Promise((resolve, reject) => process.stdout.write(text, (error) => (error ? reject(error) : resolve())));
}

/** Writes the JSON where prepareOutput said; throws OUTPUT_FAILED. */
async function writeOutput(output, out, text) {
  if (output === null) {
    await writeStdout(text).catch((error) => {
      if (error?.code === "EPIPE") throw new CliError("OUTPUT_FAILED", "the JSON was cut short: the reader of stdout closed the pipe (EPIPE)");
      throw outputFailed("the JSON to stdout", error);
    });
    return;
  }
  try {
    if (output.inPlace) fs.writeFileSync(output.path, text);
    else writeAtomically(output, text);
  } catch (error) {
    throw outputFailed(`--out ${out}`, error);
  }
}

// ---- commands -------------------------------------------------------------------

async function documentBody(values) {
  if (values["file-url"] !== undefined) return { file_url: values["file-url"] };
  const path = values.file;
  const unreadable = (why) => new CliError("INVALID_ARGUMENT", `cannot read --file ${printable(path)}: ${why}`);
  // stat first: openAsBlob reports a missing file as a bad argument, not as ENOENT.
  const stat = await fs.promises.stat(path).catch((error) => error);
  if (stat instanceof Error) throw unreadable(stat.code ?? stat.message);
  if (!stat.isFile()) throw unreadable("not a file");
  let blob;
  try {
    // openAsBlob (Node 19.8+) streams the file; Node 18 reads it whole.
    blob = fs.openAsBlob ? await fs.openAsBlob(path) : new Blob([await fs.promises.readFile(path)]);
  } catch (error) {
    throw unreadable(error.code ?? error.message);
  }
  const form = new FormData();
  form.append("file", blob, basename(path));
  return form;
}

function needs(pulse, name) {
  if (typeof pulse[name] !== "function") throw new CliError("UNSUPPORTED", `this build of pulse-jobs has no ${name}`);
  return pulse[name];
}

/** Runs the command; resolves with the value to print. */
async function run(pulse, command, values, rest, { request, report }) {
  const waitOptions = () => ({
    ...request,
    ...(values.timeoutMs !== undefined && { timeoutMs: values.timeoutMs }),
    ...(values["cancel-on-interrupt"] && { cancelOnAbort: true }),
    onProgress: (job, info) => report.poll(job, info),
    onDownloadProgress: (progress) => report.download(progress),
  });
  const wait = (jobId) => {
    report.start(jobId);
    return pulse.waitForJob(jobId, waitOptions());
  };
  switch (command) {
    case "wait":
      return wait(rest[0]);
    case "get":
      return pulse.getJob(rest[0], request);
    case "cancel":
      return pulse.cancelJob(rest[0], request);
    case "extract": {
      const body = await documentBody(values);
      // submitJob then waitForJob (rather than runJob): the id is known, and shown,
      // before the wait, so an interrupted wait can be resumed with `pulse-jobs wait`.
      const submission = await needs(pulse, "submitJob")(body, request);
      if (!values.wait) return submission;
      report.submitted(submission.job_id);
      return wait(submission.job_id);
    }
  }
}

/** The one line (or --json object) for a failure; never the options, never the key. */
function describeFailure(error, { interrupted, jobId }) {
  const code = typeof error?.code === "string" ? error.code : "ERROR";
  let message = error instanceof Error ? error.message : String(error);
  if (interrupted && code === "ABORTED") {
    const id = jobId === undefined ? "" : ` job ${jobId}`;
    if (error.cancelConfirmed === true) message = `interrupted;${id} canceled on the server`;
    else if (error.cancelConfirmed === false) message = `interrupted; the cancel of${id || " the job"} was not confirmed`;
    else message = jobId === undefined ? "interrupted" : `interrupted; job ${jobId} goes on (pulse-jobs wait ${jobId})`;
  }
  const object = { code, message };
  if (typeof error?.httpStatus === "number") object.httpStatus = error.httpStatus;
  if (typeof error?.cancelConfirmed === "boolean") object.cancelConfirmed = error.cancelConfirmed;
  return object;
}

function exitCodeFor(code, interrupted) {
  if (code === "ABORTED" && interrupted) return SIGNAL_EXIT[interrupted];
  return EXIT_FOR_CODE[code] ?? EXIT.error;
}

async function main(argv, env) {
  // A named import would fail to link on Node 18.0-18.2, before any message could say why.
  if (typeof util.parseArgs !== "function") {
    process.stderr.write(`pulse-jobs: needs Node 18.3 or later (this is ${process.version})\n`);
    return void (process.exitCode = EXIT.error);
  }
  const redact = redactor(secretsIn(argv, env));
  let jsonMode = argv.includes("--json"); // a guess while parsing can still fail
  const fail = (failure, exitCode, hint = "") => {
    process.stderr.write(redact(jsonMode ? `${JSON.stringify(redactValue(failure, redact))}\n` : `pulse-jobs: ${failure.code}: ${printable(failure.message)}\n${hint}`));
    process.exitCode = exitCode;
  };

  let parsed;
  try {
    parsed = parseCommandLine(argv);
  } catch (error) {
    const command = argv.find((arg) => Object.hasOwn(COMMANDS, arg));
    return fail({ code: "USAGE", message: error.message }, EXIT.usage, `Run "pulse-jobs ${command ? `${command} ` : ""}--help" for usage.\n`);
  }
  const { command, values, rest } = parsed;
  jsonMode = values.json === true;
  if (values.help) return void process.stdout.write(usageText(command));
  if (values.version) {
    const manifest = JSON.parse(fs.readFileSync(new URL("./package.json", import.meta.url), "utf8"));
    return void process.stdout.write(`${manifest.version}\n`);
  }

  let output;
  try {
    output = prepareOutput(values.out);
  } catch (error) {
    return fail({ code: error.code, message: error.message }, EXIT.error);
  }

  // Before it exits, Node waits for V8 to finish optimising the wasm's hot functions
  // in the background: 0.3-0.8 s after the output, for a command that mostly waits on
  // the network. The baseline compiler's code is fast enough here, and this process is
  // the CLI's own. (Both flags exist from Node 18's V8 to Node 24's.)
  v8.setFlagsFromString("--no-wasm-tier-up");
  v8.setFlagsFromString("--no-wasm-dynamic-tiering");
  // Loaded only now: --help, --version and usage errors need no wasm.
  const pulse = await import("./node/index.mjs");
  const controller = new AbortController();
  let interrupted = null;
  const onSignal = (signal) => {
    // A second Ctrl-C does not wait for the cancel: leave at once.
    if (interrupted) process.exit(SIGNAL_EXIT[signal]);
    interrupted = signal;
    controller.abort(new Error(`interrupted (${signal})`));
  };
  for (const signal of Object.keys(SIGNAL_EXIT)) process.on(signal, onSignal);

  const apiKey = values["api-key"] ?? (env.PULSE_API_KEY || undefined);
  const baseUrl = values["base-url"] ?? (env.PULSE_BASE_URL || undefined);
  const request = { signal: controller.signal, ...(apiKey && { apiKey }), ...(baseUrl && { baseUrl }) };
  const report = statusReporter(process.stderr, { enabled: !values.json, tty: Boolean(process.stderr.isTTY), redact });
  let jobId = command === "extract" ? undefined : rest[0];
  const tracking = { ...report, submitted: (id) => ((jobId = id), report.submitted(id)) };

  try {
    const value = await run(pulse, command, values, rest, { request, report: tracking });
    report.end();
    await writeOutput(output, values.out, jsonText(value, redact));
    if (output !== null) report.note(`wrote ${values.out}`);
    process.exitCode = EXIT.ok;
  } catch (error) {
    report.end();
    const failure = describeFailure(error, { interrupted, jobId: jobId === undefined ? undefined : printable(jobId) });
    fail(failure, exitCodeFor(failure.code, interrupted));
  } finally {
    for (const signal of Object.keys(SIGNAL_EXIT)) process.off(signal, onSignal);
  }
}

// The JSON's own write reports its failure (writeOutput). Otherwise stdout only
// carries --help and --version, and a reader that stops early (`| head`)
// is no error there.
process.stdout.on("error", () => {});

// The last net, for a failure outside main's own handling (the package failing to
// load, say): still one line, still without the key.
await main(process.argv.slice(2), process.env).catch((error) => {
  const redact = redactor(secretsIn(process.argv.slice(2), process.env));
  process.stderr.write(redact(`pulse-jobs: INTERNAL: ${printable(error instanceof Error ? error.message : error)}\n`));
  process.exitCode = EXIT.error;
});
