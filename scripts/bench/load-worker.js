/**
 * The notification load generator, in a worker thread so it runs beside the local cloud rather than inside it.
 * Plain JavaScript: a worker's entry file does not pass through tsx's loader.
 */
const { parentPort, workerData } = require('node:worker_threads');

async function load(url, concurrency, deliveries) {
  const latencies = [];
  const statuses = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < deliveries.length) {
        const d = deliveries[next++];
        const t0 = performance.now();
        let status = 0;
        try {
          const response = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json', ...d.headers }, body: d.body });
          await response.arrayBuffer();
          status = response.status;
        } catch {
          status = 0;
        }
        latencies.push(performance.now() - t0);
        statuses.push(status);
      }
    }),
  );
  return { latencies, statuses, seconds: (performance.now() - started) / 1000 };
}

/** A warm-up (not counted: JIT, connections, first index use), then the measured load. */
async function run(job) {
  await load(job.url, job.concurrency, job.warmup);
  return load(job.url, job.concurrency, job.deliveries);
}

void run(workerData).then((result) => parentPort.postMessage(result));
