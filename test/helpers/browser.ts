// A scripted browser for the hosted pages: a cookie jar, manual redirects,
// and form posts with the page's CSRF token. Enough to drive the code flow
// without Chromium; the MFA suites use real Chromium.
export class ScriptedBrowser {
  readonly cookies = new Map<string, string>();
  readonly origin: string;

  constructor(origin: string) {
    this.origin = origin;
  }

  cookieHeader(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  #store(response: Response) {
    for (const header of response.headers.getSetCookie()) {
      const [pair, ...attributes] = header.split(';');
      const index = pair.indexOf('=');
      const name = pair.slice(0, index).trim();
      const value = pair.slice(index + 1).trim();
      const expired = attributes.some((a) => /^\s*max-age=0/i.test(a) || /^\s*expires=Thu, 01 Jan 1970/i.test(a));
      if (expired || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  /** One request, no redirect following; stores cookies. */
  async request(url: string, init: RequestInit & { form?: Record<string, string> } = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size) headers.set('cookie', this.cookieHeader());
    let body = init.body;
    if (init.form) {
      headers.set('content-type', 'application/x-www-form-urlencoded');
      body = new URLSearchParams(init.form).toString();
    }
    const response = await fetch(new URL(url, this.origin), { ...init, headers, body, redirect: 'manual' });
    this.#store(response);
    return response;
  }

  /** Follows redirects on this origin until a page, or a redirect leaving it (returned as `location`). */
  async follow(url: string, init: RequestInit & { form?: Record<string, string> } = {}): Promise<{ response: Response; url: string; location?: string; html: string }> {
    let response = await this.request(url, init);
    let current = new URL(url, this.origin).toString();
    for (let hops = 0; hops < 20; hops++) {
      const location = response.headers.get('location');
      if (!location || response.status < 300 || response.status >= 400) break;
      const next = new URL(location, current);
      if (next.origin !== this.origin) return { response, url: current, location: next.toString(), html: '' };
      current = next.toString();
      response = await this.request(current);
    }
    return { response, url: current, html: await response.text() };
  }
}

/** The first form on a page: its action and hidden fields. */
export function parseForm(html: string, actionPattern?: RegExp): { action: string; fields: Record<string, string> } {
  const forms = [...html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)];
  const form = forms.find((f) => !actionPattern || actionPattern.test(/action="([^"]*)"/i.exec(f[1])?.[1] ?? ''));
  if (!form) throw new Error(`no form${actionPattern ? ` matching ${actionPattern}` : ''} in page:\n${html.slice(0, 2000)}`);
  const action = decodeEntities(/action="([^"]*)"/i.exec(form[1])?.[1] ?? '');
  const fields: Record<string, string> = {};
  for (const input of form[2].matchAll(/<input\b([^>]*)>/gi)) {
    const name = /name="([^"]*)"/i.exec(input[1])?.[1];
    const type = /type="([^"]*)"/i.exec(input[1])?.[1];
    if (name && type === 'hidden') fields[name] = decodeEntities(/value="([^"]*)"/i.exec(input[1])?.[1] ?? '');
  }
  return { action, fields };
}

const decodeEntities = (text: string) =>
  // &amp; last, so "&amp;lt;" stays "&lt;" (decoded once).
  text.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&#x27;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

export interface LoginOptions {
  email: string;
  password: string;
  /** Approve the consent page when one is shown (default true). */
  consent?: boolean;
}

// Latchkey counts a password attempt before checking it (C35: parallel guesses
// cannot slip under the limit), so more than 5 simultaneous sign-ins of one
// account from one address are refused. Tests that share a user (all from
// 127.0.0.1) therefore send its password one at a time.
const passwordQueues = new Map<string, Promise<unknown>>();
function oneAtATime<T>(key: string, work: () => Promise<T>): Promise<T> {
  const run = (passwordQueues.get(key) ?? Promise.resolve()).then(work, work);
  passwordQueues.set(key, run.catch(() => undefined));
  return run;
}

/**
 * Runs an authorization URL through login (and consent) like a user would.
 * Returns the redirect back to the client (with code or error).
 */
export async function signIn(browser: ScriptedBrowser, authorizationUrl: string, options: LoginOptions): Promise<URL> {
  let step = await browser.follow(authorizationUrl);
  for (let pages = 0; pages < 5 && !step.location; pages++) {
    if (/name="password"/.test(step.html)) {
      const { action, fields } = parseForm(step.html, /\/login$/);
      step = await oneAtATime(options.email.toLowerCase(), () =>
        browser.follow(action, { method: 'POST', form: { ...fields, email: options.email, password: options.password } }));
    } else if (/\/consent"/.test(step.html)) {
      const approve = options.consent ?? true;
      const { action, fields } = parseForm(step.html, approve ? /\/consent$/ : /\/abort$/);
      step = await browser.follow(action, { method: 'POST', form: fields });
    } else {
      throw new Error(`unexpected page ${step.url} (${step.response.status}):\n${step.html.slice(0, 2000)}`);
    }
  }
  if (!step.location) throw new Error(`sign-in did not return to the client; last page ${step.url}`);
  return new URL(step.location);
}
