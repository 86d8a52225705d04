// needs: postgres
// The same store suite against real Postgres and against embedded PGlite:
// the query modules must behave identically on both.
import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAccountService } from '../../server/accounts/account-service.ts';
import { deleteAccount, findAccountByEmail, findAccountById, insertAccount, listAccounts, setDisabled } from '../../server/accounts/account-queries.ts';
import { deleteApi, findApi, findApiById, findApiByIdentifier, insertApi, listApis } from '../../server/apis/api-queries.ts';
import { deleteClient, findClientById, insertClient, listClientIdsForApi, listClients, setClientSecret } from '../../server/clients/client-queries.ts';
import type { NewClient } from '../../server/clients/types.ts';
import { loadConfig } from '../../server/config/index.ts';
import { connectPostgres, type Database } from '../../server/db/database.ts';
import { openEmbedded } from '../../server/db/embedded.ts';
import { migrate } from '../../server/db/migrate.ts';
import { ConflictError, NotFoundError, UserError } from '../../server/errors.ts';
import { createEmptyDatabase } from '../helpers/services.ts';

const config = loadConfig({ NODE_ENV: 'test' });

interface Backend { db: Database; close: () => Promise<void> }

const backends: Record<string, () => Promise<Backend>> = {
  postgres: async () => {
    const { url, drop } = await createEmptyDatabase();
    const db = connectPostgres(url);
    return { db, close: async () => { await db.close(); await drop(); } };
  },
  pglite: async () => {
    const dir = mkdtempSync(join(tmpdir(), 'latchkey-stores-'));
    const db = await openEmbedded(dir);
    return { db, close: async () => { await db.close(); rmSync(dir, { recursive: true, force: true }); } };
  },
};

const newClient = (overrides: Partial<NewClient> = {}): NewClient => ({
  name: 'Web',
  grantTypes: ['authorization_code', 'refresh_token'],
  redirectUris: ['https://app.example.com/cb'],
  postLogoutRedirectUris: ['https://app.example.com/'],
  tokenEndpointAuthMethod: 'client_secret_basic',
  jwks: null,
  firstParty: false,
  idTokenAlg: 'ES256',
  apis: [],
  ...overrides,
});

