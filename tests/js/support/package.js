// Installs the built package (/work/main/pkg, or $PULSE_PKG_DIR) as a REAL
// dependency of scratch consumers, the way a user gets it: `npm pack` the
// directory, then `npm install --no-audit --no-fund <tarball>` (local
// tarball, no registry traffic) into
//   <cache>/consumer/   a bare project the test files load the package from
//   <cache>/node-esm/   a copy of tests/consumers/node-esm (ESM fixture)
//   <cache>/node-cjs/   a copy of tests/consumers/node-cjs (CJS fixture)
// <cache> is $TMPDIR/pulse-jobs-js-tests/<hash of pkg/ and the fixtures>, so
// the work is done once per build (node --test runs each file in its own
// process; a mkdir lock keeps them from installing at the same time).
//
// loadPulse() returns { esm, cjs, dirs }: the module namespace from import()
// and the exports from createRequire(...)("pulse-jobs"), both resolved from
// the consumer project through the package's own exports map.

import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, "../../..");
export const pkgDir = path.resolve(process.env.PULSE_PKG_DIR || path.join(repoRoot, "pkg"));
export const fixturesDir = path.join(repoRoot, "tests", "consumers");
export const PACKAGE_NAME = "pulse-jobs";

function listFiles(dir, base = dir, out = []) {
  for (const ent of fs.readdirSync(dir, { withFileTypes: true })) {
    if (ent.name === "node_modules" || ent.name === ".git") continue;
    const p = path.join(dir, ent.name);
    if (ent.isDirectory()) listFiles(p, base, out);
    else if (ent.isFile()) out.push(path.relative(base, p));
  }
  return out.sort();
}

function hashTree(hash, dir, label) {
  for (const rel of listFiles(dir)) {
    hash.update(`${label}/${rel}\0`);
    hash.update(fs.readFileSync(path.join(dir, rel)));
    hash.update("\0");
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Runs npm quietly in `cwd`; a failure throws with npm's output. */
export async function npm(args, cwd) {
  const env = {
    ...process.env,
    npm_config_update_notifier: "false",
    npm_config_fund: "false",
    npm_config_audit: "false",
    npm_config_loglevel: "error",
  };
  try {
    return await run("npm", args, { cwd, env, maxBuffer: 64 << 20 });
  } catch (e) {
    throw new Error(`npm ${args.join(" ")} failed in ${cwd}:\n${e.stdout}\n${e.stderr}`);
  }
}

async function npmInstall(dir, tarball) {
  await npm(["install", "--no-audit", "--no-fund", "--prefer-offline", tarball], dir);
  const installed = path.join(dir, "node_modules", PACKAGE_NAME, "package.json");
  if (!fs.existsSync(installed)) throw new Error(`npm install did not produce ${installed}`);
}

function treeKey() {
  const hash = createHash("sha256");
  hashTree(hash, pkgDir, "pkg");
  hashTree(hash, fixturesDir, "fixtures");
  return hash.digest("hex").slice(0, 16);
}

async function build(dir, key) {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.join(dir, "tarball"), { recursive: true });
  const { stdout } = await npm(["pack", pkgDir, "--pack-destination", path.join(dir, "tarball"), "--json"], dir);
  const packed = JSON.parse(stdout);
  const tarball = path.join(dir, "tarball", packed[0].filename);
  if (packed[0].name !== PACKAGE_NAME) throw new Error(`pkg/ is named ${packed[0].name}, expected ${PACKAGE_NAME}`);
  if (treeKey() !== key) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw new Error(`${pkgDir} changed while it was being packed (a build in progress?); run the tests again`);
  }

  const consumer = path.join(dir, "consumer");
  fs.mkdirSync(consumer);
  fs.writeFileSync(
    path.join(consumer, "package.json"),
    JSON.stringify({ name: "pulse-jobs-test-consumer", version: "0.0.0", private: true }, null, 2),
  );
  // One ESM file inside the consumer, so that import() resolves "pulse-jobs"
  // from there (through the exports map's "import" condition).
  fs.writeFileSync(path.join(consumer, "load.mjs"), 'export * as pulse from "pulse-jobs";\n');
  await npmInstall(consumer, tarball);

  for (const name of ["node-esm", "node-cjs", "typescript"]) {
    const dst = path.join(dir, name);
    fs.cpSync(path.join(fixturesDir, name), dst, { recursive: true, filter: (s) => !s.includes("node_modules") });
    await npmInstall(dst, tarball);
  }
  fs.writeFileSync(path.join(dir, "tarball.json"), JSON.stringify({ tarball, ...packed[0], files: undefined }));
  fs.writeFileSync(path.join(dir, "READY"), new Date().toISOString());
  prune(path.dirname(dir), path.basename(dir));
}

// Drops installs of older builds (left by earlier runs) once they are an hour old.
function prune(root, keep) {
  for (const name of fs.readdirSync(root)) {
    if (name === keep || name.endsWith(".lock") || fs.existsSync(path.join(root, `${name}.lock`))) continue;
    const p = path.join(root, name);
    try {
      if (Date.now() - fs.statSync(p).mtimeMs > 3_600_000) fs.rmSync(p, { recursive: true, force: true });
    } catch {}
  }
}

let installing;
/** Pack and install once per build; returns the cache directory's layout. */
export function installPackage() {
  installing ??= (async () => {
    if (!fs.existsSync(path.join(pkgDir, "package.json"))) {
      throw new Error(`${pkgDir}/package.json does not exist: build the package first (make pkg)`);
    }
    const key = treeKey();
    const root = path.join(os.tmpdir(), "pulse-jobs-js-tests");
    const dir = path.join(root, key);
    const lock = `${dir}.lock`;
    fs.mkdirSync(root, { recursive: true });
    const deadline = Date.now() + 240_000;
    while (!fs.existsSync(path.join(dir, "READY"))) {
      let locked = false;
      try {
        fs.mkdirSync(lock);
        locked = true;
      } catch (e) {
        if (e.code !== "EEXIST") throw e;
      }
      if (locked) {
        try {
          if (!fs.existsSync(path.join(dir, "READY"))) await build(dir, key);
        } finally {
          fs.rmSync(lock, { recursive: true, force: true });
        }
        break;
      }
      // Someone else is installing; a lock older than 3 minutes is stale.
      try {
        if (Date.now() - fs.statSync(lock).mtimeMs > 180_000) fs.rmSync(lock, { recursive: true, force: true });
      } catch {}
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${lock}`);
      await sleep(250);
    }
    const info = JSON.parse(fs.readFileSync(path.join(dir, "tarball.json"), "utf8"));
    return {
      key,
      dir,
      tarball: info.tarball,
      consumer: path.join(dir, "consumer"),
      esmFixture: path.join(dir, "node-esm"),
      cjsFixture: path.join(dir, "node-cjs"),
      tsFixture: path.join(dir, "typescript"),
    };
  })();
  return installing;
}

let loading;
/** { esm, cjs, dirs }: the package loaded from the consumer by import() and by require(). */
export function loadPulse() {
  loading ??= (async () => {
    const dirs = await installPackage();
    const { pulse: esm } = await import(pathToFileURL(path.join(dirs.consumer, "load.mjs")).href);
    const require = createRequire(path.join(dirs.consumer, "package.json"));
    const cjs = require(PACKAGE_NAME);
    return { esm, cjs, dirs };
  })();
  return loading;
}
