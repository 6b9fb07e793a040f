// The declarations as TypeScript consumers see them: tsc --noEmit over
// tests/consumers/typescript (ES modules and a CommonJS file, node16
// resolution through the exports map) with the package installed from its
// tarball. The fixture's lines that must not compile carry
// `// @ts-expect-error TSnnnn why`: the first test fails if one of them
// compiles (the types went loose: `any`, an optional field that should not
// be); the second compiles them as plain code and checks that each fails with
// the error it names, and nothing else does.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { test } from "./support/runner.js";
import { installPackage, repoRoot } from "./support/package.js";

const run = promisify(execFile);
const tsc = path.join(repoRoot, "node_modules", ".bin", "tsc");
const DIRECTIVE = /^(\s*)\/\/ @ts-expect-error\b(.*)$/;
const SOURCE = /\.[mc]?ts$/;

/** tsc -p `dir`: its exit code and output. */
async function typeCheck(dir) {
  const result = await run(tsc, ["-p", dir], { cwd: dir }).catch((e) => e);
  return { code: result.code ?? 0, output: `${result.stdout}${result.stderr}` };
}

/** `{ "file:line": code }` of tsc's errors (`file(line,col): error TSnnnn: ...`). */
function errorsByLine(output) {
  const errors = {};
  for (const [, file, line, code] of output.matchAll(/^(\S+)\((\d+),\d+\): error (TS\d+):/gm)) {
    (errors[`${file}:${line}`] ??= []).push(code);
  }
  return errors;
}

/**
 * Copies the fixture's sources into `to`, each directive turned into a plain
 * comment; returns `{ "file:line": code }` of the lines that must fail.
 */
function stripDirectives(from, to) {
  const expected = {};
  for (const name of fs.readdirSync(from, { recursive: true })) {
    const source = path.join(from, name);
    if (name.split(path.sep).includes("node_modules") || !fs.statSync(source).isFile()) continue;
    fs.mkdirSync(path.dirname(path.join(to, name)), { recursive: true });
    if (!SOURCE.test(name)) {
      fs.copyFileSync(source, path.join(to, name));
      continue;
    }
    const lines = fs.readFileSync(source, "utf8").split("\n");
    lines.forEach((line, i) => {
      const directive = line.match(DIRECTIVE);
      if (!directive) return;
      const code = directive[2].match(/^ (TS\d+) \S/)?.[1];
      assert.ok(code, `${name}:${i + 1}: a @ts-expect-error must name its error and why ("TSnnnn why")`);
      expected[`${name}:${i + 2}`] = code;
      lines[i] = `${directive[1]}// (must fail: ${code})`;
    });
    fs.writeFileSync(path.join(to, name), lines.join("\n"));
  }
  return expected;
}

test("index.d.ts type-checks for ES-module and CommonJS consumers, and every @ts-expect-error line fails", async () => {
  const { tsFixture } = await installPackage();
  const { code, output } = await typeCheck(tsFixture);
  assert.equal(code, 0, `tsc failed:\n${output}`);
});

test("each line the fixture expects to fail fails with the error it names, and no other line fails", async () => {
  const { tsFixture } = await installPackage();
  // Inside the installed fixture, so that "pulse-jobs" resolves to its node_modules.
  const copy = fs.mkdtempSync(path.join(tsFixture, "stripped-"));
  try {
    const expected = stripDirectives(path.join(repoRoot, "tests", "consumers", "typescript"), copy);
    assert.ok(Object.keys(expected).length >= 20, `only ${Object.keys(expected).length} must-fail lines found`);
    const { code, output } = await typeCheck(copy);
    assert.notEqual(code, 0, "the must-fail lines compiled");
    const errors = errorsByLine(output);
    for (const [where, want] of Object.entries(expected)) {
      assert.ok(errors[where]?.includes(want), `${where} should fail with ${want}; tsc said ${errors[where] ?? "nothing"}\n${output}`);
    }
    const unexpected = Object.keys(errors).filter((where) => !(where in expected));
    assert.deepEqual(unexpected, [], `errors on lines not marked to fail:\n${output}`);
  } finally {
    fs.rmSync(copy, { recursive: true, force: true });
  }
});