for (const [name, open] of Object.entries(backends)) {
  let backend: Backend;
  const db = () => backend.db;

  test.before(async () => { backend = await open(); });
  test.after.always(async () => { await backend?.close(); });

  test.serial(`${name}: migrate applies once and is idempotent`, async (t) => {
    t.deepEqual((await migrate(db())).map((m) => m.version), [1, 2, 3, 4, 5, 6, 7]);
    t.deepEqual(await migrate(db()), []);
  });

  test.serial(`${name}: APIs CRUD and unique identifier`, async (t) => {
    const api = await insertApi(db(), { identifier: 'https://orders.example.com', name: 'Orders', scopes: ['orders:read', 'orders:write'], accessTokenTtl: 300 });
    t.regex(api.id, /^[0-9a-f-]{36}$/);
    t.deepEqual(api.scopes, ['orders:read', 'orders:write']);
    t.is(api.accessTokenTtl, 300);
    t.true(api.createdAt instanceof Date);
    t.deepEqual(await findApiById(db(), api.id), api);
    t.deepEqual(await findApiByIdentifier(db(), api.identifier), api);
    t.deepEqual(await findApi(db(), api.identifier), api);
    t.is(await findApiById(db(), 'not-a-uuid'), undefined);
    const error = await t.throwsAsync(insertApi(db(), { identifier: 'https://orders.example.com', scopes: [], accessTokenTtl: 60 }));
    t.true(error instanceof ConflictError);
    t.is(error?.message, 'an API with identifier https://orders.example.com already exists');
    await insertApi(db(), { identifier: 'https://billing.example.com', scopes: ['billing:read'], accessTokenTtl: 600 });
    t.deepEqual((await listApis(db())).map((a) => a.identifier), ['https://orders.example.com', 'https://billing.example.com']);
  });

  test.serial(`${name}: clients with API grants`, async (t) => {
    const client = await insertClient(db(), newClient({
      apis: [{ apiIdentifier: 'https://orders.example.com', scopes: ['orders:read'] }, { apiIdentifier: 'https://billing.example.com', scopes: [] }],
    }), 'hmac-sha256$abc');
    t.regex(client.clientId, /^[A-Za-z0-9_-]{22}$/);
    t.deepEqual(client.grantTypes, ['authorization_code', 'refresh_token']);
    t.is(client.secretHash, 'hmac-sha256$abc');
    t.deepEqual(client.apis, [
      { apiIdentifier: 'https://billing.example.com', scopes: [] },
      { apiIdentifier: 'https://orders.example.com', scopes: ['orders:read'] },
    ]);
    t.deepEqual(await findClientById(db(), client.clientId), client);
    t.is(await findClientById(db(), 'nope'), undefined);

    const keyed = { keys: [{ kty: 'EC', crv: 'P-256', x: 'x', y: 'y' }] };
    const m2m = await insertClient(db(), newClient({ name: 'M2M', grantTypes: ['client_credentials'], redirectUris: [], postLogoutRedirectUris: [], tokenEndpointAuthMethod: 'private_key_jwt', jwks: keyed }), null);
    t.deepEqual(m2m.jwks, keyed);
    t.deepEqual(m2m.apis, []);
    t.deepEqual((await listClients(db())).map((c) => c.name).sort(), ['M2M', 'Web']);
  });

  test.serial(`${name}: client grants are checked and atomic`, async (t) => {
    const before = (await listClients(db())).length;
    const unknown = await t.throwsAsync(insertClient(db(), newClient({ apis: [{ apiIdentifier: 'https://x.example.com', scopes: [] }] }), null));
    t.true(unknown instanceof NotFoundError);
    t.is(unknown?.message, 'unknown API https://x.example.com');
    const scope = await t.throwsAsync(insertClient(db(), newClient({ apis: [{ apiIdentifier: 'https://orders.example.com', scopes: ['orders:delete'] }] }), null));
    t.true(scope instanceof UserError);
    t.regex(scope?.message ?? '', /does not offer the scope orders:delete/);
    t.is((await listClients(db())).length, before, 'a failed insert leaves no client behind');
  });

  test.serial(`${name}: secret rotation keeps the previous hash until its expiry`, async (t) => {
    const [client] = (await listClients(db())).filter((c) => c.name === 'Web');
    const expires = new Date(Date.now() + 3600_000);
    await setClientSecret(db(), client.clientId, 'hmac-sha256$new', client.secretHash, expires);
    let updated = await findClientById(db(), client.clientId);
    t.is(updated?.secretHash, 'hmac-sha256$new');
    t.is(updated?.previousSecretHash, 'hmac-sha256$abc');
    t.is(updated?.previousSecretExpiresAt?.getTime(), expires.getTime());
    await setClientSecret(db(), client.clientId, 'hmac-sha256$newer', null, null);
    updated = await findClientById(db(), client.clientId);
    t.is(updated?.previousSecretHash, null);
    t.is(updated?.previousSecretExpiresAt, null);
    await t.throwsAsync(setClientSecret(db(), 'nope', 'h', null, null), { instanceOf: NotFoundError });
  });

  test.serial(`${name}: deleting an API or a client cascades to client_api_scopes`, async (t) => {
    const [client] = (await listClients(db())).filter((c) => c.name === 'Web');
    const billing = (await findApiByIdentifier(db(), 'https://billing.example.com'))!;
    t.deepEqual(await listClientIdsForApi(db(), billing.id), [client.clientId]);
    t.is((await deleteApi(db(), billing.id))?.identifier, 'https://billing.example.com');
    t.is(await deleteApi(db(), billing.id), undefined);
    t.deepEqual((await findClientById(db(), client.clientId))?.apis.map((g) => g.apiIdentifier), ['https://orders.example.com']);
    t.true(await deleteClient(db(), client.clientId));
    t.false(await deleteClient(db(), client.clientId));
    const { rows } = await db().query('SELECT count(*)::int AS n FROM client_api_scopes WHERE client_id = $1', [client.clientId]);
    t.is(rows[0].n, 0);
    t.truthy(await deleteApi(db(), 'https://orders.example.com'));
  });

  test.serial(`${name}: accounts with case-insensitive unique email`, async (t) => {
    const account = await insertAccount(db(), { email: 'Ann@Example.com', name: 'Ann', emailVerified: false, passwordHash: 'h1' });
    t.is(account.email, 'Ann@Example.com');
    t.false('passwordHash' in account);
    const duplicate = await t.throwsAsync(insertAccount(db(), { email: 'ann@example.COM', name: null, emailVerified: false, passwordHash: 'h2' }));
    t.true(duplicate instanceof ConflictError);
    t.is(duplicate?.message, 'an account with this email already exists');
    t.is((await findAccountByEmail(db(), 'ANN@EXAMPLE.COM'))?.id, account.id);
    t.is((await findAccountById(db(), account.id))?.passwordHash, 'h1');
    t.is(await findAccountById(db(), 'not-a-uuid'), undefined);
    t.true((await setDisabled(db(), account.id, true)).disabled);
    t.deepEqual((await listAccounts(db())).map((a) => a.email), ['Ann@Example.com']);
  });

  test.serial(`${name}: C56: accounts are found and kept unique by canonicalEmail, whatever the database's locale`, async (t) => {
    const ibis = await insertAccount(db(), { email: 'ibis@example.com', name: null, emailVerified: false, passwordHash: 'h' });
    const strasse = await insertAccount(db(), { email: 'Straße@Example.com', name: null, emailVerified: false, passwordHash: 'h' });
    for (const spelling of ['İbis@example.com', 'IBIS@EXAMPLE.COM', 'ıbis@example.com']) t.is((await findAccountByEmail(db(), spelling))?.id, ibis.id, spelling);
    for (const spelling of ['strasse@example.com', 'STRASSE@example.com', 'STRAẞE@example.com']) t.is((await findAccountByEmail(db(), spelling))?.id, strasse.id, spelling);
    for (const email of ['İBIS@example.com', 'strasse@EXAMPLE.com']) {
      const duplicate = await t.throwsAsync(insertAccount(db(), { email, name: null, emailVerified: false, passwordHash: 'h' }));
      t.true(duplicate instanceof ConflictError, email);
    }
    t.is(await findAccountByEmail(db(), 'ibis\u0000@example.com'), undefined);
    for (const { id } of [ibis, strasse]) t.true(await deleteAccount(db(), id));
  });

  test.serial(`${name}: account service applies the policy and authenticates`, async (t) => {
    const accounts = createAccountService(db(), config);
    await t.throwsAsync(accounts.create({ email: 'bo@example.com', password: 'password1' }), { instanceOf: UserError, message: /too common/ });
    await t.throwsAsync(accounts.create({ email: 'not an email', password: 'correct horse battery' }), { message: /not an email address/ });
    const bo = await accounts.create({ email: 'bo@example.com', name: 'Bo', password: 'correct horse battery' });
    t.is((await accounts.authenticate('BO@example.com', 'correct horse battery'))?.id, bo.id);
    t.is(await accounts.authenticate('bo@example.com', 'wrong horse battery'), undefined);
    t.is(await accounts.authenticate('nobody@example.com', 'correct horse battery'), undefined);
    await accounts.setDisabled(bo.id, true);
    t.is(await accounts.authenticate('bo@example.com', 'correct horse battery'), undefined, 'disabled accounts cannot sign in');
    await accounts.setDisabled(bo.id, false);
    await accounts.changePassword(bo.id, 'a brand new passphrase');
    t.is(await accounts.authenticate('bo@example.com', 'correct horse battery'), undefined);
    t.truthy(await accounts.authenticate('bo@example.com', 'a brand new passphrase'));
    await t.throwsAsync(accounts.changePassword(bo.id, 'qwerty123'), { message: /too common/ });
    t.true(await accounts.delete(bo.id));
    t.is(await accounts.findById(bo.id), undefined);
  });

  test.serial(`${name}: sign-in rehashes when the configured cost rose`, async (t) => {
    const before = createAccountService(db(), config);
    const cy = await before.create({ email: 'cy@example.com', password: 'correct horse battery' });
    const stronger = createAccountService(db(), { ...config, argon2: { ...config.argon2, timeCost: 3 } });
    t.truthy(await stronger.authenticate('cy@example.com', 'correct horse battery'));
    t.regex((await findAccountById(db(), cy.id))!.passwordHash, /t=3/);
    t.truthy(await before.authenticate('cy@example.com', 'correct horse battery'), 'the upgraded hash still verifies');
  });

  test.serial(`${name}: an unknown email costs an argon2 verify too`, async (t) => {
    const accounts = createAccountService(db(), config);
    const time = async (email: string) => {
      const start = performance.now();
      await accounts.authenticate(email, 'wrong password here');
      return performance.now() - start;
    };
    await time('nobody@example.com'); // builds the dummy hash once
    const unknown = Math.min(await time('nobody@example.com'), await time('nobody@example.com'));
    const wrong = Math.min(await time('cy@example.com'), await time('cy@example.com'));
    t.true(unknown > wrong * 0.4, `unknown ${unknown.toFixed(1)} ms vs wrong password ${wrong.toFixed(1)} ms`);
  });
}
