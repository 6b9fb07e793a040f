// An edge handler (a Worker's module form): GET /?api=…&nonce=… runs the
// checks and answers their summary as JSON. The import is at module scope,
// as users write it.
import * as pulse from "pulse-jobs";
import { check } from "./check.js";

export default {
  async fetch(request) {
    const params = new URL(request.url).searchParams;
    return Response.json(await check(pulse, params.get("api"), params.get("nonce")));
  },
};
