// Loading (docs/contract.md, "Loading"): no entry does any work at import;
// the wasm starts on the first call or on preload(); a runtime that cannot
// run it rejects every call WASM_UNAVAILABLE, the platform's error as cause,
// and a later call tries again. Each case runs in a Node process of its own
// (the installed package, through its exports map or its web entry's file),
// against the mock over real sockets.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { pathToFileURL } from "node:url";
import { after, before, describe, test } from "./support/runner.js";
import { installPackage } from "./support/package.js";
import { jid, startMockServer } from "./support/mock.js";

const run = promisify(execFile);
const { consumer } = await installPackage();
const installed = path.join(consumer, "node_modules", "pulse-jobs");
const ENTRIES = {
  node: "pulse-jobs",
  web: pathToFileURL(path.join(installed, "web", "index.js")).href,
};

let m;
before(async () => {
  m = await startMockServer();
});
after(() => m?.close());

/**
 * Runs `body` in a fresh Node process (an async function body with `pulse`,
 * the entry's namespace, `api`, the mock's URL, and `id`, a job id) after
 * `setup`, which runs before the import; resolves with what the body returned.
 */
async function inChild(entry, { setup = "", body, id = jid("steps_1"), flags = [] }) {
  const script = `
    ${setup}
    const pulse = await import(${JSON.stringify(ENTRIES[entry])});
    const api = ${JSON.stringify(m.apiUrl)};
    const id = ${JSON.stringify(id)};
    const describe = (e) => ({ isPulseError: e instanceof pulse.PulseError, code: e.code, message: e.message, cause: String(e.cause), retryable: e.retryable });
    const result = await (async () => { ${body} })();
    console.log(JSON.stringify(result));`;
  const { stdout } = await run(process.execPath, [...flags, "--input-type=module", "-e", script], { cwd: consumer });
  return JSON.parse(stdout.trim().split("\n").at(-1));
}

/**
 * In the child: `work` lists every instantiation of the package's wasm (told
 * from undici's own llhttp by its imports, which have no `env`) and every
 * timer started; the first `refusals` instantiations of the package's wasm
 * throw, as a CSP or an embedder that forbids wasm would.
 */
const watchWork = (refusals = 0) => `
  globalThis.work = [];
  let refusals = ${refusals};
  const ours = (imports) => !(imports && "env" in imports);
  const refuse = () => {
    if (refusals-- > 0) throw new WebAssembly.CompileError("refused by the embedder");
  };
  WebAssembly.instantiate = new Proxy(WebAssembly.instantiate, {
    apply(target, self, args) {
      if (ours(args[1])) (work.push("instantiate"), refuse());
      return Reflect.apply(target, self, args);
    },
  });
  WebAssembly.Instance = new Proxy(WebAssembly.Instance, {
    construct(target, args) {
      if (ours(args[1])) (work.push("Instance"), refuse());
      return new target(...args);
    },
  });
  for (const name of ["setTimeout", "setInterval", "setImmediate", "queueMicrotask"]) {
    const real = globalThis[name];
    globalThis[name] = (...args) => (work.push(name), real(...args));
  }`;
const TIMERS = ["setTimeout", "setInterval", "setImmediate", "queueMicrotask"];

