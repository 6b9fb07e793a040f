// A small, safe markdown renderer for the result preview.
// Builds DOM nodes and sets text with textContent only: result data never
// reaches innerHTML. Supports headings, paragraphs, lists, fenced code,
// block quotes, pipe tables, rules, and inline code, emphasis and links.

import { el, formatInt } from "./format.js";

const CHUNK = 20000; // characters rendered per "show more"

/**
 * Render `markdown` into `container`, showing at most CHUNK characters at a
 * time with a "Show more" button for the rest.
 */
export function renderMarkdownPreview(container, markdown) {
  container.replaceChildren();
  let shown = 0;
  const body = el("div", { cls: "md-body" });
  const more = el("div", { cls: "md-more" });
  container.append(body, more);

  function showNext() {
    const end = cutAt(markdown, shown + CHUNK);
    // Re-render the whole visible prefix so blocks split by the cut (code
    // fences, lists) come out whole.
    shown = end;
    body.replaceChildren(renderMarkdown(markdown.slice(0, shown)));
    more.replaceChildren();
    if (shown < markdown.length) {
      const note = el("span", {
        cls: "help",
        text: `Showing ${formatInt(shown)} of ${formatInt(markdown.length)} characters. `,
      });
      const btn = el("button", { text: "Show more", attrs: { type: "button" } });
      btn.addEventListener("click", () => {
        showNext();
        more.querySelector("button")?.focus();
      });
      more.append(note, btn);
    }
  }
  showNext();
}

/** End index near `limit`, moved back to a line break when there is one close by. */
function cutAt(text, limit) {
  if (limit >= text.length) return text.length;
  const nl = text.lastIndexOf("\n", limit);
  return nl > limit - 2000 && nl > 0 ? nl : limit;
}

/** Render markdown text to a DocumentFragment. */
export function renderMarkdown(text) {
  const frag = document.createDocumentFragment();
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
  let i = 0;
  let para = [];

  const flushPara = () => {
    if (para.length) {
      frag.append(inline(el("p"), para.join(" ")));
      para = [];
    }
  };

  while (i < lines.length) {
    const line = lines[i];
    let m;
    if (/^\s*$/.test(line)) {
      flushPara();
      i++;
    } else if ((m = /^\s*(```+|~~~+)\s*([\w+-]*)/.exec(line))) {
      flushPara();
      const fence = m[1];
      const code = [];
      i++;
      while (i < lines.length && !lines[i].trim().startsWith(fence)) code.push(lines[i++]);
      i++; // closing fence (or end of text)
      const c = el("code", { text: code.join("\n") });
      if (m[2]) c.dataset.lang = m[2];
      frag.append(el("pre", {}, c));
    } else if ((m = /^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line))) {
      flushPara();
      // The preview sits under an h3, so markdown's h1 becomes h4 (capped at h6).
      const level = Math.min(6, m[1].length + 3);
      frag.append(inline(el(`h${level}`, { cls: `md-h${m[1].length}` }), m[2]));
      i++;
    } else if (/^\s{0,3}([-*_])(\s*\1){2,}\s*$/.test(line)) {
      flushPara();
      frag.append(el("hr"));
      i++;
    } else if (/^\s*>/.test(line)) {
      flushPara();
      const quoted = [];
      while (i < lines.length && /^\s*>/.test(lines[i])) quoted.push(lines[i++].replace(/^\s*>\s?/, ""));
      const bq = el("blockquote");
      bq.append(renderMarkdown(quoted.join("\n")));
      frag.append(bq);
    } else if (/^\s*([-*+]|\d{1,9}[.)])\s+/.test(line)) {
      flushPara();
      const ordered = /^\s*\d/.test(line);
      const list = el(ordered ? "ol" : "ul");
      const itemRe = ordered ? /^\s*(\d{1,9})[.)]\s+(.*)$/ : /^\s*[-*+]\s+(.*)$/;
      if (ordered) {
        const start = parseInt(/^\s*(\d+)/.exec(line)[1], 10);
        if (start !== 1) list.setAttribute("start", String(start));
      }
      let item = null;
      while (i < lines.length) {
        const l = lines[i];
        const im = itemRe.exec(l);
        if (im) {
          item = inline(el("li"), ordered ? im[2] : im[1]);
          list.append(item);
          i++;
        } else if (item && /^\s{2,}\S/.test(l)) {
          // continuation line of the previous item
          item.append(" ");
          inline(item, l.trim());
          i++;
        } else break;
      }
      frag.append(list);
    } else if (/^\s*\|.*\|\s*$/.test(line) && i + 1 < lines.length && /^\s*\|?\s*:?-{2,}/.test(lines[i + 1])) {
      flushPara();
      const rows = [];
      while (i < lines.length && /^\s*\|.*\|\s*$/.test(lines[i])) rows.push(lines[i++]);
      frag.append(table(rows));
    } else {
      para.push(line.trim());
      i++;
    }
  }
  flushPara();
  return frag;
}

function splitRow(row) {
  return row.trim().replace(/^\|/, "").replace(/\|$/, "").split("|").map((c) => c.trim());
}

function table(rows) {
  const wrap = el("div", { cls: "table-wrap" });
  const t = el("table");
  const head = el("thead");
  const tr = el("tr");
  for (const cell of splitRow(rows[0])) tr.append(inline(el("th", { attrs: { scope: "col" } }), cell));
  head.append(tr);
  const body = el("tbody");
  for (const row of rows.slice(2)) {
    const r = el("tr");
    for (const cell of splitRow(row)) r.append(inline(el("td"), cell));
    body.append(r);
  }
  t.append(head, body);
  wrap.append(t);
  return wrap;
}

// Inline: `code`, **strong**, __strong__, *em*, _em_, [text](http(s) url)
const INLINE = /`([^`]+)`|\*\*(.+?)\*\*|__(.+?)__|\*([^*\s](?:[^*]*[^*\s])?)\*|(?<![\w])_([^_\s](?:[^_]*[^_\s])?)_(?![\w])|\[([^\]]+)\]\(([^)\s]+)\)/g;

/** Append the inline markdown `text` to `parent` as text and element nodes. */
export function inline(parent, text) {
  const re = new RegExp(INLINE.source, "g"); // own lastIndex: this function recurses
  let last = 0;
  let m;
  while ((m = re.exec(text))) {
    if (m.index > last) parent.append(text.slice(last, m.index));
    if (m[1] != null) parent.append(el("code", { text: m[1] }));
    else if (m[2] != null || m[3] != null) parent.append(inline(el("strong"), m[2] ?? m[3]));
    else if (m[4] != null || m[5] != null) parent.append(inline(el("em"), m[4] ?? m[5]));
    else parent.append(link(m[6], m[7]));
    last = re.lastIndex;
  }
  if (last < text.length) parent.append(text.slice(last));
  return parent;
}

function link(label, href) {
  let url = null;
  try {
    url = new URL(href);
  } catch {
    /* relative or invalid: shown as text */
  }
  if (!url || (url.protocol !== "https:" && url.protocol !== "http:")) {
    return document.createTextNode(`${label} (${href})`);
  }
  const a = el("a", { attrs: { href: url.href, rel: "noopener noreferrer nofollow", target: "_blank" } });
  return inline(a, label);
}
