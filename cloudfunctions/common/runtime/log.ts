import type { Logger } from '../domain/deps';

const LEVELS = { info: 0, warn: 1, error: 2, silent: 3 } as const;
type Level = keyof typeof LEVELS;

/** LOG_LEVEL: info (default), warn, error or silent; read per call so the local cloud and tests can change it. */
function enabled(level: Exclude<Level, 'silent'>): boolean {
  const configured = (process.env.LOG_LEVEL ?? 'info') as Level;
  return LEVELS[level] >= (LEVELS[configured] ?? 0);
}

/** One JSON line per event: what cloud function logs search best. */
export const jsonLogger: Logger = {
  info: (message, fields) =>
    void (enabled('info') && console.log(JSON.stringify({ level: 'info', message, ...fields }))),
  warn: (message, fields) =>
    void (enabled('warn') && console.warn(JSON.stringify({ level: 'warn', message, ...fields }))),
  error: (message, fields) =>
    void (enabled('error') && console.error(JSON.stringify({ level: 'error', message, ...fields }))),
};
