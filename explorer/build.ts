// Builds the explorer into static files: one minified ES module bundle and one stylesheet, both
// named by content hash so they can be cached forever, and an index.html that names them (the
// only file a browser must revalidate). Run at install time by `prepare`, after tsc:
//   node dist/explorer/build.js
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

/** The folder with package.json above this file (it runs from explorer/ or dist/explorer/). */
export function projectRoot(from = dirname(fileURLToPath(import.meta.url))): string {
  let dir = from;
  while (!existsSync(join(dir, "package.json"))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${from}`);
    dir = up;
  }
  return dir;
}

/** Where the built files go: dist/explorer/app (beside tsc's own dist/explorer output). */
export function appDir(root = projectRoot()): string {
  return join(root, "dist", "explorer", "app");
}

export interface BuiltExplorer {
  readonly dir: string;
  /** File names in `dir`, index.html first. */
  readonly files: readonly string[];
  readonly bundleBytes: number;
}

const hash8 = (data: Uint8Array | string) =>
  createHash("sha256").update(data).digest("hex").slice(0, 8);

export async function buildExplorer(
  root = projectRoot(),
  outDir = appDir(root),
): Promise<BuiltExplorer> {
  const src = join(root, "explorer");
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  const result = await build({
    entryPoints: [join(src, "src", "main.ts")],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: ["es2022"],
    minify: true,
    sourcemap: "linked",
    entryNames: "[name]-[hash]",
    outdir: outDir,
    metafile: true,
    legalComments: "linked",
    logLevel: "silent",
  });
  const outputs = Object.keys(result.metafile.outputs);
  const bundle = outputs.find((f) => f.endsWith(".js"));
  if (bundle === undefined) throw new Error("esbuild wrote no bundle");
  const bundleName = bundle.slice(bundle.lastIndexOf("/") + 1);
  const bundleBytes = result.metafile.outputs[bundle]?.bytes ?? 0;

  const css = await readFile(join(src, "style.css"), "utf8");
  const cssName = `style-${hash8(css)}.css`;
  await writeFile(join(outDir, cssName), css);

  const html = (await readFile(join(src, "index.html"), "utf8"))
    .replace('href="style.css"', `href="${cssName}"`)
    .replace('src="main.js"', `src="${bundleName}"`);
  if (!html.includes(cssName) || !html.includes(bundleName)) {
    throw new Error("explorer/index.html no longer names style.css and main.js");
  }
  await writeFile(join(outDir, "index.html"), html);
  const others = outputs.map((f) => f.slice(f.lastIndexOf("/") + 1));
  return { dir: outDir, files: ["index.html", cssName, ...others], bundleBytes };
}

// `node dist/explorer/build.js`
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const built = await buildExplorer();
  console.log(
    `explorer: ${built.files.length} files in ${built.dir}, bundle ${built.bundleBytes} bytes`,
  );
}
