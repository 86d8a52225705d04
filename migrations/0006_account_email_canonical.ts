// accounts.email_canonical: the address in the one canonical form
// (server/accounts/email.ts) that lookups, uniqueness and the sign-in
// throttle share. It replaces the unique index on lower(email), whose folding
// came from the database's locale and disagreed with the throttle (C56).
// TypeScript, not SQL: the backfill must use that same function. Should
// canonicalEmail() ever change, a new migration recomputes the column.
import { canonicalEmail } from '../server/accounts/email.ts';
import type { Queryable } from '../server/db/database.ts';

export async function up(tx: Queryable): Promise<void> {
  // ADD COLUMN locks the table until commit: no account is created mid-backfill.
  await tx.query('ALTER TABLE accounts ADD COLUMN email_canonical text');
  const { rows } = await tx.query<{ id: string; email: string }>('SELECT id, email FROM accounts ORDER BY created_at, id');
  const owners = new Map<string, string[]>();
  for (const { id, email } of rows) {
    const canonical = canonicalEmail(email);
    owners.set(canonical, [...(owners.get(canonical) ?? []), id]);
  }
  // Never merge accounts silently: an operator decides which one keeps the address.
  const clashes = [...owners.values()].filter((ids) => ids.length > 1);
  if (clashes.length) {
    const groups = clashes.map((ids) => `(${ids.join(', ')})`).join(', ');
    throw new Error(`migration 0006: accounts ${groups} have emails that are one address once case and Unicode forms are folded; `
      + 'give all but one of each group another email (or delete them) in SQL, then migrate again');
  }
  await tx.query(
    'UPDATE accounts SET email_canonical = v.canonical FROM unnest($1::uuid[], $2::text[]) AS v(id, canonical) WHERE accounts.id = v.id',
    [[...owners.values()].map(([id]) => id), [...owners.keys()]]);
  await tx.query('ALTER TABLE accounts ALTER COLUMN email_canonical SET NOT NULL');
  await tx.query('CREATE UNIQUE INDEX accounts_email_canonical ON accounts (email_canonical)');
  await tx.query('DROP INDEX accounts_email_lower');
}
