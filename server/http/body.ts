// Parses urlencoded form POSTs for Latchkey's own routes only (oidc-provider
// parses its own bodies, so never mount this in front of it).
import type Koa from 'koa';
import { t } from '../../views/strings.ts';

export type FormBody = Record<string, string>;

declare module 'koa' {
  interface Request {
    body?: FormBody;
  }
}

function readLimited(ctx: Koa.Context, limitBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const req = ctx.req;
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limitBytes) {
        cleanup();
        // Discard the rest and close afterwards rather than buffer it.
        ctx.set('Connection', 'close');
        req.resume();
        reject(Object.assign(new Error(t('error.body_too_large')), { status: 413, expose: true }));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks));
    };
    const onError = (error: Error) => {
      cleanup();
      reject(Object.assign(error, { status: 400, expose: false }));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

/** URLSearchParams -> plain strings; the first value of a repeated name wins. */
export function parseForm(text: string): FormBody {
  // Null prototype: names like "__proto__" or "constructor" stay plain keys.
  const body: FormBody = Object.create(null);
  for (const [name, value] of new URLSearchParams(text)) {
    if (!Object.hasOwn(body, name)) body[name] = value;
  }
  return body;
}

export function formBody(limitBytes = 16 * 1024): Koa.Middleware {
  return async (ctx, next) => {
    if (ctx.method === 'POST') {
      const type = ctx.is('application/x-www-form-urlencoded');
      if (type === null || ctx.request.length === 0) {
        ctx.request.body = parseForm(''); // POST without a body
      } else if (type === false) {
        ctx.throw(415, t('error.body_type'));
      } else {
        if (ctx.request.length !== undefined && ctx.request.length > limitBytes) {
          ctx.set('Connection', 'close');
          ctx.throw(413, t('error.body_too_large'));
        }
        const bytes = await readLimited(ctx, limitBytes);
        ctx.request.body = parseForm(bytes.toString('utf8'));
      }
    }
    await next();
  };
}
