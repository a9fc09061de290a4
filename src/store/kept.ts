// Statements prepared once per connection and kept, for every connection of the libsql driver in this
// thread: the client library's and local.ts's own.
import Database from "libsql";

/** Statements kept per connection, and the most SQL text they may add up to (a batch's INSERT of a thousand
 * rows is 100 kB of text): beyond either, the least recently used are dropped. */
const KEPT_STATEMENTS = 500;
const KEPT_SQL_CHARS = 2_000_000;
const kept = new WeakMap<object, { stmts: Map<string, unknown>; chars: number }>();
/** `*` as a result column (`SELECT *`, `t.*`, `RETURNING *`), not as count(*) or multiplication. */
const WILDCARD = /(?:^|[\s,(]|\.)\*\s*(?:,|\bFROM\b|$)/i;

/**
 * A local file's statements prepared once per connection and kept (the client prepares each statement at
 * every call, which costs more than running most of them). One connection runs one statement at a time,
 * and each call runs it to its end, so a kept statement is never in use twice at once.
 */
function keepPreparedStatements(): void {
  const proto = Database.prototype as unknown as { prepare(sql: string): unknown; __tockKeeps?: true };
  if (proto.__tockKeeps) return;
  const prepare = proto.prepare;
  proto.prepare = function (this: object, sql: string) {
    let cache = kept.get(this);
    if (!cache) kept.set(this, (cache = { stmts: new Map(), chars: 0 }));
    let stmt = cache.stmts.get(sql);
    if (stmt !== undefined) {
      cache.stmts.delete(sql); // most recently used last
    } else {
      // A statement with a wildcard in its result (SELECT *, t.*, RETURNING *) keeps its first column list
      // in the driver even after SQLite prepares it again for a changed schema (another node's migration):
      // such statements are never kept, and prepared at each call. (Only a statement not kept is looked at:
      // a kept one's text, kilobytes for a batch, is not scanned again at every call.)
      if (WILDCARD.test(sql)) return prepare.call(this, sql);
      stmt = prepare.call(this, sql);
      cache.chars += sql.length;
      while (cache.stmts.size > 0 && (cache.stmts.size >= KEPT_STATEMENTS || cache.chars > KEPT_SQL_CHARS)) {
        const oldest = cache.stmts.keys().next().value!;
        cache.stmts.delete(oldest);
        cache.chars -= oldest.length;
      }
    }
    cache.stmts.set(sql, stmt);
    return stmt;
  };
  proto.__tockKeeps = true;
}
keepPreparedStatements();
