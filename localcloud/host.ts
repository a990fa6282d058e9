/**
 * The function host: runs the project's cloud functions through the same `main` entry points that are deployed,
 * with the local platform injected (wx-server-sdk resolved to ./wx-server-sdk). Three ways in, as on the platform:
 * callFunction (event + context with OPENID), HTTP access (the platform's HTTP event), and timer triggers from each
 * function's config.json (7-field cron, with seconds and year).
 */
import { Cron } from 'croner';
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { listFunctions, OUT_DIR, SOURCE_DIR } from '../cloudfunctions/functions';
import { runInvocation, type LocalPlatform, type WXContext } from './wx-server-sdk';

export interface FunctionConfig {
  timeout?: number;
  permissions?: { openapi?: string[] };
  triggers?: { name: string; type: string; config: string }[];
}

export interface LoadedFunction {
  name: string;
  main: (event: unknown, context: unknown) => Promise<unknown>;
  config: FunctionConfig;
}

export type FunctionSource = 'source' | 'bundles';

/** Loads every function: TypeScript sources (default) or the bundles `npm run build` wrote. */
export function loadFunctions(source: FunctionSource = 'source'): LoadedFunction[] {
  return listFunctions().map((name) => {
    const file = source === 'source' ? join(SOURCE_DIR, name, 'index.ts') : join(OUT_DIR, name, 'index.js');
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loading a function by path, as the platform does
    const mod = require(file) as { main?: LoadedFunction['main'] };
    if (typeof mod.main !== 'function') throw new Error(`${file} does not export main`);
    const config = JSON.parse(readFileSync(join(SOURCE_DIR, name, 'config.json'), 'utf8')) as FunctionConfig;
    return { name, main: mod.main, config };
  });
}

export interface HttpAccessResult {
  statusCode: number;
  headers: Record<string, string>;
  body: Buffer;
}

const TEXT_TYPES = /^(application\/(json|xml|x-www-form-urlencoded)|text\/)/i;

export class FunctionHost {
  private readonly functions: Map<string, LoadedFunction>;
  private readonly crons: Cron[] = [];
  private readonly inFlight = new Set<Promise<unknown>>();
  readonly timerRuns: { name: string; trigger: string; at: number; ok: boolean; result?: unknown; error?: string }[] =
    [];

  constructor(
    private readonly platform: LocalPlatform,
    functions: LoadedFunction[],
    private readonly log: (line: string) => void = () => {},
  ) {
    this.functions = new Map(functions.map((f) => [f.name, f]));
  }

  names(): string[] {
    return [...this.functions.keys()];
  }

  has(name: string): boolean {
    return this.functions.has(name);
  }

  private get(name: string): LoadedFunction {
    const fn = this.functions.get(name);
    if (!fn) throw Object.assign(new Error(`no cloud function named ${name}`), { code: 'FUNCTION_NOT_FOUND' });
    return fn;
  }

  /** callFunction: the platform adds `userInfo` to the event and OPENID to the context. */
  call(name: string, event: unknown, context: WXContext): Promise<unknown> {
    const fn = this.get(name);
    const withUserInfo =
      typeof event === 'object' && event !== null && !Array.isArray(event)
        ? { ...event, userInfo: { appId: context.APPID, ...(context.OPENID ? { openId: context.OPENID } : {}) } }
        : event;
    return this.track(runInvocation(this.platform, context, () => fn.main(withUserInfo, { request_id: randomUUID() })));
  }

  /** HTTP access: the platform's event in, `{ statusCode, headers, body, isBase64Encoded }` out. */
  async httpAccess(
    name: string,
    req: IncomingMessage,
    url: URL,
    subPath: string,
    raw: Buffer,
  ): Promise<HttpAccessResult> {
    const fn = this.get(name);
    const headers: Record<string, string> = {};
    for (const [key, value] of Object.entries(req.headers))
      if (value !== undefined) headers[key.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
    const text = TEXT_TYPES.test(headers['content-type'] ?? '');
    const event = {
      path: subPath || '/',
      httpMethod: req.method ?? 'GET',
      headers,
      queryStringParameters: Object.fromEntries(url.searchParams),
      // sourceIp: the client's address as the platform's gateway sees it (the Native checkout's rate limits read it)
      requestContext: {
        requestId: randomUUID(),
        appId: this.platform.envId,
        httpMethod: req.method,
        sourceIp: req.socket.remoteAddress ?? '',
      },
      body: text ? raw.toString('utf8') : raw.toString('base64'),
      isBase64Encoded: !text,
    };
    const result = (await this.track(
      runInvocation(this.platform, { SOURCE: 'wx_http' }, () => fn.main(event, { request_id: randomUUID() })),
    )) as
      { statusCode?: number; headers?: Record<string, string>; body?: string; isBase64Encoded?: boolean } | undefined;
    if (result && typeof result === 'object' && typeof result.statusCode === 'number') {
      const body = result.body ?? '';
      return {
        statusCode: result.statusCode,
        headers: result.headers ?? {},
        body: result.isBase64Encoded ? Buffer.from(body, 'base64') : Buffer.from(body, 'utf8'),
      };
    }
    return {
      statusCode: 200,
      headers: { 'Content-Type': 'application/json' },
      body: Buffer.from(JSON.stringify(result ?? null)),
    };
  }

  async runTimer(name: string, trigger = 'manual'): Promise<unknown> {
    const fn = this.get(name);
    const at = Date.now();
    try {
      const result = await this.track(
        runInvocation(this.platform, { SOURCE: 'wx_trigger' }, () =>
          fn.main(
            { Type: 'Timer', TriggerName: trigger, Time: new Date(at).toISOString() },
            { request_id: randomUUID() },
          ),
        ),
      );
      this.timerRuns.push({ name, trigger, at, ok: true, result });
      return result;
    } catch (error) {
      this.timerRuns.push({ name, trigger, at, ok: false, error: (error as Error).message });
      throw error;
    }
  }

  /** Schedules every timer trigger of every function; a run still going when the next is due is skipped. */
  startTimers(): { name: string; trigger: string; next: Date | null }[] {
    const scheduled: { name: string; trigger: string; next: Date | null }[] = [];
    for (const fn of this.functions.values()) {
      for (const trigger of fn.config.triggers ?? []) {
        if (trigger.type !== 'timer') continue;
        const cron = new Cron(
          trigger.config,
          { mode: '7-part', protect: true, timezone: 'Asia/Shanghai' },
          async () => {
            await this.runTimer(fn.name, trigger.name).catch((error: unknown) =>
              this.log(`[timer] ${fn.name}/${trigger.name} failed: ${(error as Error).message}`),
            );
          },
        );
        this.crons.push(cron);
        scheduled.push({ name: fn.name, trigger: trigger.name, next: cron.nextRun() });
      }
    }
    return scheduled;
  }

  private track<T>(invocation: Promise<T>): Promise<T> {
    this.inFlight.add(invocation);
    const done = () => this.inFlight.delete(invocation);
    invocation.then(done, done);
    return invocation;
  }

  /** Waits (bounded) for invocations still running, so nothing writes after the local cloud has stopped. */
  async drain(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.inFlight.size > 0 && Date.now() < deadline) {
      await Promise.race([
        Promise.allSettled([...this.inFlight]),
        new Promise((r) => setTimeout(r, Math.max(0, deadline - Date.now()))),
      ]);
    }
  }

  stopTimers(): void {
    for (const cron of this.crons.splice(0)) cron.stop();
  }
}
