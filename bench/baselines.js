// What `make bench` measures the package against, and the options each
// implementation of `bench/child.js` runs with. The target baseline is the
// plain poller bounding each request with the package's per-request timeout,
// which the contract requires of the package; the poller without one is kept
// as a second, labelled column, to show what those timeouts cost.

/** The package's default `requestTimeoutMs`, given to both sides that have one. */
export const REQUEST_TIMEOUT_MS = 30_000;

/** The implementations, by the name `bench/child.js` takes. */
export const PULSE = "pulse";
export const PLAIN = "plain";
export const PLAIN_NO_TIMEOUT = "plain-no-timeout";

/** The same options for all three; jitter 0 so that they sleep exactly the same. */
export function optionsFor(impl, baseUrl) {
  const base = { apiKey: "bench-key", baseUrl, jitter: 0, initialDelayMs: 10, multiplier: 1 };
  if (impl === PULSE || impl === PLAIN) return { ...base, requestTimeoutMs: REQUEST_TIMEOUT_MS };
  if (impl === PLAIN_NO_TIMEOUT) return base;
  throw new Error(`unknown implementation ${impl}; one of ${PULSE}, ${PLAIN}, ${PLAIN_NO_TIMEOUT}`);
}
