// PulseError.serverCode and serverDetails (issue 20, item 2): Pulse's error
// bodies, `{ "error": { "code", "message", "details" } }`, reach the error on
// polls, getJob, cancelJob, submissions and result downloads, through the
// real package and the mock (pulseerr_C, dlpulseerr_C in mock/CONTRACT.md).
// The code is cleaned as a message is; details that hold the key (or a
// header value) are left out whole (docs/contract.md, "Error codes").

import assert from "node:assert/strict";
import { after, before, describe, test } from "./support/runner.js";
import { loadPulse } from "./support/package.js";
import { jid, startMockServer } from "./support/mock.js";
import { exitGuard, rejectsWith, renderings } from "./support/util.js";

exitGuard();
const { esm, cjs } = await loadPulse();
const { PulseError, waitForJob, getJob, cancelJob, submitJob } = esm;

const KEY = "sk-live-pulse-err-5e6f7a8b";
// Quotes and backslashes: JSON writes this key escaped inside the details.
const ODD_KEY = 'sk-"odd\\key-0c1d2e3f';
const CODE = "invalid_pages";
const DETAILS = { field: "pages", min: 1 };
const fast = { initialDelayMs: 5, multiplier: 1, jitter: 0, maxRetries: 0 };

let m;
before(async () => {
  m = await startMockServer();
});
after(() => m?.close());
const opts = (o = {}) => ({ apiKey: KEY, baseUrl: m.apiUrl, ...fast, ...o });
const echo = (o = {}) => opts({ headers: { "x-echo": "1" }, ...o });

/** The key went out, and no rendering of the error shows it. */
function assertNoKey(err, key = KEY) {
  const text = renderings(err) + JSON.stringify({ code: err.serverCode, details: err.serverDetails });
  assert.ok(!text.includes(key), `the key in the error:\n${text.slice(0, 2000)}`);
}

describe("serverCode and serverDetails from Pulse's error bodies", { concurrency: true }, () => {
  for (const [name, P] of [["ESM", esm], ["CJS", cjs]]) {
    test(`${name}: a poll answered with Pulse's error carries its code and details`, async () => {
      const id = jid("pulseerr_400");
      const err = await rejectsWith(P.PulseError, P.waitForJob(id, opts()), "HTTP_ERROR", { httpStatus: 400, jobId: id });
      assert.equal(err.serverCode, CODE);
      assert.deepEqual(err.serverDetails, DETAILS);
      assert.equal(err.message, "the Pulse API answered HTTP 400: pages must be positive");
    });
  }

  test("getJob, cancelJob and submitJob carry them too", async () => {
    const got = await rejectsWith(PulseError, getJob(jid("pulseerr_429"), opts()), "HTTP_ERROR", { httpStatus: 429 });
    const canceled = await rejectsWith(PulseError, cancelJob(jid("pulseerr_404"), opts()), "HTTP_ERROR", { httpStatus: 404 });
    const body = { file_url: "https://example.com/a.pdf", mock_answer: "pulseerr_422" };
    const submitted = await rejectsWith(PulseError, submitJob(body, opts()), "HTTP_ERROR", { httpStatus: 422, retryable: false });
    for (const err of [got, canceled, submitted]) {
      assert.equal(err.serverCode, CODE, err.message);
      assert.deepEqual(err.serverDetails, DETAILS, err.message);
    }
  });

  test("a result download's error body gives them, the message unchanged", async () => {
    const id = jid("dlpulseerr_410");
    const err = await rejectsWith(PulseError, waitForJob(id, opts()), "RESULT_DOWNLOAD_FAILED", { httpStatus: 410, retryable: false });
    assert.equal(err.serverCode, CODE);
    assert.deepEqual(err.serverDetails, DETAILS);
    assert.match(err.message, /^the result URL answered HTTP 410 Gone/);
    const forbidden = await rejectsWith(PulseError, waitForJob(jid("dlpulseerr_400"), opts()), "RESULT_DOWNLOAD_FAILED", { httpStatus: 400 });
    assert.equal(forbidden.serverCode, CODE);
  });

  test("a code that echoes the key is redacted, and details that hold it are left out", async () => {
    const download = jid("dlpulseerr_410");
    const cases = [
      ["poll", () => waitForJob(jid("pulseerr_401"), echo()), "HTTP_ERROR"],
      ["cancel", () => cancelJob(jid("pulseerr_403"), echo()), "HTTP_ERROR"],
      ["submit", () => submitJob({ file_url: "https://example.com/a.pdf", mock_answer: "pulseerr_401" }, echo()), "HTTP_ERROR"],
      ["download", () => waitForJob(download, echo()), "RESULT_DOWNLOAD_FAILED"],
    ];
    for (const [what, call, code] of cases) {
      const err = await rejectsWith(PulseError, call(), code);
      assert.equal(err.serverCode, "bad_key_[redacted]", what);
      assert.ok(!("serverDetails" in err), `${what}: serverDetails ${JSON.stringify(err.serverDetails)}`);
      assertNoKey(err);
    }
    const fetched = m.apiFor(download).filter((r) => r.path.startsWith("/large_results/"));
    assert.equal(fetched.at(-1)?.headers["x-api-key"], KEY, "precondition: the download carried the key");
  });

  test("a key with quotes and backslashes is caught as JSON escapes it", async () => {
    const err = await rejectsWith(PulseError, getJob(jid("pulseerr_400"), echo({ apiKey: ODD_KEY })), "HTTP_ERROR");
    assert.equal(err.serverCode, "bad_key_[redacted]");
    assert.ok(!("serverDetails" in err), JSON.stringify(err.serverDetails));
    assertNoKey(err, ODD_KEY);
  });

  test("bodies without Pulse's fields give none", async () => {
    const plain = await rejectsWith(PulseError, getJob(jid("status_404"), opts()), "HTTP_ERROR");
    assert.ok(!("serverCode" in plain) && !("serverDetails" in plain));
    const noDetails = await rejectsWith(PulseError, getJob(jid("errobj_400"), opts()), "HTTP_ERROR");
    assert.equal(noDetails.serverCode, "rate_limited");
    assert.ok(!("serverDetails" in noDetails));
    const text = await rejectsWith(PulseError, getJob(jid("text_500"), opts()), "HTTP_ERROR");
    assert.ok(!("serverCode" in text));
  });
});
