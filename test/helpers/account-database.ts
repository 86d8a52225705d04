// A fresh, migrated Postgres database (a copy of the migrated template) for one test file, and accounts in it:
// what the MFA store tests share.
import { insertAccount } from '../../server/accounts/account-queries.ts';
import type { Account } from '../../server/accounts/types.ts';
import { connectPostgres, type Database } from '../../server/db/database.ts';
import { createTestDatabase } from './services.ts';

export interface AccountDatabase {
  db: Database;
  /** A new account (email `<label><n>@example.com`). */
  newAccount(): Promise<Account>;
  close(): Promise<void>;
}

export async function openAccountDatabase(label: string): Promise<AccountDatabase> {
  const created = await createTestDatabase();
  const db = connectPostgres(created.url);
  let count = 0;
  return {
    db,
    newAccount: () => {
      count += 1;
      return insertAccount(db, { email: `${label}${count}@example.com`, name: `User ${count}`, emailVerified: true, passwordHash: 'x' });
    },
    async close() {
      await db.close();
      await created.drop();
    },
  };
}
