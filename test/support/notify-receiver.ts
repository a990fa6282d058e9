/** An in-test notify_url on 127.0.0.1: records every delivery and answers with scripted statuses (200 by default). */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  headers: IncomingHttpHeaders;
  body: Buffer;
  status: number;
}

export class NotifyReceiver {
  readonly received: Received[] = [];
  readonly script: number[] = [];
  private server?: Server;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const status = this.script.shift() ?? 200;
        this.received.push({ headers: req.headers, body: Buffer.concat(chunks), status });
        res
          .writeHead(status, { 'Content-Type': 'application/json' })
          .end(status < 300 ? '' : '{"code":"FAIL","message":"later"}');
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/notify`;
    return this;
  }

  /** Resolves once `n` deliveries have arrived (bounded wait). */
  async waitFor(n: number, timeoutMs = 5000): Promise<Received[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.received.length < n) {
      if (Date.now() > deadline) throw new Error(`expected ${n} deliveries, got ${this.received.length}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    return this.received.slice(0, n);
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
