// Every link in README.md and docs/*.md resolves: a relative link names a
// file of the repository, an `#anchor` is a heading of its target (GitHub's
// slugs), and an http(s) link is a well-formed URL (not fetched: no network).

import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { test } from "./support/runner.js";
import { repoRoot } from "./support/package.js";

/** The text outside fenced code blocks, HTML comments and code spans, line by line. */
function prose(markdown) {
  const lines = [];
  let fence = null;
  for (const line of markdown.replace(/<!--[\s\S]*?-->/g, "").split("\n")) {
    const open = /^\s{0,3}(`{3,}|~{3,})/.exec(line);
    if (fence) {
      if (open && open[1][0] === fence[0] && open[1].length >= fence.length && !line.trim().slice(open[1].length).trim()) fence = null;
      lines.push("");
    } else if (open) {
      fence = open[1];
      lines.push("");
    } else {
      lines.push(line.replace(/(`+)[\s\S]*?\1/g, ""));
    }
  }
  return lines;
}

/** GitHub's anchor for a heading's text: lower case, punctuation dropped, each space a hyphen. */
function slug(heading) {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1") // a link shows its text
    .replace(/`/g, "")
    .trim()
    .toLowerCase();
  return text.replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "").replace(/ /g, "-");
}

/** The anchors a markdown file defines: its headings' slugs (repeats get -1, -2, …) and `<a id|name>`. */
function anchors(markdown) {
  const seen = new Map();
  const out = new Set();
  let fence = null;
  for (const line of markdown.split("\n")) {
    const open = /^\s{0,3}(`{3,}|~{3,})/.exec(line);
    if (fence) {
      if (open && open[1][0] === fence[0] && open[1].length >= fence.length) fence = null;
      continue;
    }
    if (open) {
      fence = open[1];
      continue;
    }
    const heading = /^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading) {
      const base = slug(heading[1]);
      const n = seen.get(base) ?? 0;
      seen.set(base, n + 1);
      out.add(n ? `${base}-${n}` : base);
    }
    for (const m of line.matchAll(/<a\s[^>]*(?:id|name)="([^"]+)"/g)) out.add(m[1]);
  }
  return out;
}

/** Every link target in `markdown`, with its line number. */
function links(markdown) {
  const found = [];
  prose(markdown).forEach((line, i) => {
    const at = i + 1;
    for (const m of line.matchAll(/!?\[(?:[^\]\\]|\\.)*\]\(\s*(<[^>]*>|[^\s)]*)(?:\s+(?:"[^"]*"|'[^']*'))?\s*\)/g)) {
      found.push({ at, target: m[1].replace(/^<|>$/g, "") });
    }
    const ref = /^\s{0,3}\[[^\]]+\]:\s*(\S+)/.exec(line);
    if (ref) found.push({ at, target: ref[1].replace(/^<|>$/g, "") });
    for (const m of line.matchAll(/<(https?:[^>\s]+)>/g)) found.push({ at, target: m[1] });
  });
  return found;
}

/** Why `target`, linked from `file` (a path inside `root`, whose text is `own`), does not resolve; null when it does. */
function problem(file, own, target, root) {
  if (/^[a-z][a-z0-9+.-]*:/i.test(target)) {
    if (!/^https?:/i.test(target)) return `not an http(s) link`;
    try {
      const url = new URL(target);
      return url.hostname && url.href.startsWith(`${url.protocol}//`) ? null : "not a well-formed URL";
    } catch {
      return "not a well-formed URL";
    }
  }
  if (target === "") return "an empty link";
  const [rawPath, anchor] = target.split("#", 2);
  let decoded;
  try {
    decoded = decodeURIComponent(rawPath);
  } catch {
    return "a path that cannot be decoded";
  }
  if (decoded === "") return anchors(own).has(anchor) ? null : `no heading #${anchor} here`;
  const resolved = decoded.startsWith("/") ? path.join(root, decoded) : path.resolve(path.dirname(file), decoded);
  const inside = path.relative(root, resolved);
  if (inside.startsWith("..") || path.isAbsolute(inside)) return "a file outside the repository";
  if (!existsSync(resolved)) return `no such file: ${inside || "."}`;
  if (anchor === undefined) return null;
  if (statSync(resolved).isDirectory() || !resolved.endsWith(".md")) return `an anchor into ${inside}, which is not a markdown file`;
  return anchors(readFileSync(resolved, "utf8")).has(anchor) ? null : `no heading #${anchor} in ${inside}`;
}

/** Every link of `markdown` (the text of `file`) that does not resolve, as "file:line target: why". */
function brokenLinks(file, markdown, root = repoRoot) {
  return links(markdown)
    .map(({ at, target }) => {
      const why = problem(file, markdown, target, root);
      return why && `${path.relative(root, file)}:${at} ${target}: ${why}`;
    })
    .filter(Boolean);
}

const docs = path.join(repoRoot, "docs");
const files = [path.join(repoRoot, "README.md"), ...readdirSync(docs).filter((f) => f.endsWith(".md")).map((f) => path.join(docs, f))];

for (const file of files) {
  test(`every link in ${path.relative(repoRoot, file)} resolves`, () => {
    const text = readFileSync(file, "utf8");
    assert.deepEqual(brokenLinks(file, text), []);
  });
}

test("the README links to each document in docs/", () => {
  const linked = new Set(links(readFileSync(files[0], "utf8")).map(({ target }) => target.split("#")[0]));
  for (const file of files.slice(1)) assert.ok(linked.has(path.relative(repoRoot, file)), `README.md does not link to ${path.relative(repoRoot, file)}`);
});

test("slugs are GitHub's", () => {
  assert.equal(slug("Beside Pulse's own SDK"), "beside-pulses-own-sdk");
  assert.equal(slug("Browser apps: keep the key on your server"), "browser-apps-keep-the-key-on-your-server");
  assert.equal(slug("`watchJob`"), "watchjob");
  assert.equal(slug("`wait_for` & [links](x.md)"), "wait_for--links");
  assert.equal(slug("Works with"), "works-with");
  assert.deepEqual([...anchors("# A\n## A\n```\n# not a heading\n```\n### A\n")], ["a", "a-1", "a-2"]);
});

test("the checker finds each kind of broken link", () => {
  const file = path.join(docs, "fixture.md"); // never written: only its folder matters
  const text = [
    "# Here",
    "[ok](contract.md#loading) [ok](#here) [ok](../README.md) [ok](https://runpulse.com/docs)",
    "[gone](missing.md) [anchor](contract.md#no-such-heading) [local](#nowhere)",
    "[out](../../elsewhere.md) [bad](https://) [scheme](ftp://example.com/x)",
    "`[in code](missing-too.md)`",
    "```md",
    "[in a fence](missing-three.md)",
    "```",
    "[ref]: also-missing.md",
  ].join("\n");
  assert.deepEqual(brokenLinks(file, text), [
    "docs/fixture.md:3 missing.md: no such file: docs/missing.md",
    "docs/fixture.md:3 contract.md#no-such-heading: no heading #no-such-heading in docs/contract.md",
    "docs/fixture.md:3 #nowhere: no heading #nowhere here",
    "docs/fixture.md:4 ../../elsewhere.md: a file outside the repository",
    "docs/fixture.md:4 https://: not a well-formed URL",
    "docs/fixture.md:4 ftp://example.com/x: not an http(s) link",
    "docs/fixture.md:9 also-missing.md: no such file: docs/also-missing.md",
  ]);
});
