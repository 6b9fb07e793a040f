// The declarations as TypeScript consumers see them: tsc --noEmit over
// tests/consumers/typescript (an ES module and a CommonJS file, node16
// resolution through the exports map) with the package installed from its
// tarball. The fixture's @ts-expect-error lines make the check fail if the
// types went loose (any) or stopped matching docs/contract.md.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { test } from "./support/runner.js";
import { installPackage, repoRoot } from "./support/package.js";

const run = promisify(execFile);

test("index.d.ts type-checks for ES-module and CommonJS consumers", async () => {
  const { tsFixture } = await installPackage();
  const tsc = path.join(repoRoot, "node_modules", ".bin", "tsc");
  const result = await run(tsc, ["-p", tsFixture], { cwd: tsFixture }).catch((e) => e);
  assert.equal(result.code ?? 0, 0, `tsc failed:\n${result.stdout}${result.stderr}`);
});
