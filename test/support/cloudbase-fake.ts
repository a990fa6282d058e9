/**
 * A local fake of the Tencent Cloud API that `@cloudbase/manager-node` calls for a deploy, reached the way the SDK
 * reaches any proxy: `http_proxy=http://127.0.0.1:<port>`. The SDK opens a CONNECT tunnel to
 * tcb/scf.tencentcloudapi.com:443; the fake answers it with TLS under its own test CA (the child process is given
 * NODE_EXTRA_CA_CERTS), checks each request's TC3-HMAC-SHA256 signature against the account's keys, and answers the
 * actions the deploy uses with the shapes of the SDK's source and Tencent's API pages ({"Response": {..., RequestId}}
 * or {"Response": {"Error": {Code, Message}, RequestId}}). It keeps state (functions, triggers, HTTP access routes,
 * collections, indexes, security rules), records every request with its parameters and raw text, and can deny an
 * action as CAM does (AuthFailure.UnauthorizedOperation). `*.service.tcloudbase.com` is the environment's HTTP access
 * domain: a request on a route is forwarded to `httpAccessBase/<function>` (the local cloud's HTTP access events).
 *
 * A recording proves what the SDK sends, not that Tencent's servers accept it (docs/deploy.md says what ran where).
 */
import { createHash, createHmac, generateKeyPairSync, randomUUID } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import forge from 'node-forge';

export interface Recorded {
  service: string;
  action: string;
  params: Record<string, unknown>;
  /** the request as sent: headers and body */
  raw: string;
}

export interface FakeFunction {
  FunctionName: string;
  Namespace: string;
  Runtime: string;
  Handler: string;
  Timeout: number;
  MemorySize: number;
  Description: string;
  InstallDependency: string;
  Environment: { Variables: { Key: string; Value: string }[] };
  Triggers: {
    TriggerName: string;
    Type: string;
    TriggerDesc: string;
    Enable: number;
    AddTime: string;
    ModTime: string;
  }[];
  Status: string;
  FunctionVersion: string;
  AddTime: string;
  ModTime: string;
  CodeSize: number;
  /** the uploaded zip */
  zip: Buffer;
}

export interface FakeRoute {
  ServiceId: string;
  APIId: string;
  Path: string;
  Type: number;
  Name: string;
  CreateTime: number;
  EnvId: string;
  EnableAuth: boolean;
}

export interface FakeIndex {
  Name: string;
  Keys: { Name: string; Direction: string }[];
  Unique: boolean;
}

export interface CloudBaseFakeOptions {
  envId: string;
  secretId: string;
  secretKey: string;
  region?: string;
  /** where HTTP access routes send their requests: `${httpAccessBase}/<function name><rest of the path>` */
  httpAccessBase?: string;
}

class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const now = () => new Date().toISOString().replace('T', ' ').slice(0, 19);
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const hmac = (key: Buffer | string, text: string) => createHmac('sha256', key).update(text).digest();

/** A CA and a server certificate for the API hosts and the HTTP access domain, made once per fake. */
function certificates(): { caPem: string; keyPem: string; certPem: string } {
  const make = () => generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ca = make();
  const leaf = make();
  const caKey = forge.pki.privateKeyFromPem(ca.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString());
  const caCert = forge.pki.createCertificate();
  caCert.publicKey = forge.pki.publicKeyFromPem(ca.publicKey.export({ type: 'spki', format: 'pem' }).toString());
  caCert.serialNumber = '01';
  caCert.validity.notBefore = new Date(Date.now() - 3600_000);
  caCert.validity.notAfter = new Date(Date.now() + 7 * 24 * 3600_000);
  const caName = [{ name: 'commonName', value: 'cloudbase-fake test CA' }];
  caCert.setSubject(caName);
  caCert.setIssuer(caName);
  caCert.setExtensions([
    { name: 'basicConstraints', cA: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true },
  ]);
  caCert.sign(caKey, forge.md.sha256.create());
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(leaf.publicKey.export({ type: 'spki', format: 'pem' }).toString());
  cert.serialNumber = '02';
  cert.validity.notBefore = caCert.validity.notBefore;
  cert.validity.notAfter = caCert.validity.notAfter;
  cert.setSubject([{ name: 'commonName', value: 'tencentcloudapi.com' }]);
  cert.setIssuer(caName);
  cert.setExtensions([
    {
      name: 'subjectAltName',
      altNames: [
        { type: 2, value: '*.tencentcloudapi.com' },
        { type: 2, value: '*.service.tcloudbase.com' },
      ],
    },
  ]);
  cert.sign(caKey, forge.md.sha256.create());
  return {
    caPem: forge.pki.certificateToPem(caCert),
    keyPem: leaf.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    certPem: forge.pki.certificateToPem(cert),
  };
}

