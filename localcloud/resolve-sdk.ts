/** Makes `require('wx-server-sdk')` load the local cloud's implementation, for source and bundled functions alike. */
import Module from 'node:module';

const target = require.resolve('./wx-server-sdk');
let installed = false;

export function useLocalWxServerSdk(): void {
  if (installed) return;
  installed = true;
  const mod = Module as unknown as { _resolveFilename: (request: string, ...rest: unknown[]) => string };
  const original = mod._resolveFilename;
  mod._resolveFilename = function (request: string, ...rest: unknown[]) {
    return request === 'wx-server-sdk' ? target : original.call(this, request, ...rest);
  };
}
