/**
 * Every relative link and image in the project's Markdown resolves: README.md, docs/**\/*.md, and every README.md
 * under localcloud/ and cloudfunctions/. A link's file (or folder) must exist, read from the page's folder as GitHub
 * reads it (a leading `/` is the repository root), inside the repository. A `page.md#anchor` or `#anchor` link must
 * also name a heading of its page, by GitHub's slugs: the heading's text lower-cased, punctuation dropped except `-`
 * and `_`, spaces turned to `-` (CJK characters kept), `-1`, `-2`, … after a repeated one. Absolute links (http:,
 * https:, mailto:, any scheme) are not checked; neither is anything in code, fenced or inline.
 *
 * A negative control runs the same check on a small page set in memory, so a check that finds nothing cannot pass
 * for one that looks at nothing.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

const ROOT = resolve(__dirname, '../../..');

interface Link {
  target: string;
  line: number;
}

interface Files {
  /** a file or a folder is there */
  exists(path: string): boolean;
  /** a Markdown page's text, or undefined when there is none */
  read(path: string): string | undefined;
}

/** The text with fenced code blocks blanked; line breaks are kept, so offsets still give lines. */
function withoutFences(markdown: string): string {
  let fence: { char: string; length: number } | undefined;
  return markdown
    .split('\n')
    .map((line) => {
      const marker = /^\s*(`{3,}|~{3,})/.exec(line);
      if (fence) {
        if (marker && marker[1]![0] === fence.char && marker[1]!.length >= fence.length && line.trim() === marker[1])
          fence = undefined;
        return '';
      }
      if (marker) {
        fence = { char: marker[1]![0]!, length: marker[1]!.length };
        return '';
      }
      return line;
    })
    .join('\n');
}

/** The text with fenced code blocks blanked and inline code spans removed (a span runs to the next backtick string of its length, across line breaks but not paragraphs). */
function withoutCode(markdown: string): string {
  return withoutFences(markdown).replace(/(?<!`)(`+)(?!`)(?:[^\n]|\n(?![ \t]*\n))*?(?<!`)\1(?!`)/g, (span) =>
    span.replace(/[^\n]/g, ''),
  );
}

const INLINE_LINK =
  /(!?)\[((?:[^[\]\n]|\n(?![ \t]*\n)|\[[^[\]\n]*\])*)\]\(\s*(<[^>\n]*>|[^()\s]*(?:\([^()\s]*\)[^()\s]*)*)(?:\s+(?:"[^"\n]*"|'[^'\n]*'|\([^)\n]*\)))?\s*\)/g;
const REFERENCE_DEFINITION = /^ {0,3}\[[^\]\n]+\]:[ \t]*(<[^>\n]*>|\S+)/gm;

/** Every link and image target of a page, outside code: inline ones (images inside link texts too) and reference definitions. */
function linksOf(markdown: string): Link[] {
  const text = withoutCode(markdown);
  const lineAt = (offset: number) => text.slice(0, offset).split('\n').length;
  const links: Link[] = [];
  const unwrap = (target: string) => (target.startsWith('<') && target.endsWith('>') ? target.slice(1, -1) : target);
  const scan = (part: string, offset: number) => {
    for (const match of part.matchAll(INLINE_LINK)) {
      const at = offset + match.index!;
      links.push({ target: unwrap(match[3]!), line: lineAt(at) });
      // [![picture](image.png)](page.md): the picture is a link too
      scan(match[2]!, at + match[1]!.length + 1);
    }
  };
  scan(text, 0);
  for (const match of text.matchAll(REFERENCE_DEFINITION))
    links.push({ target: unwrap(match[1]!), line: lineAt(match.index!) });
  return links.sort((a, b) => a.line - b.line);
}

/** GitHub's anchor for a heading's text. */
function slugOf(heading: string): string {
  const text = heading
    .replace(/!\[[^\]]*\]\([^)]*\)/g, '') // a picture shows no text
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1') // a link shows its text
    .replace(/<[^>]+>/g, '') // tags show nothing
    .trim();
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}_ -]/gu, '')
    .replace(/ /g, '-');
}

