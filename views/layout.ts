// The page shell shared by every hosted page.
import { html, type SafeHtml } from './html.ts';

export interface PageContext {
  productName: string;
  brandColor: string;
  /** CSP nonce of this response (server/http/security-headers.ts). */
  nonce: string;
  lang?: string;
}

// Config already validates BRAND_COLOR; re-check because it lands inside CSS.
const HEX_COLOR = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i;
const DEFAULT_BRAND = '#2f5bd3';

export function layout(ctx: PageContext, title: string, body: SafeHtml): string {
  const brand = HEX_COLOR.test(ctx.brandColor) ? ctx.brandColor : DEFAULT_BRAND;
  return html`<!doctype html>
<html lang="${ctx.lang ?? 'en'}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<title>${title} · ${ctx.productName}</title>
<link rel="stylesheet" href="/static/latchkey.css">
<style nonce="${ctx.nonce}">:root{--brand:${brand}}</style>
</head>
<body>
<header class="site-header"><span class="product-name">${ctx.productName}</span></header>
<main class="card">
<h1>${title}</h1>
${body}
</main>
</body>
</html>
`.value;
}
