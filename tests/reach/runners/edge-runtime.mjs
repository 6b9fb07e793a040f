// Runs a script in the edge-runtime VM (the `edge-runtime` package, Vercel's
// edge runtime) behind its own server; prints the summary of one request as
// a REACH line.
//   node edge-runtime.mjs <script> <api> <nonce>
import { readFileSync } from "node:fs";
import { EdgeRuntime, runServer } from "edge-runtime";

const [script, api, nonce] = process.argv.slice(2);
const runtime = new EdgeRuntime({ initialCode: readFileSync(script, "utf8") });
const server = await runServer({ runtime, host: "127.0.0.1", port: 0 });
try {
  const answer = await fetch(`${server.url}?${new URLSearchParams({ api, nonce })}`);
  console.log(`REACH ${await answer.text()}`);
} finally {
  await server.close();
}
