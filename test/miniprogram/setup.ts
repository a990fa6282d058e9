/**
 * miniprogram-simulate runs components in jsdom; the platform globals it does not define are provided here, and
 * every `wx` API a page or service uses is a jest mock that each test sets up.
 */
const app: Record<string, unknown> = { globalData: {} };
const g = globalThis as unknown as Record<string, unknown>;
g.getApp = () => app;
g.getCurrentPages = () => [];
