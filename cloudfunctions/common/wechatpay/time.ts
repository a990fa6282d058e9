/** RFC 3339 in China Standard Time (`2026-11-23T22:33:12+08:00`), as WeChat Pay writes and expects times. */
export function rfc3339(ms: number): string {
  const cst = new Date(ms + 8 * 3600 * 1000);
  return `${cst.toISOString().slice(0, 19)}+08:00`;
}
