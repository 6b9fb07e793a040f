// Preloaded (--require) into consumer processes by consumers.test.js: if the
// process is still alive a few seconds after starting its wait, report on
// stderr what keeps it alive. The timer is unref'd, so it never holds the
// process up itself.
"use strict";
const ms = Number(process.env.PULSE_ALIVE_REPORT_MS || 8000);
setTimeout(() => {
  process.stderr.write(`still alive after ${ms} ms; active resources: ${JSON.stringify(process.getActiveResourcesInfo())}\n`);
}, ms).unref();