/** The anchors a page offers: its headings' slugs (repeats numbered as GitHub numbers them) and explicit id/name attributes. */
function anchorsOf(markdown: string): Set<string> {
  const lines = withoutFences(markdown).split('\n');
  const anchors = new Set<string>();
  // as github-slugger counts: a slug taken gets the next free `-n` of its own count
  const occurrences = new Map<string, number>();
  const add = (heading: string) => {
    const base = slugOf(heading);
    let slug = base;
    while (occurrences.has(slug)) {
      const n = occurrences.get(base)! + 1;
      occurrences.set(base, n);
      slug = `${base}-${n}`;
    }
    occurrences.set(slug, 0);
    anchors.add(slug);
  };
  lines.forEach((line, i) => {
    const atx = /^ {0,3}#{1,6}(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/.exec(line);
    if (atx) add(atx[1] ?? '');
    const previous = lines[i - 1];
    if (/^ {0,3}(=+|-+)[ \t]*$/.test(line) && previous?.trim() && !/^ {0,3}(#|[-*+] |\d+[.)] |>|\|)/.test(previous))
      add(previous.trim());
    for (const match of line.matchAll(/<[a-z][^>]*\s(?:id|name)=["']([^"']+)["']/gi)) anchors.add(match[1]!);
  });
  return anchors;
}

/** Each link of the pages whose file, or whose heading, is not there: `page:line: target (why)`. */
function brokenLinks(pages: Map<string, string>, root: string, files: Files): string[] {
  const broken: string[] = [];
  const show = (path: string) => relative(root, path).split(sep).join('/');
  for (const [page, markdown] of pages) {
    for (const { target, line } of linksOf(markdown)) {
      const report = (why: string) => broken.push(`${show(page)}:${line}: ${target} (${why})`);
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // http:, https:, mailto:, …: not ours to check
      if (target === '') {
        report('an empty link');
        continue;
      }
      const hash = target.indexOf('#');
      const pathPart = (hash < 0 ? target : target.slice(0, hash)).replace(/\?.*$/, '');
      const anchor = hash < 0 ? '' : target.slice(hash + 1);
      let file = page;
      if (pathPart !== '') {
        let decoded: string;
        try {
          decoded = decodeURIComponent(pathPart);
        } catch {
          report('not a valid URL path');
          continue;
        }
        file = decoded.startsWith('/') ? join(root, decoded) : resolve(dirname(page), decoded);
        if (relative(root, file).startsWith('..')) {
          report('outside the repository');
          continue;
        }
        if (!files.exists(file)) {
          report(`no such file: ${show(file)}`);
          continue;
        }
      }
      if (anchor === '' || !file.endsWith('.md')) continue; // a folder, a picture or a source file: GitHub's own anchors
      const text = pages.get(file) ?? files.read(file);
      if (text === undefined) {
        report(`cannot read ${show(file)}`);
        continue;
      }
      let wanted: string;
      try {
        wanted = decodeURIComponent(anchor);
      } catch {
        wanted = anchor;
      }
      if (!anchorsOf(text).has(wanted)) report(`no heading #${wanted} in ${show(file)}`);
    }
  }
  return broken;
}

function markdownUnder(dir: string, keep: (name: string) => boolean): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory())
      return entry.name === 'node_modules' || entry.name.startsWith('.') ? [] : markdownUnder(path, keep);
    return entry.isFile() && keep(entry.name) ? [path] : [];
  });
}

const diskFiles: Files = {
  exists: (path) => existsSync(path),
  read: (path) => {
    try {
      return statSync(path).isFile() ? readFileSync(path, 'utf8') : undefined;
    } catch {
      return undefined;
    }
  },
};

