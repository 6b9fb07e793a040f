// Reads a large result's body to the end and parses it, for `fetch.rs`.
// Rust still sends the request, follows redirects and turns each outcome
// into a PulseError; this loop only moves bytes. Driving every chunk from
// Rust cost a timer, closures and a promise per chunk; here one sliding
// stall timer serves the whole body (docs/decisions.md, "Packaging").
//
// The Response may be a caller's look-alike whose getters throw or lie, so
// every touch of it is inside a `try`, and every way this ends is either the
// parsed value or a `Failed` that names its kind for Rust.

/** How reading ended, when not with a value (numbered alike in `fetch.rs`, `mod body`). */
const TIMED_OUT = 0; // no byte arrived for a whole `timeoutMs`
const TOO_LARGE = 1; // past `maxBytes`
const BROKEN = 2; // a part of the Response threw when read; `text` names it
const INVALID = 3; // the Response lied about its shape; `text` says how
const NETWORK = 4; // a read rejected (the connection failed or was aborted)
const ENGINE = 5; // the engine could not hold the bytes or the text
const THROWN = 6; // `onProgress` threw

class Failed {
  constructor(kind, cause, text) {
    this.kind = kind;
    this.cause = cause;
    this.text = text;
  }
}

/** Past V8's longest string (2^29 - 24 one-byte characters) the text could
 * not be held anyway, and a false `Content-Length` must not reserve gigabytes. */
const MAX_BUFFERED_BYTES = 536_870_888;

/**
 * The body of `response` parsed as JSON. `signal` aborts when Rust stops
 * waiting (it is the request's own); `total` is the announced decoded
 * length or undefined; `onProgress({ loaded, total })` runs per chunk.
 * @throws {Failed}
 */
export async function readJson(response, signal, timeoutMs, maxBytes, total, onProgress) {
  const limits = { maxBytes, total, onProgress, loaded: 0 };
  const stall = new Stall(timeoutMs, signal);
  try {
    checkSize(limits, total ?? 0);
    const body = attempt(BROKEN, "body", () => response.body);
    const stream = attempt(BROKEN, "body", () => typeof body === "object" && body !== null && typeof body.getReader === "function");
    const text = stream ? await readStream(body, limits, stall) : await readWhole(response, limits, stall);
    try {
      return JSON.parse(text);
    } catch (e) {
      throw e instanceof SyntaxError ? new Failed(INVALID, e, "the downloaded result is not JSON") : new Failed(ENGINE, e);
    }
  } catch (e) {
    // What no `attempt` foresaw, such as a chunk whose `length` getter throws.
    throw e instanceof Failed ? e : new Failed(BROKEN, e, "body");
  } finally {
    stall.stop();
  }
}

/** Every chunk of a WHATWG stream, each within the stall timeout; the
 * stream is canceled when reading ends early. */
async function readStream(body, limits, stall) {
  const reader = attempt(BROKEN, "body.getReader()", () => body.getReader());
  if (typeof reader !== "object" || reader === null) {
    throw new Failed(INVALID, undefined, "the response body's getReader() did not return a reader");
  }
  try {
    const text = new Text(limits.total);
    for (;;) {
      const chunk = await stall.race(attempt(NETWORK, undefined, () => reader.read()));
      if (field(chunk, "done")) return text.finish();
      const bytes = field(chunk, "value");
      if (!ArrayBuffer.isView(bytes) || !(bytes instanceof Uint8Array)) {
        throw new Failed(INVALID, undefined, "the response body gave a chunk that is not a Uint8Array");
      }
      advance(limits, bytes.length, () => text.push(bytes));
    }
  } catch (e) {
    cancelQuietly(reader);
    throw e;
  }
}

/** The whole body through `arrayBuffer()`, for responses without a stream
 * (polyfills, node-fetch v2), bounded as a whole by the stall timeout. */
async function readWhole(response, limits, stall) {
  const pending = attempt(BROKEN, "arrayBuffer()", () => response.arrayBuffer());
  const buffer = await stall.race(pending);
  const bytes = attempt(ENGINE, undefined, () => new Uint8Array(buffer));
  const text = new Text(undefined);
  advance(limits, bytes.length, () => text.push(bytes));
  return text.finish();
}

