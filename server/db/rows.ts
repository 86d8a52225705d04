// Rows to records: columns are snake_case, record fields camelCase, and the
// queries files map one to the other with fieldsOf (type-checked: a column
// whose camelCase name is not the record's field fails tsc), adding only
// their real conversions (bigint strings, bytes). And "one or NotFoundError".
import { NotFoundError } from '../errors.ts';

type CamelCase<S extends string> = S extends `${infer Head}_${infer Tail}` ? `${Head}${Capitalize<CamelCase<Tail>>}` : S;

/** A row type with its snake_case column names as camelCase fields. */
export type Fields<Row> = { [K in keyof Row & string as CamelCase<K>]: Row[K] };

const camelCase = (name: string) => name.replace(/_([a-z0-9])/g, (_, letter: string) => letter.toUpperCase());

/** The row's columns as camelCase fields, values as pg returned them. */
export function fieldsOf<Row extends object>(row: Row): Fields<Row> {
  return Object.fromEntries(Object.entries(row).map(([column, value]) => [camelCase(column), value])) as Fields<Row>;
}

/** The value, or NotFoundError("unknown <what>") when there is none. */
export function found<T>(value: T | undefined | null, what: string): T {
  if (value === undefined || value === null) throw new NotFoundError(`unknown ${what}`);
  return value;
}
