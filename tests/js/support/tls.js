// A self-signed certificate for 127.0.0.1/localhost, made at test time by the
// `openssl` CLI in a temporary directory (removed again at once). Clients must
// not verify it: set process.env.NODE_TLS_REJECT_UNAUTHORIZED = "0" in the
// test file's process before its first fetch (node --test runs each file in
// its own process, so this stays inside that file).

import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

/** The `openssl version` line, or null when there is no usable openssl. */
export function opensslVersion() {
  try {
    return execFileSync("openssl", ["version"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return null;
  }
}

/** { key, cert } (PEM strings) of a fresh self-signed certificate valid for a day. */
export function selfSignedCert() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pulse-jobs-tls-"));
  try {
    const key = path.join(dir, "key.pem");
    const cert = path.join(dir, "cert.pem");
    execFileSync(
      "openssl",
      [
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", "1",
        "-subj", "/CN=127.0.0.1",
        "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
        "-keyout", key, "-out", cert,
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    return { key: fs.readFileSync(key, "utf8"), cert: fs.readFileSync(cert, "utf8") };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
