// Preloaded (--import) into a CLI run to make it take Node 18's path:
// fs.openAsBlob appeared in Node 19.8, and the CLI reads the file whole without it.
import fs from "node:fs";

delete fs.openAsBlob;
