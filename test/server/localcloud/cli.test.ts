/**
 * The CLI's command table and where it finds the cloud: the help is made from the table and every command in it is
 * reached; without LOCALCLOUD_URL the CLI looks where `npm start` puts the cloud, LOCALCLOUD_PORT included (one
 * function, localcloud/env.ts, read by both), shown with a real `npm start` and the CLI in child processes.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { COMMANDS, HELP, runCli } from '../../../localcloud/cli';
import { cloudAddress, cloudUrl, SettingError } from '../../../localcloud/env';

jest.setTimeout(90_000);

const ROOT = resolve(__dirname, '../../..');
const TSX = require.resolve('tsx/cli');

describe('the command table', () => {
  test('the help lists every command of the table, and only those', () => {
    const listed = HELP.split('\n')
      .filter((line) => /^ {2}[a-z]/.test(line) && !line.startsWith('  What the console'))
      .map((line) => line.trim().split(' ')[0]);
    expect(listed).toEqual(Object.keys(COMMANDS));
    expect(HELP.startsWith('Usage: npm run localcloud -- <command> [options]\n\n  login [user]')).toBe(true);
  });

  test('every command is reached: without a cloud each one says what is missing or that it cannot reach it', async () => {
    for (const name of Object.keys(COMMANDS)) {
      const lines: string[] = [];
      expect(await runCli([name], { cloudUrl: 'http://127.0.0.1:1', out: (l) => lines.push(l) })).toBe(1);
      expect(lines.join('\n')).toMatch(
        /^error: (missing |cannot reach http:\/\/127\.0\.0\.1:1: is the local cloud running)/,
      );
    }
  });

  test('help, --help and no command print the help; an unknown command is an error with it', async () => {
    for (const argv of [[], ['help'], ['--help']]) {
      const lines: string[] = [];
      expect(await runCli(argv, { cloudUrl: 'http://127.0.0.1:1', out: (l) => lines.push(l) })).toBe(0);
      expect(lines).toEqual([HELP]);
    }
    for (const name of ['nosuch', 'constructor', '__proto__']) {
      const lines: string[] = [];
      expect(await runCli([name], { cloudUrl: 'http://127.0.0.1:1', out: (l) => lines.push(l) })).toBe(1);
      expect(lines).toEqual([`error: unknown command ${name}\n\n${HELP}`]);
    }
  });
});

describe('where the CLI finds the cloud', () => {
  test('LOCALCLOUD_URL when set, else 127.0.0.1 at LOCALCLOUD_PORT (default 8787), as npm start reads it', () => {
    expect(cloudUrl({})).toBe('http://127.0.0.1:8787');
    expect(cloudUrl({ LOCALCLOUD_PORT: ' 9911 ' })).toBe('http://127.0.0.1:9911');
    expect(cloudUrl({ LOCALCLOUD_PORT: '' })).toBe('http://127.0.0.1:8787');
    expect(cloudUrl({ LOCALCLOUD_PORT: '9911', LOCALCLOUD_URL: 'http://10.0.0.2:1234' })).toBe('http://10.0.0.2:1234');
    expect(cloudAddress({ LOCALCLOUD_PORT: '9911' })).toEqual({ host: '127.0.0.1', port: 9911 });
  });

  test('a port npm start refuses, the CLI refuses with the same message; port 0 (the OS chose) needs LOCALCLOUD_URL', () => {
    for (const bad of ['abc', '70000', '-1', '80.5']) {
      expect(() => cloudUrl({ LOCALCLOUD_PORT: bad })).toThrow(
        new SettingError('LOCALCLOUD_PORT must be a port number (0 lets the OS choose)'),
      );
    }
    expect(() => cloudUrl({ LOCALCLOUD_PORT: '0' })).toThrow(/LOCALCLOUD_URL/);
    expect(cloudUrl({ LOCALCLOUD_PORT: '0', LOCALCLOUD_URL: 'http://127.0.0.1:40001' })).toBe('http://127.0.0.1:40001');
  });

  describe('npm start on LOCALCLOUD_PORT, then the CLI with the same LOCALCLOUD_PORT and no LOCALCLOUD_URL', () => {
    let child: ChildProcess | undefined;
    let dataDir: string;
    let port: number;
    let printed: string;
    const env = () => {
      const e: NodeJS.ProcessEnv = {
        ...process.env,
        LOCALCLOUD_DATA: dataDir,
        LOCALCLOUD_PORT: String(port),
        LOCALCLOUD_PAY_PORT: '0',
        LOG_LEVEL: 'silent',
      };
      delete e.LOCALCLOUD_URL;
      return e;
    };

    beforeAll(async () => {
      dataDir = mkdtempSync(join(tmpdir(), 'cli-port-'));
      port = await new Promise<number>((done, fail) => {
        const server = createServer().once('error', fail);
        server.listen(0, '127.0.0.1', () => {
          const { port: free } = server.address() as { port: number };
          server.close(() => done(free));
        });
      });
      child = spawn(process.execPath, [TSX, join(ROOT, 'localcloud/main.ts')], {
        cwd: ROOT,
        env: env(),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      printed = await new Promise<string>((done, fail) => {
        let output = '';
        const timer = setTimeout(() => fail(new Error(`the local cloud did not start: ${output}`)), 60_000);
        child!.stdout!.on('data', (c: Buffer) => {
          output += c.toString();
          if (output.includes('Drive it:')) {
            clearTimeout(timer);
            done(output);
          }
        });
        child!.once('exit', (code) => fail(new Error(`the local cloud ended (${code}): ${output}`)));
      });
    });
    afterAll(async () => {
      if (child && child.exitCode === null)
        await new Promise<void>((r) => (child!.once('exit', () => r()), child!.kill('SIGTERM')));
      rmSync(dataDir, { recursive: true, force: true });
    });

    test('npm start listens where cloudUrl says, and the CLI reaches it there', async () => {
      expect(printed).toContain(`${cloudUrl({ LOCALCLOUD_PORT: String(port) })}/console`);
      const { code, stdout } = await new Promise<{ code: number; stdout: string }>((done) =>
        execFile(
          process.execPath,
          [TSX, join(ROOT, 'localcloud/cli.ts'), 'login', 'carol'],
          { cwd: ROOT, env: env(), timeout: 60_000 },
          (error, stdout) => done({ code: error ? Number(error.code ?? 1) : 0, stdout }),
        ),
      );
      expect(code).toBe(0);
      // this cloud's openid (its appid is made with its data folder), not another cloud's on 8787
      const appid = /appid (wx[0-9a-f]{16})/.exec(printed)![1]!;
      const openid = `o${createHash('sha256').update(`${appid}:carol`).digest('base64url').slice(0, 27)}`;
      expect(JSON.parse(stdout)).toMatchObject({ openid, session: expect.any(String) });
    });
  });
});
