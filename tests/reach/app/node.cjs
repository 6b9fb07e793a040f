// A Node script in CommonJS form: node node.cjs <api> <nonce>.
const pulse = require("pulse-jobs");

import("./check.js")
  .then(({ check }) => check(pulse, process.argv[2], process.argv[3]))
  .then((summary) => console.log(`REACH ${JSON.stringify(summary)}`));
