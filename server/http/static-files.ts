// Serves the hosted pages' assets (views/static) so pages need no CDN.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type Koa from 'koa';

const STATIC_DIR = fileURLToPath(new URL('../../views/static/', import.meta.url));

const CONTENT_TYPES: Record<string, string> = {
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

function decodePath(path: string): string | undefined {
  try {
    const decoded = decodeURIComponent(path);
    return decoded.includes('\0') ? undefined : decoded;
  } catch {
    return undefined;
  }
}

export function staticFiles(prefix = '/static', dir = STATIC_DIR): Koa.Middleware {
  const root = resolve(dir);
  return async (ctx, next) => {
    if ((ctx.method !== 'GET' && ctx.method !== 'HEAD') || !ctx.path.startsWith(`${prefix}/`)) return next();
    const relative = decodePath(ctx.path.slice(prefix.length + 1));
    // No dotfiles, and the resolved path must stay inside the directory.
    if (!relative || relative.split(/[\\/]/).some((part) => part.startsWith('.'))) return next();
    const file = resolve(root, relative);
    const type = CONTENT_TYPES[extname(file).toLowerCase()];
    if (!type || !file.startsWith(root + sep)) return next();
    const info = await stat(file).catch(() => undefined);
    if (!info?.isFile()) return next();

    ctx.status = 200;
    ctx.type = type;
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.lastModified = info.mtime;
    ctx.etag = `W/"${info.size.toString(16)}-${info.mtimeMs.toString(16)}"`;
    if (ctx.fresh) {
      ctx.status = 304;
      return;
    }
    ctx.length = info.size;
    ctx.body = createReadStream(file);
  };
}
