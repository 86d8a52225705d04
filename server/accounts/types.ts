// An end-user account.
export interface Account {
  /** UUID, the OIDC `sub`. */
  id: string;
  email: string;
  emailVerified: boolean;
  name: string | null;
  disabled: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export interface NewAccount {
  email: string;
  name?: string;
  emailVerified?: boolean;
  password: string;
}

/** What the sign-in step needs. */
export interface PasswordAuthenticator {
  /**
   * The account when email and password match and it is enabled, else
   * undefined. Unknown email, wrong password and disabled account take the
   * same time (a dummy argon2 verify runs when there is no hash to check).
   * Rehashes when the stored hash's parameters are below the configured ones.
   */
  authenticate(email: string, password: string): Promise<Account | undefined>;
}

/** What findAccount and userinfo need. */
export interface AccountLookup {
  findById(id: string): Promise<Account | undefined>;
}
