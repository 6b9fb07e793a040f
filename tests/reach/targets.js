// Every toolchain of the reach suite: how its app is built (from the app/
// files plus fixtures/<fixture>/, in a scratch directory where the packed
// package is installed) and how it runs. A target with `browser` is opened in
// Chromium from the directory `build` returns; the others `run` and print a
// `REACH {...}` line. Tools come from tests/reach/node_modules.
import { execFile, spawn } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const TOOLS = fileURLToPath(new URL("./node_modules/", import.meta.url));
export const bin = (name) => join(TOOLS, ".bin", name);
export const NODE = { 18: join(TOOLS, "node18/bin/node"), 20: process.execPath, 24: join(TOOLS, "node24/bin/node") };

/** Runs a command; resolves with its stdout, rejects with all its output on failure. */
export function run(command, args, { cwd, env = {}, timeout = 240_000 } = {}) {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd, env: { ...process.env, ...env }, timeout, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args.join(" ")} failed (${error.code ?? error.signal}):\n${stdout}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

const away = [];
/** Removes the folders `elsewhere` made. */
export const cleanUp = () => away.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true }));

/** `files` of `dir` copied to a new directory outside the project: no node_modules anywhere above it. */
function elsewhere(dir, files) {
  const folder = mkdtempSync(join(tmpdir(), "pulse-reach-"));
  away.push(folder);
  for (const file of files) cpSync(join(dir, file), join(folder, file));
  return folder;
}

/** Builds with `command`, then puts the app's index.html beside the bundle. */
const bundle = (command, args, out = "dist") => async (dir) => {
  await run(command, args, { cwd: dir });
  cpSync(join(dir, "index.html"), join(dir, out, "index.html"));
  return join(dir, out);
};

/** Builds with `command`; the output folder holds index.html. */
const build = (command, args, out = "dist") => async (dir) => {
  await run(command, args, { cwd: dir, env: { NODE_ENV: "production" } });
  return join(dir, out);
};

/** A free port on 127.0.0.1. */
export const freePort = () =>
  new Promise((resolve) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });

/** `next build` (with `args`), then `next start` on a free port; resolves when it answers. */
export const nextServer =
  (...args) =>
  async (dir) => {
    const env = { ...process.env, NEXT_TELEMETRY_DISABLED: "1" };
    await run(bin("next"), ["build", ...args], { cwd: dir, env });
    const port = await freePort();
    const child = spawn(bin("next"), ["start", "-H", "127.0.0.1", "-p", String(port)], { cwd: dir, env, stdio: "ignore" });
    const url = `http://127.0.0.1:${port}/`;
    for (let i = 0; i < 300 && !(await fetch(url).then(() => true, () => false)); i += 1) await new Promise((r) => setTimeout(r, 100));
    return { url, close: () => child.kill() };
  };

/** The summary a Next.js server answers at `path`. */
const nextRequest = (path) => async (server, api, n) =>
  `REACH ${await (await fetch(`${server.url}${path}?${new URLSearchParams({ api, nonce: n })}`)).text()}`;

/** A script of runners/. */
export const RUNNER = (name) => fileURLToPath(new URL(`./runners/${name}`, import.meta.url));

/** A Worker bundled by `wrangler deploy --dry-run` (wrangler needs Node 22.12 or later), run in workerd by Miniflare. */
export const worker = (name, fixture) => ({
  name,
  fixture,
  runsIn: "workerd",
  build: async (dir) => {
    await run(NODE[24], [join(TOOLS, "wrangler/bin/wrangler.js"), "deploy", "--dry-run", "--outdir", "dist"], {
      cwd: dir,
      env: { WRANGLER_SEND_METRICS: "false", CI: "true", HOME: dir },
    });
    return dir;
  },
  run: (dir, api, n) => run(NODE[24], [RUNNER("workerd.mjs"), dir, api, n], { cwd: dir }),
});

const nodeScript = (version, script) => ({
  name: `Node ${version} ${script.endsWith(".cjs") ? "CJS (require)" : "ESM (import)"}`,
  fixture: "node",
  run: (dir, api, n) => run(NODE[version], [script, api, n], { cwd: dir }),
});

