// Time-driven jobs for the demo page, created by a submission (`POST /extract`
// and the others, see submit.js) naming a demo scenario. Their status follows
// the wall time since creation: pending -> processing -> the outcome. Job ids are
// `demo-<scenario>-<random>`, which the scenario table does not know, so they
// exist only until the next reset.

import { randomUUID } from "node:crypto";
import { job, cut, json } from "./replies.js";
import { FAILED_ERROR, completed, documentReply, pointer, storageUrl } from "./scenarios.js";
import { resultDocument } from "./results.js";

const DEMO_SCENARIOS = {
  quick: { processingAfterMs: 500, doneAfterMs: 2_000, resultBytes: 4_096 },
  slow: { processingAfterMs: 2_000, doneAfterMs: 12_000, resultBytes: 16_384 },
  large: { processingAfterMs: 1_000, doneAfterMs: 4_000, resultBytes: 20_000_000, byUrl: true },
  failing: { processingAfterMs: 1_000, doneAfterMs: 3_000, error: FAILED_ERROR },
  // Poll 2 answers 503, poll 3 loses its connection, poll 5 answers 502 (while not done).
  flaky: { processingAfterMs: 1_000, doneAfterMs: 6_000, resultBytes: 4_096, faults: { 2: 503, 3: "cut", 5: 502 } },
};

export const DEMO_SCENARIO_NAMES = Object.keys(DEMO_SCENARIOS);

export function isDemoScenario(name) {
  return Object.hasOwn(DEMO_SCENARIOS, name);
}

export function newDemoJobId(name) {
  return `demo-${name}-${randomUUID().slice(0, 8)}`;
}

function fault(kind) {
  return kind === "cut" ? cut() : json(kind, { error: `mock transient ${kind}` });
}

function outcome(plan, ctx) {
  if (plan.error) return job(ctx, "failed", { error: plan.error });
  if (plan.byUrl) return pointer(ctx, storageUrl(ctx, 1));
  return completed(ctx, resultDocument(plan.resultBytes));
}

/** The scenario object (same shape as the table's) of a demo job. */
export function demoScenario(name) {
  const plan = DEMO_SCENARIOS[name];
  return {
    poll(ctx) {
      const elapsed = ctx.now - ctx.state.createdAt;
      if (elapsed >= plan.doneAfterMs) return outcome(plan, ctx);
      const planned = plan.faults?.[ctx.poll];
      if (planned) return fault(planned);
      return job(ctx, elapsed < plan.processingAfterMs ? "pending" : "processing");
    },
    download: plan.byUrl ? () => documentReply(plan.resultBytes) : undefined,
  };
}