describe('relative links in README.md, docs/ and the READMEs of localcloud/ and cloudfunctions/', () => {
  const paths = [
    join(ROOT, 'README.md'),
    ...markdownUnder(join(ROOT, 'docs'), (name) => name.endsWith('.md')),
    ...markdownUnder(join(ROOT, 'localcloud'), (name) => name === 'README.md'),
    ...markdownUnder(join(ROOT, 'cloudfunctions'), (name) => name === 'README.md'),
  ];
  const pages = new Map(paths.map((path) => [path, readFileSync(path, 'utf8')]));
  const rel = (path: string) => relative(ROOT, path).split(sep).join('/');

  test('the check sees the pages and their links', () => {
    const docs = paths.map(rel).filter((p) => p.startsWith('docs/'));
    expect(docs.length).toBeGreaterThanOrEqual(10);
    expect(paths.map(rel)).toContain('localcloud/wechatpay-sim/README.md');
    const links = [...pages.values()].flatMap(linksOf);
    expect(links.filter((l) => !/^[a-z][a-z0-9+.-]*:/i.test(l.target)).length).toBeGreaterThan(50);
    expect(links.filter((l) => l.target.includes('#')).length).toBeGreaterThan(10);
  });

  test('README.md links every docs page and the simulator README', () => {
    const targets = new Set(linksOf(pages.get(join(ROOT, 'README.md'))!).map((l) => l.target.replace(/#.*$/, '')));
    const wanted = [...paths.map(rel).filter((p) => p.startsWith('docs/')), 'localcloud/wechatpay-sim/README.md'];
    expect(wanted.filter((p) => !targets.has(p))).toEqual([]);
  });

  test('every link resolves, and every anchor names a heading', () => {
    expect(brokenLinks(pages, ROOT, diskFiles)).toEqual([]);
  });
});

describe('the link check itself', () => {
  test("GitHub's slugs", () => {
    expect(slugOf('Books: the daily bill, statements, metrics and alerts')).toBe(
      'books-the-daily-bill-statements-metrics-and-alerts',
    );
    expect(slugOf('The books job (`npm run bench -- bill`)')).toBe('the-books-job-npm-run-bench----bill');
    expect(slugOf("A new merchant's first day (public-key mode)")).toBe('a-new-merchants-first-day-public-key-mode');
    expect(slugOf('What `npm test` runs: snake_case kept')).toBe('what-npm-test-runs-snake_case-kept');
    expect(slugOf('支付成功（通知）与 [退款](x.md)')).toBe('支付成功通知与-退款');
    expect([...anchorsOf('# Notes\n\n## Notes\n\n```\n# not a heading\n```\n\nSetext\n------\n\n## Notes\n')]).toEqual([
      'notes',
      'notes-1',
      'setext',
      'notes-2',
    ]);
  });

  test('a broken link, a missing picture and a wrong anchor are reported; code, absolute links and good ones are not', () => {
    const root = '/virtual';
    const pages = new Map([
      [
        '/virtual/README.md',
        [
          '# Front door',
          '',
          'See [the guide](docs/guide.md), [its first steps](docs/guide.md#first-steps), [in Chinese](docs/guide.md#支付成功通知),',
          '[a page that is gone](docs/gone.md), [a wrong heading](docs/guide.md#nowhere), [here](#front-door),',
          '[not here](#back-door), ![a picture](docs/missing.png), [![a badge](docs/badge.png)](docs/guide.md),',
          '[the web](https://example.com/gone.md), [mail](mailto:someone@example.com), `[in code](docs/code.md)`,',
          '[out of the tree](../elsewhere.md), [the root](/docs/guide.md), [a code heading](docs/guide.md#the-npm-test-tier).',
          '',
          '```md',
          '[in a fence](docs/fence.md)',
          '```',
        ].join('\n'),
      ],
      [
        '/virtual/docs/guide.md',
        '# Guide\n\n## First steps\n\n## 支付成功（通知）\n\n## The `npm test` tier\n\n[back](../README.md#front-door), [up](../README.md#back-door)\n',
      ],
    ]);
    const present = new Set([...pages.keys(), '/virtual/docs', '/virtual/docs/badge.png']);
    const files: Files = { exists: (path) => present.has(path), read: (path) => pages.get(path) };
    expect(brokenLinks(pages, root, files)).toEqual([
      'README.md:4: docs/gone.md (no such file: docs/gone.md)',
      'README.md:4: docs/guide.md#nowhere (no heading #nowhere in docs/guide.md)',
      'README.md:5: #back-door (no heading #back-door in README.md)',
      'README.md:5: docs/missing.png (no such file: docs/missing.png)',
      'README.md:7: ../elsewhere.md (outside the repository)',
      'docs/guide.md:9: ../README.md#back-door (no heading #back-door in README.md)',
    ]);
  });
});
