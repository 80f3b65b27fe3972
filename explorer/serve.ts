// Serving the built explorer (dist/explorer/app) from fastify: mounted under /explorer/ on a
// node's RPC port (explorerRoutes), or alone against any RPC URL (startExplorerServer, behind
// `wattcap explorer`). The file set is read once at start; only those names are served, so no
// request path ever reaches the file system. index.html and config.json are revalidated; the
// content-hashed bundle and stylesheet are cached for a year.
import { readdirSync, readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import { appDir } from "./build.js";

export interface ExplorerRouteOptions {
  /** The built files; default dist/explorer/app. */
  readonly dir?: string;
  /** Default "/explorer". */
  readonly prefix?: string;
  /** The RPC the pages call; undefined: the origin that served them (a node's own port). */
  readonly rpcUrl?: string;
}

interface StaticFile {
  readonly body: Buffer;
  readonly gzip: Buffer | undefined;
  readonly type: string;
  readonly immutable: boolean;
}

const TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  map: "application/json",
  txt: "text/plain; charset=utf-8",
  json: "application/json",
};

const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
  "connect-src 'self' http: https: ws: wss:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

function loadFiles(dir: string, rpcUrl: string | undefined): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>();
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return files;
  }
  for (const name of names) {
    const body = readFileSync(join(dir, name));
    const ext = name.slice(name.lastIndexOf(".") + 1);
    files.set(name, {
      body,
      gzip: ext === "js" || ext === "css" || ext === "html" ? gzipSync(body) : undefined,
      type: TYPES[ext] ?? "application/octet-stream",
      immutable:
        /-[A-Za-z0-9]{8}\.(js|css|map)$/.test(name) ||
        /-[A-Za-z0-9]{8}\.js\.LEGAL\.txt$/.test(name),
    });
  }
  const config = Buffer.from(JSON.stringify({ rpc: rpcUrl ?? null }));
  files.set("config.json", { body: config, gzip: undefined, type: TYPES.json!, immutable: false });
  return files;
}

function send(request: FastifyRequest, reply: FastifyReply, file: StaticFile): FastifyReply {
  const gzip =
    file.gzip !== undefined && /\bgzip\b/.test(String(request.headers["accept-encoding"] ?? ""));
  reply
    .header("content-type", file.type)
    .header("x-content-type-options", "nosniff")
    .header("referrer-policy", "no-referrer")
    .header("cache-control", file.immutable ? "public, max-age=31536000, immutable" : "no-cache")
    .header("vary", "accept-encoding");
  if (file.type.startsWith("text/html")) reply.header("content-security-policy", CSP);
  if (gzip) reply.header("content-encoding", "gzip");
  return reply.send(gzip ? file.gzip : file.body);
}

/**
 * Adds the explorer's routes to a fastify instance (before it listens):
 * GET {prefix} → redirect, GET {prefix}/ → index.html, GET {prefix}/{file} → a built file.
 * Returns false when the explorer was not built (the routes then answer 404 saying so).
 */
export function explorerRoutes(app: FastifyInstance, options: ExplorerRouteOptions = {}): boolean {
  const prefix = (options.prefix ?? "/explorer").replace(/\/+$/, "");
  if (!/^\/[A-Za-z0-9._/-]+$/.test(prefix)) throw new Error(`explorer: bad prefix ${prefix}`);
  const files = loadFiles(options.dir ?? appDir(), options.rpcUrl);
  const built = files.has("index.html");
  const missing = (reply: FastifyReply) =>
    reply
      .code(404)
      .type("text/plain")
      .send("The explorer is not built: run node dist/explorer/build.js");
  app.get(prefix, (_request, reply) => reply.redirect(`${prefix}/`, 301));
  app.get(`${prefix}/`, (request, reply) =>
    built ? send(request, reply, files.get("index.html")!) : missing(reply),
  );
  app.get<{ Params: { file: string } }>(`${prefix}/:file`, (request, reply) => {
    const file = files.get(request.params.file);
    if (!built) return missing(reply);
    if (file === undefined) return reply.code(404).type("text/plain").send("not found");
    return send(request, reply, file);
  });
  return built;
}

export interface StandaloneOptions {
  readonly rpcUrl: string;
  readonly host?: string;
  /** 0 picks a free port. */
  readonly port?: number;
  readonly dir?: string;
}

/** The explorer alone: its files under /explorer/, and / redirecting there. */
export async function startExplorerServer(
  options: StandaloneOptions,
): Promise<{ app: FastifyInstance; address: AddressInfo; url: string }> {
  const app = Fastify({ logger: false });
  const built = explorerRoutes(app, { rpcUrl: options.rpcUrl, dir: options.dir });
  if (!built) throw new Error("the explorer is not built: run node dist/explorer/build.js");
  app.get("/", (_request, reply) => reply.redirect("/explorer/", 302));
  await app.listen({ host: options.host ?? "127.0.0.1", port: options.port ?? 0 });
  const address = app.server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return { app, address, url: `http://${host}:${address.port}/explorer/` };
}
