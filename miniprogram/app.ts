App<Record<string, never>>({});
