// A lazy, collapsible JSON tree that stays responsive for very large values
// (a 20 MB result): children are built only when their node is opened, arrays
// and objects show PAGE entries at a time, and long strings are cut with a
// "show more". Nodes are <details>/<summary>, so it works by keyboard.
// Values are shown with textContent only.

import { el, formatInt } from "./format.js";

const PAGE = 100;          // entries per page of an array or object
const STRING_CHUNK = 500;  // characters of a string shown at a time

/** Render `value` as a tree into `container` (the root starts open). */
export function renderJsonTree(container, value, rootLabel = "job") {
  container.replaceChildren();
  const list = el("ul", { cls: "jt-root" });
  list.append(node(rootLabel, value, true));
  container.append(list);
}

function node(key, value, open = false) {
  const li = el("li");
  if (value !== null && typeof value === "object") {
    const isArray = Array.isArray(value);
    const keys = isArray ? null : Object.keys(value);
    const count = isArray ? value.length : keys.length;
    const details = el("details");
    const summary = el("summary");
    summary.append(keyLabel(key), el("span", {
      cls: "jt-meta",
      text: isArray ? `[${formatInt(count)} ${count === 1 ? "item" : "items"}]` : `{${formatInt(count)} ${count === 1 ? "key" : "keys"}}`,
    }));
    details.append(summary);
    let filled = false;
    details.addEventListener("toggle", () => {
      if (details.open && !filled) {
        filled = true;
        const ul = el("ul");
        details.append(ul);
        page(ul, value, keys, count, 0);
      }
    });
    li.append(details);
    if (open) details.open = true; // fires "toggle" asynchronously, which fills it
    return li;
  }
  li.className = "jt-leaf";
  li.append(keyLabel(key), leaf(value));
  return li;
}

function page(ul, value, keys, count, from) {
  const to = Math.min(count, from + PAGE);
  const frag = document.createDocumentFragment();
  for (let i = from; i < to; i++) {
    frag.append(keys ? node(keys[i], value[keys[i]]) : node(i, value[i]));
  }
  ul.append(frag);
  if (to < count) {
    const li = el("li", { cls: "jt-more" });
    const btn = el("button", {
      text: `Show ${formatInt(Math.min(PAGE, count - to))} more`,
      attrs: { type: "button" },
    });
    const note = el("span", { cls: "jt-meta", text: ` (${formatInt(to)} of ${formatInt(count)} shown)` });
    btn.addEventListener("click", () => {
      const first = ul.children.length - 1; // index of the first new entry after removal
      li.remove();
      page(ul, value, keys, count, to);
      // keep keyboard focus in the list: on the first newly shown entry
      ul.children[first]?.querySelector("summary, button")?.focus();
    });
    li.append(btn, note);
    ul.append(li);
  }
}

function keyLabel(key) {
  return el("span", { cls: typeof key === "number" ? "jt-index" : "jt-key", text: typeof key === "number" ? `${key}: ` : `${JSON.stringify(key)}: ` });
}

function leaf(value) {
  if (typeof value === "string") {
    const span = el("span", { cls: "jt-string" });
    let shown = Math.min(value.length, STRING_CHUNK);
    const text = el("span");
    const render = () => {
      const part = JSON.stringify(value.slice(0, shown));
      text.textContent = shown < value.length ? part.slice(0, -1) + "…" : part;
    };
    render();
    span.append(text);
    if (shown < value.length) {
      const note = el("span", { cls: "jt-meta" });
      const btn = el("button", { cls: "link", attrs: { type: "button" } });
      const update = () => {
        note.textContent = ` ${formatInt(value.length)} chars `;
        btn.textContent = `show ${formatInt(Math.min(value.length - shown, STRING_CHUNK * 20))} more`;
      };
      update();
      btn.addEventListener("click", () => {
        shown = Math.min(value.length, shown + STRING_CHUNK * 20);
        render();
        if (shown >= value.length) {
          note.remove();
          btn.remove();
        } else update();
      });
      span.append(note, btn);
    }
    return span;
  }
  const type = value === null ? "null" : typeof value;
  return el("span", { cls: `jt-${type}`, text: value === undefined ? "undefined" : JSON.stringify(value) ?? String(value) });
}
