// The live status timeline: one row per poll (status, time, elapsed) with a
// countdown to the next poll on the newest row, plus rows for failed requests
// and other events.

import { clock, el, formatMs } from "./format.js";

export class Timeline {
  /** @param {HTMLOListElement} list */
  constructor(list) {
    this.list = list;
    this.countdown = null; // { until, span, delay }
    this.timer = null;
  }

  clear() {
    this.stopCountdown();
    this.list.replaceChildren();
  }

  /** A successful poll: `info` is waitForJob's onProgress info. */
  poll(job, info) {
    this.stopCountdown();
    const status = String(job.status);
    const row = this.row("poll", info.elapsedMs);
    row.dataset.status = status;
    row.append(
      el("span", { cls: "tl-what", text: `Poll ${info.attempt}` }),
      el("span", { cls: "badge", text: status, attrs: { "data-state": status } }),
    );
    if (info.nextDelayMs == null) {
      row.append(el("span", { cls: "tl-next", text: "final status" }));
    } else {
      const span = el("span", { cls: "tl-next" });
      row.append(span);
      this.countdown = { until: performance.now() + info.nextDelayMs, span, delay: info.nextDelayMs };
      this.tick();
      this.timer = setInterval(() => this.tick(), 100);
    }
    return row;
  }

  /** Any other event, e.g. a failed request or the start of a download. */
  event(kind, text, elapsedMs) {
    const row = this.row(kind, elapsedMs);
    row.append(el("span", { cls: "tl-what", text }));
    return row;
  }

  row(kind, elapsedMs) {
    const now = new Date();
    const li = el("li", { cls: `tl-${kind}` });
    li.append(
      el("time", { text: clock(now), attrs: { datetime: now.toISOString() } }),
      el("span", { cls: "tl-elapsed", text: elapsedMs == null ? "" : `+${formatMs(elapsedMs)}` }),
    );
    const atEnd = this.list.scrollTop + this.list.clientHeight >= this.list.scrollHeight - 4;
    this.list.append(li);
    // Follow the newest row inside the list's own scroll box (never scroll the page).
    if (atEnd) this.list.scrollTop = this.list.scrollHeight;
    return li;
  }

  tick() {
    const c = this.countdown;
    if (!c) return;
    const left = c.until - performance.now();
    c.span.textContent = left > 0 ? `next poll in ${(left / 1000).toFixed(1)} s` : "polling…";
  }

  /** Freeze the countdown (after the next poll or when the wait settles). */
  stopCountdown(finalText) {
    clearInterval(this.timer);
    this.timer = null;
    const c = this.countdown;
    if (c) c.span.textContent = finalText ?? `next poll after ${formatMs(c.delay)}`;
    this.countdown = null;
  }
}
