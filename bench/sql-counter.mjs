// Preloaded into `ferry serve` by bench/tree.ts (`node --import ./bench/sql-counter.mjs …`); not part
// of Ferry. When BENCH_SQL_LOG names a file, every SQL statement the process sends to PostgreSQL
// (each call of pg's Client#query: the ORM's finds and raw queries, transactions' begin/commit,
// LISTEN, anything else) appends one line to it: the value of the `x-bench-request` header of the
// HTTP request it was sent for ('-' when none: background work such as the task engine's poll),
// a tab, and the statement's first 160 characters. The request is followed through its
// asynchronous work with an AsyncLocalStorage entered when the HTTP server emits 'request'.
import { AsyncLocalStorage } from 'node:async_hooks';
import { openSync, writeSync } from 'node:fs';
import http from 'node:http';
import pg from 'pg';

const file = process.env.BENCH_SQL_LOG;
if (file) {
  const fd = openSync(file, 'a');
  const request = new AsyncLocalStorage();
  const emit = http.Server.prototype.emit;
  http.Server.prototype.emit = function (event, ...args) {
    const tag = event === 'request' ? args[0]?.headers?.['x-bench-request'] : undefined;
    return tag ? request.run(String(tag), () => emit.call(this, event, ...args)) : emit.call(this, event, ...args);
  };
  const query = pg.Client.prototype.query;
  pg.Client.prototype.query = function (config, ...rest) {
    const text = typeof config === 'string' ? config : (config?.text ?? '');
    writeSync(fd, `${request.getStore() ?? '-'}\t${text.slice(0, 160).replace(/\s+/g, ' ')}\n`);
    return query.call(this, config, ...rest);
  };
}
