// node:test's describe/test with a default per-test timeout, so that a wait
// that never settles (a package bug) fails its test instead of hanging the run.

import * as nt from "node:test";

export const TEST_TIMEOUT_MS = Number(process.env.PULSE_TEST_TIMEOUT_MS || 30_000);

function withTimeout(fnName) {
  return (name, options, fn) => {
    if (typeof options === "function") [options, fn] = [{}, options];
    return nt[fnName](name, { timeout: TEST_TIMEOUT_MS, ...options }, fn);
  };
}

export const test = withTimeout("test");
export const describe = (name, options, fn) => {
  if (typeof options === "function") [options, fn] = [{}, options];
  return nt.describe(name, options, fn);
};
export const { before, after } = nt;
