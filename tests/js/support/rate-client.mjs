// Child process of bounds.test.js: a PulseClient with maxRequestsPerSecond
// sends `count` getJob calls at once, each for its own job id, while this
// process's event loop is kept busy (blocks of 2 to 8 ms every 11 ms), so
// that timers fire late as they do on a loaded machine. Prints, as JSON, the
// ids and when each fetch was called (Date.now, the clock the package uses).
//
// argv: <load.mjs URL> <apiUrl> <rate> <count> <id prefix>

const [loadUrl, apiUrl, rate, count, prefix] = process.argv.slice(2);
const { pulse } = await import(loadUrl);

const starts = [];
const fetch = (input, init) => {
  starts.push({ url: String(input), at: Date.now() });
  return globalThis.fetch(input, init);
};
let n = 0;
const busy = setInterval(() => {
  const until = Date.now() + 2 + (n++ % 7);
  while (Date.now() < until);
}, 11);
const client = new pulse.PulseClient({ baseUrl: apiUrl, fetch, maxRequestsPerSecond: Number(rate) });
const ids = Array.from({ length: Number(count) }, (_, i) => `ok-${prefix}r${i}`);
await Promise.all(ids.map((id) => client.getJob(id)));
clearInterval(busy);
process.stdout.write(JSON.stringify({ ids, starts }));
