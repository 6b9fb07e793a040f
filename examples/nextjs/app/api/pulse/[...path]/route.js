// /api/pulse/*: the key-on-server proxy. The browser calls this app
// (/api/pulse/job/{id}); this route forwards the request to Pulse and adds
// x-api-key here, so the key never reaches the browser.
//
// Put your own user authentication in front of it: whoever can call this
// route spends your Pulse account.
export const runtime = "nodejs";
export const dynamic = "force-dynamic";

const PREFIX = "/api/pulse";
// Only what the package sends: a closed list, so this is no open proxy.
const ROUTES = [
  { methods: ["GET", "DELETE"], path: /^job\/[^/]+$/ },
  { methods: ["GET"], path: /^large_results\/[^/]+$/ },
  { methods: ["POST"], path: /^(extract|split|schema|tables|batch\/[a-z]+)$/ },
];

const api = () => (process.env.PULSE_BASE_URL ?? "https://api.runpulse.com").replace(/\/+$/, "");
const refuse = (status, error) => Response.json({ error }, { status });

async function forward(request, { params }) {
  const key = process.env.PULSE_API_KEY;
  if (!key) return refuse(500, "PULSE_API_KEY is not set on the server");
  const { path } = await params;
  if (path.some((segment) => segment === "." || segment === "..")) return refuse(404, "Not found");
  const rest = path.map(encodeURIComponent).join("/");
  if (!ROUTES.some((r) => r.methods.includes(request.method) && r.path.test(rest))) return refuse(404, "Not found");

  const post = request.method === "POST";
  let upstream;
  try {
    upstream = await fetch(`${api()}/${rest}${new URL(request.url).search}`, {
      method: request.method,
      // Only what the API needs: never the browser's cookies or headers.
      headers: { "x-api-key": key, accept: "application/json", ...(post && { "content-type": request.headers.get("content-type") ?? "application/json" }) },
      body: post ? request.body : undefined, // JSON or multipart, streamed as is
      duplex: "half",
      redirect: "manual", // a redirect elsewhere must not get the key
      signal: request.signal,
    });
  } catch {
    return refuse(502, "Pulse API unreachable");
  }
  const headers = new Headers({ "cache-control": "no-store" });
  for (const name of ["content-type", "retry-after"]) {
    if (upstream.headers.has(name)) headers.set(name, upstream.headers.get(name));
  }
  const body = rest.startsWith("job/") && upstream.ok ? linkedHere(await upstream.text(), request) : upstream.body;
  return new Response(body, { status: upstream.status, headers });
}

/** A job's text, its large-result link moved here when on the API's origin (that link needs the key). */
function linkedHere(text, request) {
  let job;
  try {
    job = JSON.parse(text);
  } catch {
    return text; // not JSON after all: passed on as it is
  }
  const url = job?.result?.is_url === true ? String(job.result.url) : "";
  if (!url.startsWith(`${api()}/`)) return text;
  job.result.url = `${publicOrigin(request)}${PREFIX}${url.slice(api().length)}`;
  return JSON.stringify(job);
}

/** This app's origin as the browser addressed it (`request.url` names the server's own listening host). */
function publicOrigin(request) {
  const host = request.headers.get("x-forwarded-host") ?? request.headers.get("host");
  const proto = request.headers.get("x-forwarded-proto")?.split(",")[0] ?? "https";
  return `${proto}://${host}`;
}

export { forward as GET, forward as POST, forward as DELETE };
