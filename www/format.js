// Small formatting helpers for the demo page.

const bytesFmt = new Intl.NumberFormat("en", { maximumFractionDigits: 1, minimumFractionDigits: 1 });
const intFmt = new Intl.NumberFormat("en");

/** "20.0 MB", "512 B" (1 MB = 1,000,000 bytes, as progress readouts usually do). */
export function formatBytes(n) {
  if (n == null || !Number.isFinite(n)) return "?";
  if (n < 1000) return `${n} B`;
  if (n < 1e6) return `${bytesFmt.format(n / 1e3)} kB`;
  if (n < 1e9) return `${bytesFmt.format(n / 1e6)} MB`;
  return `${bytesFmt.format(n / 1e9)} GB`;
}

/** "1.2 s", "850 ms", "2 min 05 s". */
export function formatMs(ms) {
  if (ms == null || !Number.isFinite(ms)) return "?";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`;
}

/** Local wall-clock time with milliseconds: "14:03:07.123". */
export function clock(date) {
  const p = (n, w = 2) => String(n).padStart(w, "0");
  return `${p(date.getHours())}:${p(date.getMinutes())}:${p(date.getSeconds())}.${p(date.getMilliseconds(), 3)}`;
}

export function formatInt(n) {
  return intFmt.format(n);
}

/** Create an element with optional class, text and attributes. Text always goes through textContent. */
export function el(tag, { cls, text, attrs } = {}, ...children) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text != null) node.textContent = text;
  if (attrs) for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const c of children) if (c != null) node.append(c);
  return node;
}
