// Names users give their factors ("Phone", "YubiKey 5C"): shown back in lists,
// so bounded and storable. Cleaned rather than refused: a name is cosmetic, and
// refusing one would cost the user the code or key they just proved.
export const MAX_FACTOR_NAME = 60;

/** Trimmed, control characters (NUL included) dropped, at most 60 characters; `fallback` when empty. */
export function factorName(name: unknown, fallback: string): string {
  if (typeof name !== 'string') return fallback;
  // eslint-disable-next-line no-control-regex -- dropping control characters is the point
  const cleaned = name.slice(0, 1000).replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  // Count code points, not UTF-16 units, so an emoji is one character.
  return [...cleaned].slice(0, MAX_FACTOR_NAME).join('').trim() || fallback;
}
