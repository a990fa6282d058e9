/**
 * `npm run deploy -- --check`: the deployed environment read back through the CloudBase SDK (each function's version,
 * state and configuration against the repository's), then the notify route called as WeChat Pay's servers and a
 * stranger would call it: a GET answers 405, an unsigned POST 401 or 400. Requests go through `https_proxy` /
 * `http_proxy` when one is set, as the SDK's own do.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect as tlsConnect } from 'node:tls';
import { applicable, planChanges, readCurrent, sdkProblem, type CloudBaseManager, type Desired } from './cloudbase';

interface CheckRun {
  manager: CloudBaseManager;
  envId: string;
  desired: Desired;
  outDir: string;
  prune: boolean;
}

export async function runCheck(
  run: CheckRun,
  notifyUrl: string | undefined,
  out: (line: string) => void,
): Promise<{ problems: string[]; changes: string[] }> {
  const problems: string[] = [];
  const { manager, envId, desired } = run;
  let current;
  try {
    current = await readCurrent(manager, envId, desired);
  } catch (error) {
    return { problems: [sdkProblem(error)], changes: [] };
  }
  out(`Deployed functions in ${envId} (read back through the CloudBase SDK)`);
  for (const f of desired.functions) {
    const have = current.functions.get(f.name);
    if (!have) {
      out(`  ✗ ${f.name}: not deployed`);
      continue;
    }
    out(
      `  ${have.bundle === f.bundle ? '✓' : '✗'} ${f.name}: version ${have.version || '?'}, ${have.status}, modified ${have.modTime}, ${have.runtime}, timeout ${have.timeout} s, memory ${have.memorySize} MB, bundle ${have.bundle ?? '(unknown)'}, ${Object.keys(have.env).length} variables${have.triggers.length ? `, trigger ${have.triggers.map((t) => t.name).join(', ')}` : ''}`,
    );
    if (have.status !== 'Active')
      problems.push(`${f.name} is ${have.status}, not Active: see its logs in the cloud console`);
  }
  const drift = applicable(planChanges(desired, current, { prune: false, outDir: run.outDir }));
  for (const c of drift)
    problems.push(`${c.what} is not as the repository says (${c.details.join('; ')}): run npm run deploy`);
  out('');

  out('The notify route, called as a stranger would');
  if (!notifyUrl) problems.push('WECHATPAY_NOTIFY_URL is not set: nothing to call');
  else {
    const probes: { method: string; body?: string; expect: number[]; why: string }[] = [
      { method: 'GET', expect: [405], why: 'only POST is a notification' },
      { method: 'POST', body: '{}', expect: [401, 400], why: 'an unsigned notification is refused' },
    ];
    for (const probe of probes) {
      try {
        const status = await call(notifyUrl, probe.method, probe.body);
        const ok = probe.expect.includes(status);
        out(`  ${ok ? '✓' : '✗'} ${probe.method} ${notifyUrl} → ${status} (${probe.why})`);
        if (!ok)
          problems.push(
            `${probe.method} ${notifyUrl} answered ${status}, not ${probe.expect.join(' or ')}${status === 401 && probe.method === 'GET' ? ': identity verification is on for the route' : ''}`,
          );
      } catch (error) {
        out(`  ✗ ${probe.method} ${notifyUrl}: ${(error as Error).message}`);
        problems.push(`${notifyUrl} cannot be reached (${(error as Error).message})`);
      }
    }
  }
  out('');
  if (!problems.length)
    out('Check passed: every function as the repository says, the notify route answers as it should.');
  else {
    out(`Problems (${problems.length}): check failed`);
    for (const p of problems) out(`  ✗ ${p}`);
  }
  out('');
  return { problems, changes: drift.map((c) => `${c.kind} ${c.what}`) };
}

const PROBE_TIMEOUT_MS = 10_000;

/** One HTTPS request, through the proxy of `https_proxy`/`http_proxy` (a CONNECT tunnel) when one is set. */
function call(url: string, method: string, body?: string): Promise<number> {
  const target = new URL(url);
  const proxy = process.env.https_proxy ?? process.env.HTTPS_PROXY ?? process.env.http_proxy ?? process.env.HTTP_PROXY;
  const port = Number(target.port || 443);
  const headers = body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {};
  return new Promise<number>((resolve, reject) => {
    const send = (socket?: import('node:net').Socket) => {
      const req = httpsRequest(
        {
          host: target.hostname,
          port,
          path: `${target.pathname}${target.search}`,
          method,
          headers,
          timeout: PROBE_TIMEOUT_MS,
          ...(socket ? { createConnection: () => tlsConnect({ socket, servername: target.hostname }) } : {}),
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${PROBE_TIMEOUT_MS} ms`)));
      req.on('error', reject);
      req.end(body);
    };
    if (!proxy) return send();
    const via = new URL(proxy);
    const tunnel = httpRequest({
      host: via.hostname,
      port: Number(via.port || 80),
      method: 'CONNECT',
      path: `${target.hostname}:${port}`,
      timeout: PROBE_TIMEOUT_MS,
    });
    tunnel.on('connect', (res, socket) => {
      if (res.statusCode !== 200) reject(new Error(`proxy answered ${res.statusCode} to CONNECT`));
      else send(socket);
    });
    tunnel.on('timeout', () => tunnel.destroy(new Error(`proxy gave no answer within ${PROBE_TIMEOUT_MS} ms`)));
    tunnel.on('error', reject);
    tunnel.end();
  });
}
