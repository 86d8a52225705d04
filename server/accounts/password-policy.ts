// Password rules after NIST SP 800-63B and OWASP ASVS V2.1: length is what
// counts (8 to 1024 code points), any character is allowed, no composition
// rules, nothing is truncated, and known-common passwords are refused.
import { readFileSync } from 'node:fs';

export const MIN_PASSWORD_LENGTH = 8;
export const MAX_PASSWORD_LENGTH = 1024;
// A common word with a short run of digits/symbols around it is as weak as the word.
const MAX_GUESSABLE_AFFIX = 6;

let common: Set<string> | undefined;
function commonPasswords(): Set<string> {
  common ??= new Set(
    readFileSync(new URL('./common-passwords.txt', import.meta.url), 'utf8')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith('#')),
  );
  return common;
}

export interface PasswordContext {
  /** The account's email: a password built on it is refused. */
  email?: string;
  /** The product name shown to users ("latchkey123" is an obvious guess). */
  productName?: string;
}

/** undefined when acceptable, else a one-line reason to show the user. */
export function checkPassword(password: string, context: PasswordContext = {}): string | undefined {
  const length = [...password].length; // code points, so emoji and accents count once
  if (length < MIN_PASSWORD_LENGTH) return `password must be at least ${MIN_PASSWORD_LENGTH} characters`;
  if (length > MAX_PASSWORD_LENGTH) return `password must be at most ${MAX_PASSWORD_LENGTH} characters`;
  const lower = password.normalize('NFKC').toLowerCase();
  if (isCommon(lower)) return 'this password is too common; choose a longer phrase that is not a well-known password';
  if (new Set(lower).size === 1) return 'password must not be a single repeated character';
  for (const word of contextWords(context)) {
    if (lower.includes(word) && [...lower.replace(word, '')].length < MIN_PASSWORD_LENGTH) {
      return 'password is too close to your email address or the site name';
    }
  }
  return undefined;
}

function isCommon(lower: string): boolean {
  const list = commonPasswords();
  if (list.has(lower)) return true;
  // "Password2024!" -> "password": strip leading and trailing digits/symbols.
  const core = lower.replace(/^[\d\W_]+|[\d\W_]+$/gu, '');
  return core !== lower && lower.length - core.length <= MAX_GUESSABLE_AFFIX && list.has(core);
}

function contextWords({ email, productName }: PasswordContext): string[] {
  const words = [email?.toLowerCase(), email?.split('@')[0]?.toLowerCase(), productName?.toLowerCase()];
  return words.filter((word): word is string => !!word && word.length >= 4);
}
