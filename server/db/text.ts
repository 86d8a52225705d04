// Postgres text cannot hold NUL: a lookup with one would fail with an error
// (22021), turning a stranger's garbage client_id or email into a 500. Such a
// value can match no row, so finders answer "not found" without asking.
export const isStorableText = (value: string): boolean => !value.includes('\u0000');

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Postgres rejects a malformed uuid with an error; finders treat it as "not found". */
export const isUuid = (value: string): boolean => UUID.test(value);
