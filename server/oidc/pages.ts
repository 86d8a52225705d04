// Pages oidc-provider renders itself (errors, logout), drawn with our views.
import type { ErrorOut, KoaContextWithOIDC } from 'oidc-provider';
import type { Config } from '../config/index.ts';
import { pageContext } from '../http/page-context.ts';
import type { PageContext } from '../../views/layout.ts';
import { errorPage } from '../../views/error.ts';
import { loggedOutPage, logoutPage } from '../../views/logout.ts';
import { t } from '../../views/strings.ts';

type Ctx = KoaContextWithOIDC;

export function providerPages(config: Config) {
  const page = (ctx: Ctx): PageContext => pageContext(config, ctx);
  return {
    async renderError(ctx: Ctx, out: ErrorOut) {
      // A forged or stale logout confirmation is a CSRF refusal like our own forms' (403).
      if (out.error_description === 'xsrf token invalid') ctx.status = 403;
      ctx.type = 'html';
      // error_description is oidc-provider's fixed protocol text (never user input echoed raw: the view escapes it).
      ctx.body = errorPage(page(ctx), {
        title: t('error.title'),
        message: out.error_description ?? out.error,
        status: ctx.status,
      });
    },
    async logoutSource(ctx: Ctx, form: string) {
      ctx.type = 'html';
      ctx.body = logoutPage(page(ctx), { formHtml: form, clientName: ctx.oidc.client?.clientName });
    },
    async postLogoutSuccessSource(ctx: Ctx) {
      ctx.type = 'html';
      ctx.body = loggedOutPage(page(ctx), { clientName: ctx.oidc.client?.clientName });
    },
  };
}
