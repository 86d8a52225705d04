// Postgres text cannot hold NUL: a lookup with one would fail with an error
// (22021), turning a stranger's garbage client_id or email into a 500. Such a
// value can match no row, so finders answer "not found" without asking.
export const isStorableText = (value: string): boolean => !value.includes('\u0000');