/** Counts `length` more bytes: checked against the limit before `keep`
 * runs, reported after. */
function advance(limits, length, keep) {
  limits.loaded += length;
  checkSize(limits, limits.loaded);
  keep();
  const { loaded, total, onProgress } = limits;
  if (onProgress) {
    const info = { loaded, total: total !== undefined && loaded <= total ? total : null };
    // Called as a plain function: `this` is undefined, not `limits`.
    attempt(THROWN, undefined, () => onProgress(info));
  }
}

function checkSize(limits, bytes) {
  if (limits.maxBytes !== undefined && bytes > limits.maxBytes) throw new Failed(TOO_LARGE);
}

/** What `run()` returns; its throw as a `Failed` of `kind`. */
function attempt(kind, text, run) {
  try {
    return run();
  } catch (e) {
    throw new Failed(kind, e, text);
  }
}

/** A chunk's field; a chunk that is not an object, or a getter that throws, has none. */
function field(chunk, name) {
  try {
    return typeof chunk === "object" && chunk !== null ? chunk[name] : undefined;
  } catch {
    return undefined;
  }
}

/** Cancels the stream; a cancel that throws or rejects is ignored (reading
 * is already ending for another reason). */
function cancelQuietly(reader) {
  try {
    Promise.resolve(reader.cancel()).catch(() => {});
  } catch {
    // Nothing to release.
  }
}

/** A deadline that moves with progress: one timer per window however many
 * chunks arrive in it. Rust's abort (the request's signal) ends it too.
 * Each read gets a promise of its own: a `Promise.race` against one
 * long-lived promise would pile a reaction on it per chunk, and each would
 * keep its chunk alive until the body ends. */
class Stall {
  constructor(ms, signal) {
    this.ms = ms;
    this.last = Date.now();
    this.signal = signal;
    this.onAbort = () => this.end(new Failed(NETWORK, signal.reason));
    signal.addEventListener("abort", this.onAbort);
    this.arm(ms);
  }

  arm(ms) {
    this.timer = setTimeout(() => {
      const idle = Date.now() - this.last;
      if (idle >= this.ms) this.end(new Failed(TIMED_OUT));
      else this.arm(this.ms - idle);
    }, ms);
  }

  /** Fails the read in progress, and any later one. */
  end(failed) {
    this.failed ??= failed;
    this.reject?.(this.failed);
  }

  /** What `value` (a promise, a thenable or a plain value) settles to,
   * unless the window passes first; a rejection is a network failure. */
  async race(value) {
    const settled = await new Promise((resolve, reject) => {
      if (this.failed) reject(this.failed);
      this.reject = reject;
      new Promise((settle) => settle(value)).then(resolve, (e) => reject(new Failed(NETWORK, e)));
    });
    this.last = Date.now();
    return settled;
  }

  stop() {
    clearTimeout(this.timer);
    this.signal.removeEventListener("abort", this.onAbort);
  }
}

/** The text of a body. When its length is announced, chunks are copied into
 * one buffer of that size and decoded once at the end: no chunk outlives its
 * turn and the text is one flat string. Otherwise (an encoded or chunked
 * body, or more bytes than announced) each chunk is decoded as it arrives. */
class Text {
  constructor(announced) {
    this.decoder = new TextDecoder();
    this.text = "";
    this.filled = 0;
    this.buffer =
      announced > 0 && announced <= MAX_BUFFERED_BYTES ? attempt(ENGINE, undefined, () => new Uint8Array(announced)) : undefined;
  }

  push(bytes) {
    if (this.buffer) {
      if (this.buffer.length - this.filled >= bytes.length) {
        this.buffer.set(bytes, this.filled);
        this.filled += bytes.length;
        return;
      }
      // More than announced: decode what came so far and go on piece by piece.
      const soFar = this.buffer.subarray(0, this.filled);
      this.buffer = undefined;
      this.decode(soFar, true);
    }
    this.decode(bytes, true);
  }

  finish() {
    this.decode(this.buffer ? this.buffer.subarray(0, this.filled) : new Uint8Array(0), false);
    return this.text;
  }

  decode(bytes, more) {
    attempt(ENGINE, undefined, () => {
      this.text += this.decoder.decode(bytes, { stream: more });
    });
  }
}
