import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Hono } from 'hono';

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

const JS = 'text/javascript; charset=utf-8';

const FILES: Record<string, string> = {
  'candor.css': 'text/css; charset=utf-8',
  'candor.js': JS,
  'passkeys.js': JS,
  'pdf-viewer.js': JS,
  'logo.svg': 'image/svg+xml',
  'pdfjs.mjs': JS,
  'pdfjs-worker.mjs': JS,
};

const require = createRequire(import.meta.url);

/**
 * Files served from an npm package rather than from ./assets: pdf.js's legacy build (its module and its worker) for
 * the view-only document viewer, from our own origin so that script-src 'self' covers them.
 */
const PACKAGED: Record<string, string> = {
  'pdfjs.mjs': 'pdfjs-dist/legacy/build/pdf.min.mjs',
  'pdfjs-worker.mjs': 'pdfjs-dist/legacy/build/pdf.worker.min.mjs',
};

function sourceOf(file: string): string | URL {
  const packaged = PACKAGED[file];
  return packaged ? require.resolve(packaged) : new URL(`./assets/${file}`, import.meta.url);
}

function load(): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const [file, type] of Object.entries(FILES)) {
    const body = readFileSync(sourceOf(file));
    const digest = createHash('sha256').update(body).digest('hex').slice(0, 12);
    const [base, ext] = file.split('.') as [string, string];
    assets.set(`${base}.${digest}.${ext}`, { body, type, etag: `"${digest}"` });
  }
  return assets;
}

const assets = load();
const byName = new Map([...assets.keys()].map((hashed) => [hashed.replace(/\.[0-9a-f]{12}\./, '.'), hashed]));

/** The URL of an asset under its content hash, so it can be cached for a year and never go stale. */
export function assetUrl(file: keyof typeof FILES | string): string {
  const hashed = byName.get(file);
  if (!hashed) throw new Error(`unknown asset ${file}`);
  return `/assets/${hashed}`;
}

/** Serves the design system's files with long-lived, immutable cache headers. */
export function assetRoutes(): Hono {
  const app = new Hono();
  app.get('/assets/:file', (c) => {
    const asset = assets.get(c.req.param('file'));
    if (!asset) return c.notFound();
    if (c.req.header('if-none-match') === asset.etag) return c.body(null, 304);
    c.header('content-type', asset.type);
    c.header('cache-control', 'public, max-age=31536000, immutable');
    c.header('etag', asset.etag);
    return c.body(new Uint8Array(asset.body));
  });
  return app;
}
