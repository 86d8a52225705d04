// Accounts as the rest of Latchkey uses them: creation applies the password
// policy and hashes; authenticate() is the sign-in check (PasswordAuthenticator).
// The domain operations (changePassword, resetMfa, signOutEverywhere) live
// here only: the CLI and /account both call them, so what a new password or a
// reset ends is decided in one place.
import { pino, type Logger } from 'pino';
import type { Config } from '../config/index.ts';
import type { Database } from '../db/database.ts';
import { NotFoundError, UserError } from '../errors.ts';
import { createFactorDirectory } from '../mfa/factor-directory.ts';
import type { FactorCounts } from '../mfa/types.ts';
import { deleteTrustedDevices } from '../mfa/trusted-devices/trusted-device-queries.ts';
import {
  deleteAccount, findAccountByEmail, findAccountById, findSignInSubject, insertAccount, listAccounts,
  replacePasswordHash, revokeSessions, setDisabled, setPasswordHash, setRequireMfa, toAccount,
} from './account-queries.ts';
import { createPasswordHasher } from './password-hashing.ts';
import { checkPassword } from './password-policy.ts';
import type { Account, AccountLookup, NewAccount, PasswordAuthenticator, PasswordCandidate, SignInSubjectLookup } from './types.ts';

export interface AccountService extends PasswordAuthenticator, AccountLookup, SignInSubjectLookup {
  /** Server start: prepares the dummy hash so the first unknown-email sign-in is not faster or slower. */
  warmUp(): Promise<void>;
  create(account: NewAccount): Promise<Account>;
  /** Any spelling of the address that canonicalEmail() folds to the stored one finds the account. */
  findByEmail(email: string): Promise<Account | undefined>;
  list(): Promise<Account[]>;
  /**
   * A new password (the password policy applies): every session and token of
   * the old one ends and every remembered device is forgotten, in one
   * transaction; second factors stay. Returns how many devices were forgotten.
   */
  changePassword(id: string, password: string): Promise<{ trustedDevicesForgotten: number }>;
  /**
   * For a user who lost their factors: every authenticator app, security key,
   * recovery code and remembered device goes, and the account is signed out
   * everywhere (a session signed in with a removed factor must not live on).
   */
  resetMfa(id: string): Promise<FactorCounts>;
  setDisabled(id: string, disabled: boolean): Promise<Account>;
  /** Whether the account must sign in with a second factor regardless of MFA_POLICY. */
  setRequireMfa(id: string, requireMfa: boolean): Promise<Account>;
  /** Signs the account out everywhere: sessions and tokens issued so far stop working. */
  signOutEverywhere(id: string): Promise<void>;
  /** False when there was no such account. */
  delete(id: string): Promise<boolean>;
}

const MAX_EMAIL_LENGTH = 254; // RFC 5321 path limit

/** A deliberately loose check: one @, something on each side, no spaces. */
export function validateEmail(email: string): string {
  const trimmed = email.trim();
  if (trimmed.length > MAX_EMAIL_LENGTH || !/^[^\s@]+@[^\s@]+$/.test(trimmed)) {
    throw new UserError(`"${email}" is not an email address`);
  }
  return trimmed;
}

/**
 * `logger` hears what must not stop a sign-in but must not vanish either (a
 * failed rehash); the CLI, which never signs anyone in, may leave it out.
 */
export function createAccountService(db: Database, config: Config, logger: Pick<Logger, 'warn'> = pino(), changed: (id: string) => Promise<void> = async () => {}): AccountService {
  // After the commit: every node's account cache (account-cache.ts) rereads the account.
  const announce = async <T>(id: string, result: T): Promise<T> => {
    await changed(id);
    return result;
  };
  const hasher = createPasswordHasher(config.argon2);

  function assertPasswordAllowed(password: string, email: string): void {
    const reason = checkPassword(password, { email, productName: config.productName });
    if (reason) throw new UserError(reason);
  }

  async function passwordCandidate(email: string, deviceTokenHashes: string[] = []): Promise<PasswordCandidate> {
    const subject = await findSignInSubject(db, { email }, deviceTokenHashes);
    return {
      rememberedHere: subject?.rememberedHere ?? false,
      async verify(password, refused) {
        // Same argon2 work whether the account is unknown, disabled or the password wrong.
        if (!subject) {
          await hasher.verifyDummy(password);
          refused?.('unknown_account');
          return undefined;
        }
        const { record, factors } = subject;
        const valid = await hasher.verifyPassword(record.passwordHash, password);
        if (!valid || record.disabled) {
          refused?.(valid ? 'account_disabled' : 'bad_password');
          return undefined;
        }
        if (hasher.needsRehash(record.passwordHash)) {
          // Upgrade to the configured cost while we hold the plaintext; a failure must not
          // block sign-in, and is logged (the account, never the password; the old hash stays).
          await hasher.hashPassword(password)
            .then((hash) => replacePasswordHash(db, record.id, record.passwordHash, hash))
            .catch((error: unknown) => logger.warn({ err: error, account_id: record.id }, 'password rehash failed; the old hash stays'));
        }
        return { account: toAccount(record), factors };
      },
    };
  }

  return {
    warmUp: () => hasher.warmUp(),

    async create(account) {
      const email = validateEmail(account.email);
      assertPasswordAllowed(account.password, email);
      return insertAccount(db, {
        email,
        name: account.name?.trim() || null,
        emailVerified: account.emailVerified ?? false,
        passwordHash: await hasher.hashPassword(account.password),
      });
    },

    passwordCandidate,

    async authenticate(email, password, refused) {
      const candidate = await passwordCandidate(email);
      return (await candidate.verify(password, refused))?.account;
    },

    async findSignInSubject(id) {
      const subject = await findSignInSubject(db, { id });
      return subject && { account: toAccount(subject.record), factors: subject.factors };
    },

    async findById(id) {
      const record = await findAccountById(db, id);
      return record && toAccount(record);
    },

    async findByEmail(email) {
      const record = await findAccountByEmail(db, email);
      return record && toAccount(record);
    },

    list: () => listAccounts(db),

    async changePassword(id, password) {
      const record = await findAccountById(db, id);
      if (!record) throw new NotFoundError(`unknown account ${id}`);
      assertPasswordAllowed(password, record.email);
      const hash = await hasher.hashPassword(password);
      return announce(id, await db.transaction(async (tx) => {
        await setPasswordHash(tx, id, hash); // also ends every session and token
        return { trustedDevicesForgotten: await deleteTrustedDevices(tx, id) };
      }));
    },

    async resetMfa(id) {
      if (!(await findAccountById(db, id))) throw new NotFoundError(`unknown account ${id}`);
      return announce(id, await db.transaction(async (tx) => {
        const removed = await createFactorDirectory(tx).reset(id);
        await revokeSessions(tx, id);
        return removed;
      }));
    },

    setDisabled: async (id, disabled) => announce(id, await setDisabled(db, id, disabled)),
    setRequireMfa: async (id, requireMfa) => announce(id, await setRequireMfa(db, id, requireMfa)),
    signOutEverywhere: async (id) => announce(id, await revokeSessions(db, id)),
    delete: async (id) => announce(id, await deleteAccount(db, id)),
  };
}