for (const entry of Object.keys(ENTRIES)) {
  describe(`the ${entry} entry`, { concurrency: true }, () => {
    test("import starts nothing: no compile, no instantiation, no timer; the first call starts the wasm", async () => {
      const result = await inChild(entry, {
        setup: watchWork(),
        body: `
          const atImport = [...work];
          const job = await pulse.getJob(id, { baseUrl: api });
          return { atImport, started: work.filter((w) => !${JSON.stringify(TIMERS)}.includes(w)), status: job.status };`,
      });
      assert.deepEqual(result.atImport, []);
      assert.equal(result.started.length, 1, `the first call instantiated the wasm once: ${result.started}`);
      assert.equal(typeof result.status, "string");
    });

    test("preload() starts the wasm once; calls after it run at once", async () => {
      const result = await inChild(entry, {
        setup: watchWork(),
        body: `
          await Promise.all([pulse.preload(), pulse.preload()]);
          const job = await pulse.waitForJob(id, { baseUrl: api, initialDelayMs: 10 });
          return { started: work.filter((w) => !${JSON.stringify(TIMERS)}.includes(w)), status: job.status };`,
      });
      assert.equal(result.started.length, 1, `instantiated once: ${result.started}`);
      assert.equal(result.status, "completed");
    });

    test("a start that failed is not remembered: the next call starts the wasm again and works", async () => {
      const result = await inChild(entry, {
        setup: watchWork(1),
        body: `
          const first = await pulse.getJob(id, { baseUrl: api }).then(() => "resolved", describe);
          const second = await pulse.getJob(id, { baseUrl: api });
          return { first, second: second.status };`,
      });
      assert.equal(result.first.code, "WASM_UNAVAILABLE");
      assert.match(result.first.message, /CompileError: refused by the embedder/);
      assert.match(result.first.cause, /refused by the embedder/);
      assert.equal(typeof result.second, "string");
    });

    test("preload(module) starts the wasm from a WebAssembly.Module of another realm (as Next.js hands over)", async () => {
      const result = await inChild(entry, {
        setup: `
          const { readFileSync } = await import("node:fs");
          const vm = await import("node:vm");
          const bytes = readFileSync(${JSON.stringify(path.join(installed, "pulse_jobs.wasm"))});
          globalThis.foreign = vm.runInNewContext("new WebAssembly.Module(bytes)", { bytes });`,
        body: `
          const sameRealm = foreign instanceof WebAssembly.Module;
          await pulse.preload(foreign);
          const job = await pulse.waitForJob(id, { baseUrl: api, initialDelayMs: 10 });
          return { sameRealm, status: job.status };`,
      });
      assert.equal(result.sameRealm, false);
      assert.equal(result.status, "completed");
    });
  });
}

test("the web entry inflates the wasm without DecompressionStream", async () => {
  const result = await inChild("web", {
    setup: "delete globalThis.DecompressionStream;",
    body: `
      const job = await pulse.waitForJob(id, { baseUrl: api, initialDelayMs: 10 });
      return { has: typeof DecompressionStream, status: job.status };`,
  });
  assert.deepEqual(result, { has: "undefined", status: "completed" });
});

// The web entry without WebAssembly is tested in Chromium (tests/browser/loading.test.js):
// under --jitless, Node's own fetch cannot run either.
test("the node entry without WebAssembly (node --jitless): the import works and every call rejects WASM_UNAVAILABLE", async () => {
  const id = jid("steps_1");
  const result = await inChild("node", {
    id,
    flags: ["--jitless"],
    body: `
      const settle = (p) => p.then(() => "resolved", describe);
      return {
        hasWasm: typeof WebAssembly,
        waitForJob: await settle(pulse.waitForJob(id, { baseUrl: api })),
        getJob: await settle(pulse.getJob(id, { baseUrl: api })),
        client: await settle((async () => new pulse.PulseClient({ baseUrl: api }).getJob(id))()),
        waitForJobs: await settle(pulse.waitForJobs([id], { baseUrl: api })),
        watchJob: await settle(pulse.watchJob(id, { baseUrl: api }).next()),
        preload: await settle(pulse.preload()),
      };`,
  });
  assert.equal(result.hasWasm, "undefined");
  for (const call of ["waitForJob", "getJob", "client", "waitForJobs", "watchJob", "preload"]) {
    const error = result[call];
    assert.equal(error.isPulseError, true, `${call}: ${JSON.stringify(error)}`);
    assert.equal(error.code, "WASM_UNAVAILABLE", call);
    assert.equal(error.retryable, false, call);
    assert.match(error.message, /WebAssembly is not defined/, `${call} names the cause`);
    assert.match(error.message, /without --jitless/, `${call} names the fix`);
    assert.match(error.cause, /ReferenceError: WebAssembly is not defined/, call);
  }
  assert.deepEqual(m.requestsFor(id), [], "nothing was sent");
});
