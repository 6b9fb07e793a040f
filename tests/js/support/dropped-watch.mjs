// Child process of bounds.test.js, run with --expose-gc: starts a watchJob
// with timeoutMs: 0 on a job that never ends, takes one value, drops the
// iterator without return(), and collects it. Prints "dropped <Date.now()>"
// once it has; the process must then stop polling and exit by itself.
//
// argv: <load.mjs URL> <apiUrl> <job id>

const [loadUrl, apiUrl, id] = process.argv.slice(2);
const { pulse } = await import(loadUrl);
const tick = () => new Promise((r) => setTimeout(r, 20));

await (async () => {
  const it = pulse.watchJob(id, { baseUrl: apiUrl, timeoutMs: 0, initialDelayMs: 20, multiplier: 1, jitter: 0 });
  const first = await it.next();
  if (first.done) throw new Error("the watch ended");
})();
for (let i = 0; i < 5; i++) {
  globalThis.gc();
  await tick();
}
process.stdout.write(`dropped ${Date.now()}\n`);
