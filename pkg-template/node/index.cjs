"use strict";
// Node, require(): the wasm is compiled synchronously when this module loads.
const wasm = require("./pulse_jobs.cjs");
const { PulseError, coreError } = require("../pulse_error.cjs");
const { publicClient } = require("../client.cjs");

wasm.setErrorFactory(coreError);

module.exports = {
  waitForJob: wasm.waitForJob,
  getJob: wasm.getJob,
  cancelJob: wasm.cancelJob,
  PulseClient: publicClient(wasm.PulseClient, PulseError),
  PulseError,
};
