/**
 * The part of wx-server-sdk's database API this project uses, typed. wx-server-sdk's own typings declare results as
 * `Promise<…> | void` and miss some operators; the store layer below is the only code that touches this interface,
 * and it runs unchanged on the cloud database and on the local cloud's embedded one.
 */
export interface DbCommand {
  eq(value: unknown): unknown;
  neq(value: unknown): unknown;
  gt(value: unknown): unknown;
  gte(value: unknown): unknown;
  lt(value: unknown): unknown;
  lte(value: unknown): unknown;
  in(values: unknown[]): unknown;
  nin(values: unknown[]): unknown;
  exists(value: boolean): unknown;
  inc(value: number): unknown;
  remove(): unknown;
  set(value: unknown): unknown;
  push(value: unknown): unknown;
  or(...conditions: unknown[]): unknown;
}

export interface DbQuery {
  where(query: unknown): DbQuery;
  orderBy(field: string, direction: 'asc' | 'desc'): DbQuery;
  skip(n: number): DbQuery;
  limit(n: number): DbQuery;
  get(): Promise<{ data: unknown[] }>;
  count(): Promise<{ total: number }>;
  update(options: { data: unknown }): Promise<{ stats: { updated: number } }>;
  remove(): Promise<{ stats: { removed: number } }>;
}

export interface DbDocument {
  get(): Promise<{ data: unknown }>;
  set(options: { data: unknown }): Promise<unknown>;
  update(options: { data: unknown }): Promise<{ stats: { updated: number } }>;
  remove(): Promise<unknown>;
}

export interface DbCollection extends DbQuery {
  doc(id: string): DbDocument;
  add(options: { data: unknown }): Promise<{ _id: string | number }>;
}

export interface CloudDatabase {
  collection(name: string): DbCollection;
  readonly command: DbCommand;
  serverDate(): unknown;
}