export const targets = [
  ...[18, 20, 24].flatMap((v) => [nodeScript(v, "node.mjs"), nodeScript(v, "node.cjs")]),
  {
    name: "esbuild, browser ESM bundle",
    fixture: "esbuild",
    browser: true,
    build: bundle(bin("esbuild"), ["browser.js", "--bundle", "--format=esm", "--outfile=dist/main.js"]),
  },
  ...["esm", "cjs"].map((format) => ({
    name: `esbuild, Node ${format.toUpperCase()} bundle run from a folder without node_modules`,
    fixture: "esbuild",
    build: async (dir) => {
      const out = `node-bundle.${format === "esm" ? "mjs" : "cjs"}`;
      await run(bin("esbuild"), ["node.mjs", "--bundle", "--platform=node", `--format=${format}`, `--outfile=${out}`], { cwd: dir });
      return elsewhere(dir, [out]);
    },
    run: (away, api, n) => run(NODE[20], [`node-bundle.${format === "esm" ? "mjs" : "cjs"}`, api, n], { cwd: away }),
  })),
  {
    name: "Rollup with @rollup/plugin-node-resolve",
    fixture: "rollup",
    browser: true,
    build: bundle(bin("rollup"), ["-c"]),
  },
  {
    name: "bun build --target=browser",
    fixture: "bun",
    browser: true,
    build: bundle(bin("bun"), ["build", "browser.js", "--target=browser", "--outdir=dist", "--entry-naming=main.js"]),
  },
  { name: "Vite, app", fixture: "vite", browser: true, build: build(bin("vite"), ["build"]) },
  { name: "Vite, module Web Worker in the default format", fixture: "vite-worker", browser: true, build: build(bin("vite"), ["build"]) },
  { name: "webpack 5", fixture: "webpack", browser: true, build: build(bin("webpack"), []) },
  { name: "Parcel", fixture: "parcel", browser: true, build: build(bin("parcel"), ["build", "index.html"]) },
  {
    name: "bun run",
    fixture: "bun",
    run: (dir, api, n) => run(bin("bun"), ["run", "node.mjs", api, n], { cwd: dir }),
  },
  {
    name: "Vitest, Node environment, with vi.useFakeTimers() and an injected fetch",
    fixture: "vitest",
    run: async (dir, api, n) => {
      await run(NODE[24], [join(TOOLS, "vitest/vitest.mjs"), "run"], { cwd: dir, env: { REACH_API: api, REACH_NONCE: n } });
      return `REACH ${readFileSync(join(dir, "summary.json"), "utf8")}`;
    },
  },
  {
    name: "Next.js app router, route handler (next build, next start)",
    fixture: "next",
    server: nextServer(),
    run: nextRequest("api/check"),
  },
  { name: "Next.js app router, client component", fixture: "next", server: nextServer(), browser: true },
  // fixtures/next-edge/package.json has no "type": "module": with it, Next.js
  // 16.4.6's webpack build fails on any edge route (route_client-reference-
  // manifest.js is never written), with or without pulse-jobs.
  ...[
    ["Turbopack", "next-edge", []],
    ["webpack", "next-edge-webpack", ["--webpack"]],
  ].flatMap(([bundler, fixture, args]) => [
    { name: `Next.js edge route handler, ${bundler} (next build, next start)`, fixture, files: "next-edge", runsIn: "next start (edge)", server: nextServer(...args), run: nextRequest("api/check") },
    { name: `Next.js middleware (edge), ${bundler} (next build, next start)`, fixture, files: "next-edge", runsIn: "next start (edge)", server: nextServer(...args), run: nextRequest("middleware/check") },
  ]),
  worker("Cloudflare Workers: wrangler deploy --dry-run bundle in workerd (Miniflare)", "workers"),
  worker("Cloudflare Workers with nodejs_compat: wrangler bundle in workerd (Miniflare)", "workers-nodejs-compat"),
  {
    name: "edge-runtime VM (Vercel's edge runtime), esbuild bundle with browser defaults",
    fixture: "edge-runtime",
    runsIn: "edge-runtime",
    build: async (dir) => {
      await run(bin("esbuild"), ["edge-runtime.js", "--bundle", "--outfile=dist/edge-runtime.js"], { cwd: dir });
      return dir;
    },
    run: (dir, api, n) => run(process.execPath, [RUNNER("edge-runtime.mjs"), join(dir, "dist", "edge-runtime.js"), api, n], { cwd: dir }),
  },
  {
    name: "Deno with --allow-net only",
    fixture: "deno",
    // A DENO_DIR of the app's own: Deno's code cache keys npm files by path,
    // and every build of pulse-jobs installs to the same path with the same
    // mtime, so a shared cache runs a previous build's glue.
    run: (dir, api, n) =>
      run(bin("deno"), ["run", "--allow-net", "node.mjs", api, n], { cwd: dir, env: { DENO_NO_UPDATE_CHECK: "1", DENO_DIR: join(dir, ".deno") } }),
  },
];
