/**
 * A WeCom group robot on the local cloud: it takes what the functions would post to
 * `https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…` and records it, answering as WeCom does (HTTP 200 with
 * `errcode` 0, or an errcode: 40058 for a markdown content over 4096 bytes, 40008 for an unknown msgtype, 93000 for
 * a missing key). Nothing leaves the machine.
 *
 *   POST /wecom/cgi-bin/webhook/send?key=…   the robot
 *   GET  /wecom/_local/messages              what was posted (oldest first)
 *   POST /wecom/_local/fail {times, status?, errcode?}   the next `times` posts fail (a broken robot), DELETE clears
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError, parseJsonBody, sendJson } from './http';

export const WECOM_PATH = '/wecom/cgi-bin/webhook/send';

export interface RobotMessage {
  at: number;
  key: string;
  msgtype: string;
  content: string;
  /** what the robot answered */
  errcode: number;
}

interface Failure {
  times: number;
  status: number;
  errcode: number;
}

export class WecomRobotRecorder {
  readonly messages: RobotMessage[] = [];
  private failure: Failure | undefined;

  /** The ALERT_WEBHOOK_URL the functions get on a local cloud at `cloudUrl`. */
  static webhookUrl(cloudUrl: string): string {
    return `${cloudUrl}${WECOM_PATH}?key=local`;
  }

  /** Makes the next `times` posts fail with `status` (and, for a 200, `errcode`). */
  fail(times: number, status = 200, errcode = 93000): void {
    this.failure = times > 0 ? { times, status, errcode } : undefined;
  }

  async handle(req: IncomingMessage, res: ServerResponse, url: URL, raw: Buffer): Promise<void> {
    if (url.pathname === '/wecom/_local/messages' && req.method === 'GET') return sendJson(res, 200, this.messages);
    if (url.pathname === '/wecom/_local/fail') {
      if (req.method === 'DELETE') return (this.fail(0), sendJson(res, 200, { failing: 0 }));
      if (req.method === 'POST') {
        const body = parseJsonBody(raw) as { times?: unknown; status?: unknown; errcode?: unknown };
        const times = body.times ?? 1;
        if (!Number.isInteger(times) || (times as number) < 0)
          throw new HttpError(400, 'INVALID_REQUEST', 'times: a non-negative integer');
        this.fail(
          times as number,
          Number.isInteger(body.status) ? (body.status as number) : 200,
          Number.isInteger(body.errcode) ? (body.errcode as number) : 93000,
        );
        return sendJson(res, 200, { failing: times });
      }
    }
    if (url.pathname !== WECOM_PATH || req.method !== 'POST')
      throw new HttpError(404, 'NOT_FOUND', `nothing at ${req.method} ${url.pathname}`);
    const key = url.searchParams.get('key') ?? '';
    let message: { msgtype?: unknown; markdown?: { content?: unknown }; text?: { content?: unknown } };
    try {
      message = JSON.parse(raw.toString('utf8')) as typeof message;
    } catch {
      return sendJson(res, 200, { errcode: 40001, errmsg: 'invalid json' });
    }
    const msgtype = typeof message.msgtype === 'string' ? message.msgtype : '';
    const content =
      msgtype === 'markdown' ? message.markdown?.content : msgtype === 'text' ? message.text?.content : undefined;
    let errcode = 0;
    let errmsg = 'ok';
    if (!key) [errcode, errmsg] = [93000, 'invalid webhook url'];
    else if (typeof content !== 'string') [errcode, errmsg] = [40008, 'invalid message type'];
    else if (Buffer.byteLength(content, 'utf8') > 4096)
      [errcode, errmsg] = [40058, `${msgtype}.content exceed max length 4096`];
    if (this.failure) {
      const { status, errcode: failCode } = this.failure;
      if (--this.failure.times <= 0) this.failure = undefined;
      this.messages.push({
        at: Date.now(),
        key,
        msgtype,
        content: String(content ?? ''),
        errcode: status === 200 ? failCode : -1,
      });
      if (status !== 200) return sendJson(res, status, { errcode: -1, errmsg: 'local robot failing on purpose' });
      return sendJson(res, 200, { errcode: failCode, errmsg: 'local robot failing on purpose' });
    }
    this.messages.push({ at: Date.now(), key, msgtype, content: String(content ?? ''), errcode });
    sendJson(res, 200, { errcode, errmsg });
  }
}