export class CloudBaseFake {
  readonly recorded: Recorded[] = [];
  readonly functions = new Map<string, FakeFunction>();
  readonly routes: FakeRoute[] = [];
  readonly tables = new Map<string, FakeIndex[]>();
  readonly permissions = new Map<string, { Permission: string; SecurityRule?: string }>();
  /** "scf:CreateFunction": answered AuthFailure.UnauthorizedOperation, as CAM answers a sub-account without it */
  readonly denied = new Set<string>();
  /** the CA to trust (NODE_EXTRA_CA_CERTS) */
  readonly caPem: string;
  private readonly proxy: Server;
  private readonly tls;
  private readonly sockets = new Set<Socket>();
  private readonly uin = '100000000001';

  constructor(readonly options: CloudBaseFakeOptions) {
    const { caPem, keyPem, certPem } = certificates();
    this.caPem = caPem;
    this.tls = createHttpsServer({ key: keyPem, cert: certPem }, (req, res) => void this.handle(req, res));
    this.proxy = createHttpServer((_req, res) => res.writeHead(400).end('a CONNECT proxy'));
    this.proxy.on('connect', (req: IncomingMessage, socket: Socket, head: Buffer) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) socket.unshift(head);
      this.tls.emit('connection', socket);
    });
    this.proxy.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.proxy.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.proxy.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.proxy.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const host = (req.headers.host ?? '').split(':')[0]!;
    if (host.endsWith('.service.tcloudbase.com')) return this.httpAccess(req, res, body);
    const service = host.split('.')[0]!;
    const action = String(req.headers['x-tc-action'] ?? '');
    const requestId = randomUUID();
    const raw = `${Object.entries(req.headers)
      .map(([k, v]) => `${k}: ${String(v)}`)
      .join('\n')}\n\n${body}`;
    let params: Record<string, unknown> = {};
    const answer = (response: Record<string, unknown>) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ Response: { ...response, RequestId: requestId } }));
    };
    try {
      params = body ? (JSON.parse(body) as Record<string, unknown>) : {};
      this.recorded.push({ service, action, params, raw });
      this.verifySignature(req, host, service, body);
      if (this.denied.has(`${service}:${action}`))
        throw new ApiError(
          'AuthFailure.UnauthorizedOperation',
          `[request id:${requestId}]you are not authorized to perform operation (${service}:${action})\nresource (qcs::${service}:${this.options.region ?? 'ap-shanghai'}:uin/${this.uin}:*) has no permission\n`,
        );
      answer(this.act(service, action, params));
    } catch (error) {
      // anything the fake did not foresee is the platform's catch-all, so that a test sees it rather than hangs
      if (error instanceof ApiError) answer({ Error: { Code: error.code, Message: error.message } });
      else answer({ Error: { Code: 'InternalError', Message: String((error as Error).message ?? error) } });
    }
  }

  /** TC3-HMAC-SHA256 as Tencent Cloud checks it (signature v3): the same canonical request, the account's key. */
  private verifySignature(req: IncomingMessage, host: string, service: string, body: string): void {
    const auth = String(req.headers.authorization ?? '');
    const m =
      /^TC3-HMAC-SHA256 Credential=([^/]+)\/(\d{4}-\d{2}-\d{2})\/([a-z]+)\/tc3_request, SignedHeaders=([a-z;-]+), Signature=([0-9a-f]{64})$/.exec(
        auth,
      );
    if (!m) throw new ApiError('AuthFailure.InvalidAuthorization', 'Authorization header is malformed');
    const [, secretId, date, credentialService, signedHeaders, signature] = m;
    if (secretId !== this.options.secretId)
      throw new ApiError('AuthFailure.SecretIdNotFound', 'The SecretId is not found');
    if (credentialService !== service) throw new ApiError('AuthFailure.SignatureFailure', 'service does not match');
    const timestamp = Number(req.headers['x-tc-timestamp']);
    if (!Number.isFinite(timestamp) || Math.abs(Date.now() / 1000 - timestamp) > 300)
      throw new ApiError('AuthFailure.SignatureExpire', 'The signature has expired');
    const contentType = String(req.headers['content-type'] ?? '');
    const canonical = `${req.method}\n/\n\ncontent-type:${contentType}\nhost:${host}\n\n${signedHeaders}\n${sha256(body)}`;
    const toSign = `TC3-HMAC-SHA256\n${timestamp}\n${date}/${service}/tc3_request\n${sha256(canonical)}`;
    const kDate = hmac(`TC3${this.options.secretKey}`, date!);
    const kSigning = hmac(hmac(kDate, service), 'tc3_request');
    if (hmac(kSigning, toSign).toString('hex') !== signature)
      throw new ApiError('AuthFailure.SignatureFailure', 'The provided credentials could not be validated');
  }

  private act(service: string, action: string, p: Record<string, unknown>): Record<string, unknown> {
    const { envId } = this.options;
    const key = `${service}:${action}`;
    const fn = (name: unknown) => {
      const f = this.functions.get(String(name));
      if (!f) throw new ApiError('ResourceNotFound.Function', `未找到指定的Function，请创建后再试。(${String(name)})`);
      return f;
    };
    const table = (name: unknown) => {
      const t = this.tables.get(String(name));
      if (!t) throw new ApiError('ResourceNotFound.TableNotExist', `table ${String(name)} does not exist`);
      return t;
    };
    const checkEnv = (id: unknown) => {
      if (id !== undefined && id !== envId)
        throw new ApiError('ResourceNotFound.Env', `Environment ${String(id)} not found`);
    };
    switch (key) {
      case 'tcb:DescribeEnvInfo':
        checkEnv(p.EnvId);
        return {
          EnvInfo: {
            EnvBaseInfo: {
              EnvId: envId,
              Alias: envId,
              Status: 'NORMAL',
              Region: this.options.region ?? 'ap-shanghai',
              Databases: [
                { InstanceId: `tnt-${envId}`, Status: 'RUNNING', Region: this.options.region ?? 'ap-shanghai' },
              ],
              Storages: [{ Region: 'ap-shanghai', Bucket: `${envId}-1250000000`, AppId: '1250000000' }],
              Functions: [{ Namespace: envId, Region: this.options.region ?? 'ap-shanghai' }],
              LogServices: [],
            },
            UserInfo: { AppId: '1250000000' },
          },
        };
      case 'tcb:ListFunctions': {
        checkEnv(p.EnvId);
        const all = [...this.functions.values()];
        const offset = Number(p.Offset ?? 0);
        const page = all.slice(offset, offset + Number(p.Limit ?? 20));
        return {
          Functions: page.map((f) => ({
            FunctionId: `lam-${f.FunctionName}`,
            FunctionName: f.FunctionName,
            Runtime: f.Runtime,
            AddTime: f.AddTime,
            ModTime: f.ModTime,
            Status: f.Status,
          })),
          TotalCount: all.length,
        };
      }
      case 'scf:GetFunction': {
        const { zip, ...detail } = fn(p.FunctionName);
        return { ...detail, CodeInfo: '', CodeResult: 'success', CodeSize: zip.length };
      }
      case 'scf:CreateFunction': {
        const name = String(p.FunctionName);
        if (this.functions.has(name)) throw new ApiError('ResourceInUse.Function', `函数 ${name} 已存在`);
        checkEnv(p.Namespace);
        const zip = this.zipOf(p.Code);
        const at = now();
        this.functions.set(name, {
          FunctionName: name,
          Namespace: String(p.Namespace),
          Runtime: String(p.Runtime),
          Handler: String(p.Handler),
          Timeout: Number(p.Timeout ?? 3),
          MemorySize: Number(p.MemorySize ?? 128),
          Description: String(p.Description ?? ''),
          InstallDependency: String(p.InstallDependency ?? 'FALSE'),
          Environment: { Variables: this.variablesOf(p.Environment) },
          Triggers: [],
          Status: 'Active',
          FunctionVersion: '$LATEST',
          AddTime: at,
          ModTime: at,
          CodeSize: zip.length,
          zip,
        });
        return {};
      }
      case 'scf:UpdateFunctionCode': {
        const f = fn(p.FunctionName);
        f.zip = this.zipOf(p.Code);
        f.CodeSize = f.zip.length;
        if (p.Handler) f.Handler = String(p.Handler);
        if (p.InstallDependency) f.InstallDependency = String(p.InstallDependency);
        f.ModTime = now();
        return {};
      }
      case 'scf:UpdateFunctionConfiguration': {
        const f = fn(p.FunctionName);
        if (p.Timeout !== undefined) f.Timeout = Number(p.Timeout);
        if (p.MemorySize !== undefined) f.MemorySize = Number(p.MemorySize);
        if (p.Description !== undefined) f.Description = String(p.Description);
        if (p.Environment !== undefined) f.Environment = { Variables: this.variablesOf(p.Environment) };
        f.ModTime = now();
        return {};
      }
      case 'scf:BatchCreateTrigger': {
        const f = fn(p.FunctionName);
        const triggers = JSON.parse(String(p.Triggers)) as { TriggerName: string; Type: string; TriggerDesc: string }[];
        for (const t of triggers) {
          if (f.Triggers.some((x) => x.TriggerName === t.TriggerName))
            throw new ApiError('ResourceInUse.Trigger', `触发器 ${t.TriggerName} 已存在`);
          if (t.Type !== 'timer' || t.TriggerDesc.trim().split(/\s+/).length !== 7)
            throw new ApiError('InvalidParameterValue.TriggerDesc', 'TriggerDesc 不正确');
        }
        const at = now();
        for (const t of triggers)
          f.Triggers.push({
            TriggerName: t.TriggerName,
            Type: t.Type,
            TriggerDesc: JSON.stringify({ cron: t.TriggerDesc }),
            Enable: 1,
            AddTime: at,
            ModTime: at,
          });
        return { TriggerList: triggers.map((t) => ({ TriggerName: t.TriggerName, Type: t.Type })) };
      }
      case 'scf:DeleteTrigger': {
        const f = fn(p.FunctionName);
        const before = f.Triggers.length;
        f.Triggers = f.Triggers.filter((t) => t.TriggerName !== p.TriggerName);
        if (f.Triggers.length === before) throw new ApiError('ResourceNotFound.Trigger', '触发器不存在');
        return {};
      }
      case 'scf:DeleteFunction':
        fn(p.FunctionName);
        this.functions.delete(String(p.FunctionName));
        return {};
      case 'tcb:CreateCloudBaseGWAPI': {
        checkEnv(p.ServiceId);
        if (this.routes.some((r) => r.Path === p.Path)) throw new ApiError('InvalidParameter.APICreated', 'API 已创建');
        fn(p.Name);
        const route: FakeRoute = {
          ServiceId: envId,
          APIId: `api-${randomUUID().slice(0, 8)}`,
          Path: String(p.Path),
          Type: Number(p.Type),
          Name: String(p.Name),
          CreateTime: Math.floor(Date.now() / 1000),
          EnvId: envId,
          EnableAuth: p.AuthSwitch === 1, // the SDK sends 1 for on, 2 for off
        };
        this.routes.push(route);
        return { APIId: route.APIId };
      }
      case 'tcb:DescribeCloudBaseGWAPI': {
        checkEnv(p.ServiceId);
        const set = this.routes.filter((r) => (!p.Path || r.Path === p.Path) && (!p.Name || r.Name === p.Name));
        return {
          APISet: set,
          Total: set.length,
          Limit: Number(p.limit ?? 20),
          Offset: Number(p.Offset ?? 0),
          EnableService: true,
        };
      }
      case 'tcb:ModifyCloudBaseGWAPIPrivilegeBatch': {
        const on =
          (p.Options as { Key: string; Value: string }[]).find((o) => o.Key === 'authswitch')?.Value === 'true';
        for (const r of this.routes) if ((p.APIIdSet as string[]).includes(r.APIId)) r.EnableAuth = on;
        return { Count: (p.APIIdSet as string[]).length };
      }
      case 'tcb:DeleteCloudBaseGWAPI': {
        const at = this.routes.findIndex((r) => r.APIId === p.APIId || (!p.APIId && r.Name === p.Name));
        if (at < 0) throw new ApiError('ResourceNotFound', 'API 不存在');
        this.routes.splice(at, 1);
        return { Count: 1 };
      }
      case 'tcb:ListTables': {
        checkEnv(p.EnvId);
        const names = [...this.tables.keys()];
        const offset = Number(p.MgoOffset ?? 0);
        const page = names.slice(offset, offset + Number(p.MgoLimit ?? 100));
        return {
          Tables: page.length
            ? page.map((n) => ({
                TableName: n,
                Count: 0,
                Size: 0,
                IndexCount: this.tables.get(n)!.length,
                IndexSize: 0,
              }))
            : null,
          Pager: { Offset: offset, Limit: Number(p.MgoLimit ?? 100), Total: names.length },
        };
      }
      case 'tcb:DescribeTable': {
        const indexes = table(p.TableName);
        return {
          IndexNum: indexes.length,
          Indexes: indexes.map((i) => ({ ...i, Size: 4096, Accesses: { Ops: 0, Since: now() } })),
        };
      }
      case 'tcb:CreateTable':
        checkEnv(p.EnvId);
        if (this.tables.has(String(p.TableName)))
          throw new ApiError('ResourceInUse', `表 ${String(p.TableName)} 已存在`);
        this.tables.set(String(p.TableName), [{ Name: '_id_', Keys: [{ Name: '_id', Direction: '1' }], Unique: true }]);
        return {};
      case 'tcb:UpdateTable': {
        const indexes = table(p.TableName);
        for (const d of (p.DropIndexes as { IndexName: string }[] | undefined) ?? []) {
          const at = indexes.findIndex((i) => i.Name === d.IndexName);
          if (at < 0) throw new ApiError('ResourceNotFound.IndexNotExist', `index ${d.IndexName} does not exist`);
          indexes.splice(at, 1);
        }
        for (const c of (p.CreateIndexes as
          | {
              IndexName: string;
              MgoKeySchema: { MgoIsUnique: boolean; MgoIndexKeys: { Name: string; Direction: string }[] };
            }[]
          | undefined) ?? []) {
          if (indexes.some((i) => i.Name === c.IndexName))
            throw new ApiError('ResourceInUse.IndexExist', `index ${c.IndexName} exists`);
          indexes.push({ Name: c.IndexName, Keys: c.MgoKeySchema.MgoIndexKeys, Unique: c.MgoKeySchema.MgoIsUnique });
        }
        return {};
      }
      case 'tcb:DeleteTable':
        table(p.TableName);
        this.tables.delete(String(p.TableName));
        this.permissions.delete(String(p.TableName));
        return {};
      case 'tcb:ModifyResourcePermission':
        checkEnv(p.EnvId);
        if (p.ResourceType === 'collection') table(p.Resource);
        this.permissions.set(String(p.Resource), {
          Permission: String(p.Permission),
          ...(p.SecurityRule !== undefined ? { SecurityRule: String(p.SecurityRule) } : {}),
        });
        return { Data: { Success: true } };
      case 'tcb:DescribeResourcePermission': {
        checkEnv(p.EnvId);
        const wanted = (p.Resources as string[] | undefined) ?? [...this.permissions.keys()];
        const list = wanted
          .filter((r) => this.tables.has(r))
          .map((r) => ({
            ResourceType: p.ResourceType,
            Resource: r,
            // a collection nobody set answers the default of a new one: only its creator reads and writes
            ...(this.permissions.get(r) ?? { Permission: 'PRIVATE' }),
          }));
        return { Data: { TotalCount: list.length, PermissionList: list } };
      }
      default:
        throw new ApiError('InvalidAction', `接口 ${action} 不存在 (this fake answers only the deploy's actions)`);
    }
  }

  private zipOf(code: unknown): Buffer {
    const zip = Buffer.from(String((code as { ZipFile?: string } | undefined)?.ZipFile ?? ''), 'base64');
    if (zip.length < 4 || zip.readUInt32LE(0) !== 0x04034b50)
      throw new ApiError('InvalidParameterValue.ZipFile', 'ZipFile 不是 zip 文件 (base64)');
    return zip;
  }

  private variablesOf(environment: unknown): { Key: string; Value: string }[] {
    return ((environment as { Variables?: { Key: string; Value: string }[] } | undefined)?.Variables ?? []).map(
      (v) => ({
        Key: String(v.Key),
        Value: String(v.Value),
      }),
    );
  }

  /** The environment's HTTP access domain: a route forwards to its function, an unknown path is 404. */
  private async httpAccess(req: IncomingMessage, res: ServerResponse, body: string): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://access');
    const route = this.routes
      .filter((r) => url.pathname === r.Path || url.pathname.startsWith(`${r.Path.replace(/\/$/, '')}/`))
      .sort((a, b) => b.Path.length - a.Path.length)[0];
    this.recorded.push({ service: 'http', action: `${req.method} ${url.pathname}`, params: {}, raw: body });
    if (!route || !this.options.httpAccessBase) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ code: 'INVALID_PATH', message: 'Invalid path' }));
      return;
    }
    if (route.EnableAuth) {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ code: 'INVALID_AUTH', message: 'identity verification failed' }));
      return;
    }
    const rest = url.pathname.slice(route.Path.replace(/\/$/, '').length);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && k !== 'host') headers[k] = v;
    const answer = await fetch(`${this.options.httpAccessBase}/${route.Name}${rest}${url.search}`, {
      method: req.method ?? 'GET',
      headers,
      ...(req.method === 'GET' || req.method === 'HEAD' ? {} : { body }),
    });
    res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'text/plain' });
    res.end(Buffer.from(await answer.arrayBuffer()));
  }
}
