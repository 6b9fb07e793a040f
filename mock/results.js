// Deterministic extraction results of a requested size, as raw JSON bytes.
//
// A document is `{ "markdown": "...", "page_count": n, "chunks": [...] }`: the
// markdown has a title and one `## Page i` section (with `###` headings and
// paragraphs) per page, and `chunks` repeats the paragraphs as objects. The
// JSON is exactly `bytes` long (smaller requests than the ~1.4 KB one-page
// minimum get that minimum), pure ASCII, and the same on every call and run.
// Documents are cached per size, so a 50 MB body is generated once (~0.4 s)
// and then written from memory.

import zlib from "node:zlib";

export const SMALL_RESULT_BYTES = 2048;
export const MAX_RESULT_BYTES = 256 * 1024 * 1024;
const CACHE_LIMIT_BYTES = 320 * 1024 * 1024;

const WORDS = (
  "document extraction table invoice total page section figure caption revenue " +
  "quarter customer account balance statement summary analysis contract clause " +
  "party agreement signature date amount payment schedule report result model " +
  "data source value field record entry item line header footer note appendix " +
  "chapter heading list reference index number percent growth market region " +
  "product service period annual interim audit policy term notice delivery"
).split(" ");

// mulberry32: a tiny seeded generator, so the text is the same on every run.
function seededRandom(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function sentence(random) {
  const length = 6 + Math.floor(random() * 8);
  const words = Array.from({ length }, () => WORDS[Math.floor(random() * WORDS.length)]);
  words[0] = words[0][0].toUpperCase() + words[0].slice(1);
  return words.join(" ") + ".";
}

function paragraph(random) {
  const length = 2 + Math.floor(random() * 2);
  return Array.from({ length }, () => sentence(random)).join(" ");
}

const random = seededRandom(20240601);
const PARAGRAPHS = Array.from({ length: 37 }, () => paragraph(random));

function pageParagraphs(page) {
  return [0, 1, 2].map((k) => PARAGRAPHS[(page * 3 + k) % PARAGRAPHS.length]);
}

// Paragraphs are words, spaces and periods only, so they need no JSON escaping
// and pages can be written as JSON text directly (fast for 50 MB documents).
const NL = "\\n"; // an escaped newline inside a JSON string

function pageMarkdownJson(page) {
  const [summary, body, details] = pageParagraphs(page);
  return `## Page ${page}${NL}${NL}### Summary${NL}${NL}${summary}${NL}${NL}${body}${NL}${NL}` +
    `### Details${NL}${NL}${details}${NL}${NL}`;
}

function pageChunksJson(page) {
  return pageParagraphs(page).map((text, k) =>
    `{"chunk_id":"p${page}-${k + 1}","page":${page},"type":"paragraph","text":"${text}"}`,
  );
}

function filler(length) {
  const text = PARAGRAPHS[0] + " ";
  return text.repeat(Math.ceil(length / text.length)).slice(0, length);
}

const OPEN = '{"markdown":"';
const MIDDLE = '","page_count":';
const CHUNKS_OPEN = ',"chunks":[';
const CLOSE = "]}";

function title(bytes) {
  return `# Mock extraction result${NL}${NL}A deterministic document of ${bytes} bytes.${NL}${NL}`;
}

// A page's share of the JSON: its markdown plus its chunks, each with a comma.
function pageLength(page) {
  return pageMarkdownJson(page).length + pageChunksJson(page).reduce((sum, chunk) => sum + chunk.length + 1, 0);
}

// How many whole pages fit in `bytes` (at least one), and the padding that
// makes the document exactly `bytes` long.
function plan(bytes) {
  const fixed = OPEN.length + title(bytes).length + MIDDLE.length + CHUNKS_OPEN.length + CLOSE.length;
  const lengthOf = (pages, pageBytes) => fixed + String(pages).length + pageBytes - 1; // no comma after the last chunk
  let pages = 1;
  let pageBytes = pageLength(1);
  for (;;) {
    const grown = pageBytes + pageLength(pages + 1);
    if (lengthOf(pages + 1, grown) > bytes) break;
    pages += 1;
    pageBytes = grown;
  }
  const used = lengthOf(pages, pageBytes);
  return { pages, padding: Math.max(0, bytes - used), total: Math.max(bytes, used) };
}

// Writes the planned document straight into one Buffer: no 50 MB strings.
function buildDocument(bytes) {
  const { pages, padding, total } = plan(bytes);
  const buffer = Buffer.allocUnsafe(total);
  let offset = 0;
  const put = (text) => {
    offset += buffer.write(text, offset, "latin1");
  };
  put(OPEN);
  put(title(bytes));
  for (let page = 1; page <= pages; page++) put(pageMarkdownJson(page));
  put(filler(padding));
  put(MIDDLE + pages + CHUNKS_OPEN);
  for (let page = 1; page <= pages; page++) {
    put((page === 1 ? "" : ",") + pageChunksJson(page).join(","));
  }
  put(CLOSE);
  if (offset !== total) throw new Error(`mock result size mismatch: ${offset} != ${total}`);
  return buffer;
}

const cache = new Map();
let cachedBytes = 0;

function remember(bytes, document) {
  cache.set(bytes, document);
  cachedBytes += document.length;
  for (const [size, old] of cache) {
    if (cachedBytes <= CACHE_LIMIT_BYTES || cache.size === 1) break;
    cache.delete(size);
    cachedBytes -= old.length;
  }
}

/** The result document of `bytes` bytes as a Buffer (do not modify it: it is shared). */
export function resultDocument(bytes) {
  const cached = cache.get(bytes);
  if (cached) {
    cache.delete(bytes); // move to the end: least recently used goes first
    cache.set(bytes, cached);
    return cached;
  }
  const document = buildDocument(bytes);
  remember(bytes, document);
  return document;
}

// Compressed documents (dlgzip_B, dlbr_B), cached per encoding and size. The
// documents repeat a few dozen paragraphs, so they compress to a few percent.
const compressedCache = new Map();
const COMPRESSED_CACHE_ENTRIES = 16;
const COMPRESSORS = {
  gzip: (buffer) => zlib.gzipSync(buffer),
  br: (buffer) =>
    zlib.brotliCompressSync(buffer, {
      params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 5, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: buffer.length },
    }),
};

/** The document of `bytes` bytes compressed with `encoding` ("gzip" or "br"), as a Buffer. */
export function compressedDocument(bytes, encoding) {
  const key = `${encoding}:${bytes}`;
  let compressed = compressedCache.get(key);
  if (!compressed) {
    compressed = COMPRESSORS[encoding](resultDocument(bytes));
    compressedCache.set(key, compressed);
    if (compressedCache.size > COMPRESSED_CACHE_ENTRIES) compressedCache.delete(compressedCache.keys().next().value);
  }
  return compressed;
}
