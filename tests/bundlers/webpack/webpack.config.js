// webpack 5 with its production defaults. The only addition is a tiny plugin
// that copies index.html into the output (an app would use
// html-webpack-plugin; this keeps the fixture free of extra dependencies).
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));

class CopyIndexHtml {
  apply(compiler) {
    const { Compilation, sources } = compiler.webpack;
    compiler.hooks.thisCompilation.tap("CopyIndexHtml", (compilation) => {
      compilation.hooks.processAssets.tap({ name: "CopyIndexHtml", stage: Compilation.PROCESS_ASSETS_STAGE_ADDITIONAL }, () => {
        compilation.emitAsset("index.html", new sources.RawSource(readFileSync(join(here, "index.html"))));
      });
    });
  }
}

export default {
  mode: "production",
  context: here,
  entry: "./main.js",
  output: { path: join(here, "dist"), clean: true },
  plugins: [new CopyIndexHtml()],
};
