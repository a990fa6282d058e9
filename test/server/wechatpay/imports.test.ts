/** The protocol module imports nothing outside node built-ins (and its own files). */
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';

const dir = join(__dirname, '../../../cloudfunctions/common/wechatpay');

test('every import of cloudfunctions/common/wechatpay is a node built-in or a sibling file', () => {
  const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));
  expect(files.length).toBeGreaterThan(5);
  const outside: string[] = [];
  for (const file of files) {
    const source = readFileSync(join(dir, file), 'utf8');
    for (const [, specifier] of source.matchAll(/(?:from|import|require\()\s*['"]([^'"]+)['"]/g)) {
      const builtin = specifier!.startsWith('node:') || builtinModules.includes(specifier!);
      const sibling = /^\.\/[\w-]+$/.test(specifier!);
      if (!builtin && !sibling) outside.push(`${file}: ${specifier}`);
    }
  }
  expect(outside).toEqual([]);
});

test('the protocol module holds the merchant’s side only: WeChat Pay’s side lives in the simulator', async () => {
  const protocol = (await import('../../../cloudfunctions/common/wechatpay')) as Record<string, unknown>;
  for (const weChatPaySide of ['signResponse', 'encryptNotification', 'parseAuthorization'])
    expect(protocol).not.toHaveProperty(weChatPaySide);
  const simulator = {
    ...((await import('../../../localcloud/wechatpay-sim/signing')) as Record<string, unknown>),
    ...((await import('../../../localcloud/wechatpay-sim/auth')) as Record<string, unknown>),
  };
  for (const weChatPaySide of ['signResponse', 'encryptNotification', 'parseAuthorization'])
    expect(typeof simulator[weChatPaySide]).toBe('function');
});
