// Pages oidc-provider renders itself (errors, logout), drawn with our views.
import type { ErrorOut, KoaContextWithOIDC } from 'oidc-provider';
import type { Config } from '../config/index.ts';
import { pageContext } from '../http/page-context.ts';
import type { PageContext } from '../../views/layout.ts';
import { errorPage } from '../../views/error.ts';
import { loggedOutPage, logoutPage } from '../../views/logout.ts';
import { t } from '../../views/strings.ts';
import { ACCOUNT_CLIENT_ID } from './account-client.ts';
import { PROVIDER_TEXT } from './internals.ts';

type Ctx = KoaContextWithOIDC;

/** The app a logout page names: none for the account page's built-in client ("Account asked to sign you out" reads badly). */
const appName = (ctx: Ctx): string | undefined =>
  (ctx.oidc.client?.clientId === ACCOUNT_CLIENT_ID ? undefined : ctx.oidc.client?.clientName);

export function providerPages(config: Config) {
  const page = (ctx: Ctx): PageContext => pageContext(config, ctx);
  return {
    async renderError(ctx: Ctx, out: ErrorOut) {
      // A forged or stale logout confirmation is a CSRF refusal like our own forms' (403).
      if (out.error_description === PROVIDER_TEXT.xsrfInvalid) ctx.status = 403;
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
      ctx.body = logoutPage(page(ctx), { formHtml: form, clientName: appName(ctx) });
    },
    async postLogoutSuccessSource(ctx: Ctx) {
      ctx.type = 'html';
      ctx.body = loggedOutPage(page(ctx), { clientName: appName(ctx) });
    },
  };
}
