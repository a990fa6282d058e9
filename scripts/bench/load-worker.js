/**
 * The notification load generator, in a worker thread so it runs beside the local cloud rather than inside it.
 * Plain JavaScript: a worker's entry file does not pass through tsx's loader.
 * 'start': the uncounted warm-up (JIT, connections, first index use), then a message; 'load': the measured load, then
 * its latencies, statuses, duration and this thread's event-loop utilisation.
 */
const { parentPort, workerData } = require('node:worker_threads');
const http = require('node:http');
const { Buffer } = require('node:buffer');

/**
 * The client: node:http over kept-alive connections, one per concurrent sender, as WeChat Pay's servers would hold
 * them. (BENCH_CLIENT=fetch: undici's fetch, which costs this thread several times more CPU per request; on a 2-core
 * machine that CPU is taken from the local cloud it measures.)
 */
const agent = new http.Agent({ keepAlive: true, maxSockets: workerData.concurrency });
function postHttp(url, headers, body) {
  return new Promise((resolve) => {
    const bytes = Buffer.from(body, 'utf8');
    const req = http.request(
      url,
      {
        method: 'POST',
        agent,
        headers: { 'Content-Type': 'application/json', 'Content-Length': bytes.length, ...headers },
      },
      (res) => {
        res.on('data', () => {});
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', () => resolve(0));
      },
    );
    req.on('error', () => resolve(0));
    req.end(bytes);
  });
}
async function postFetch(url, headers, body) {
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...headers },
      body,
    });
    await response.arrayBuffer();
    return response.status;
  } catch {
    return 0;
  }
}
const post = workerData.client === 'fetch' ? postFetch : postHttp;

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
        const status = await post(url, d.headers, d.body);
        latencies.push(performance.now() - t0);
        statuses.push(status);
      }
    }),
  );
  return { latencies, statuses, seconds: (performance.now() - started) / 1000 };
}

parentPort.on('message', (what) => {
  if (what === 'start') {
    void load(workerData.url, workerData.concurrency, workerData.warmup).then(() =>
      parentPort.postMessage({ kind: 'warm' }),
    );
  } else if (what === 'load') {
    const before = performance.eventLoopUtilization();
    void load(workerData.url, workerData.concurrency, workerData.deliveries).then((result) =>
      parentPort.postMessage({ kind: 'done', ...result, elu: performance.eventLoopUtilization(before).utilization }),
    );
  }
});
