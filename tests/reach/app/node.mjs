// A Node (or Deno, or Bun) script in ES-module form: node node.mjs <api> <nonce>.
// No top-level await, so that it can be bundled to CommonJS too.
import * as pulse from "pulse-jobs";
import { check } from "./check.js";

check(pulse, process.argv[2], process.argv[3]).then((summary) => console.log(`REACH ${JSON.stringify(summary)}`));
