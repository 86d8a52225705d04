// One canonical form of an email address for everything that compares
// addresses: account lookup and uniqueness (accounts.email_canonical), the
// sign-in throttle's keys and the known-browser cookie. Any future email flow
// (reset links, invitations) must compare through it too: if two places
// disagree, a spelling that finds an account can dodge its limits (C56:
// Postgres lower() found "ibis@" for "İbis@", the throttle counted it apart).
// Computed here, never by the database: lower() follows the database's locale,
// and embedded PGlite's is not Postgres's.
import { createHmac } from 'node:crypto';

/**
 * The address with case and Unicode spelling folded away:
 * - lone surrogates become U+FFFD (what Postgres and a hash would see anyway);
 * - NFKD: fullwidth letters, ligatures (ﬁ), the Kelvin sign, the Angstrom sign
 *   and other compatibility forms become plain letters and marks;
 * - a full case fold: JS has none built in, lower -> upper -> lower gets the
 *   same classes (ß, ẞ -> ss; ſ -> s; ı -> i; ΣΑΣ, σας -> σας), idempotently;
 * - İ (capital I with dot above) -> i, as ı does: a dot above directly after
 *   an i (after NFD) is dropped, so both Turkish i's and what Postgres lower()
 *   gave stay one account. (Unicode's default fold would make it "i̇", a
 *   different address.)
 * - NFKC, then trim.
 * The address as typed stays in accounts.email for display.
 */
export function canonicalEmail(email: string): string {
  const folded = email.toWellFormed().normalize('NFKD').toLowerCase().toUpperCase().toLowerCase();
  return folded.normalize('NFD').replace(/i\u0307+/g, 'i').normalize('NFKC').trim();
}

/**
 * HMAC-SHA256 (hex) of the canonical address: what stores outside the
 * accounts table (throttle keys, cookies) hold instead of an email. Keyed, so
 * a Redis dump or a cookie cannot be matched against a list of addresses.
 */
export const emailHash = (key: Buffer, email: string): string =>
  createHmac('sha256', key).update(canonicalEmail(email)).digest('hex');
