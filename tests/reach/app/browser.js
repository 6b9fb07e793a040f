// A browser app: import the package as any web app would, run the check
// against the mock given as ?api=…&nonce=…, and write the summary into the page.
import * as pulse from "pulse-jobs";
import { check } from "./check.js";

const params = new URLSearchParams(location.search);
check(pulse, params.get("api"), params.get("nonce")).then(
  (summary) => done("true", JSON.stringify(summary)),
  (error) => done("error", String(error?.stack ?? error)),
);

function done(state, text) {
  document.getElementById("result").textContent = text;
  document.documentElement.dataset.done = state;
}
