// The request log: one record per request to either side, kept in a live
// array (`requests`) that reset() empties in place.

import { CUT_BY_MOCK } from "./http.js";

export function createRecorder() {
  const requests = [];

  /**
   * Records a request; the record is updated in place later: `jobId` and
   * `body` (what a submission sent, see submit.js) may be filled in, `status`
   * when headers are sent, `closedEarly` when the client goes away before the
   * response ended.
   */
  function record(side, req, res, { path, jobId = null }) {
    const entry = {
      side,
      method: req.method,
      path,
      jobId,
      headers: { ...req.headers },
      body: null,
      at: Date.now(),
      end: null,
      closedEarly: false,
      status: null,
    };
    requests.push(entry);
    res.on("close", () => {
      entry.end = Date.now();
      if (!res.writableFinished && !res[CUT_BY_MOCK]) entry.closedEarly = true;
    });
    return entry;
  }

  /** Records matching `job` (a job id) and `side`, when given. */
  function list({ job = null, side = null } = {}) {
    return requests.filter((r) => (job === null || r.jobId === job) && (side === null || r.side === side));
  }

  function clear() {
    requests.length = 0;
  }

  return { requests, record, list, clear };
}
