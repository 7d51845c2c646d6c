// graphile-worker's drain of N no-op jobs on PostgreSQL, for the side-by-side comparison with
// erp-bridge's outbox (see compare.sh and BENCHMARKS.md). Options as the issue names them:
// concurrency 10, localQueue.size 500, completeJobBatchDelay 0.
import { run, makeWorkerUtils, Logger } from "graphile-worker";

// Silent: a log line per job would measure the console, not the queue.
const logger = new Logger(() => () => {});

const connectionString = process.env.DATABASE_URL;
const n = Number(process.env.BENCH_EVENTS ?? 20000);
const preset = {
  worker: {
    connectionString,
    concurrentJobs: 10,
    localQueue: { size: 500 },
    completeJobBatchDelay: 0,
    pollInterval: 100,
    maxPoolSize: 12,
  },
};

const utils = await makeWorkerUtils({ preset, logger });
await utils.migrate();
for (let i = 0; i < n; i += 1000) {
  const batch = [];
  for (let j = i; j < Math.min(n, i + 1000); j++) batch.push({ identifier: "noop", payload: { n: j } });
  await utils.addJobs(batch);
}
await utils.release();

let done = 0;
let finish;
const finished = new Promise((resolve) => (finish = resolve));
const started = process.hrtime.bigint();
const runner = await run({
  preset,
  logger,
  noHandleSignals: true,
  taskList: {
    noop: async () => {
      done += 1;
      if (done === n) finish();
    },
  },
});
await finished;
const secs = Number(process.hrtime.bigint() - started) / 1e9;
await runner.stop();
console.log(`graphile-worker: drained ${n} jobs in ${secs.toFixed(2)} s = ${Math.round(n / secs)} jobs/s`);
