// Reading Google Search sources from Gemini web candidates (shared/docs/gemini-web-2026h2.md §4).
import { describe, expect, it } from 'vitest';
import type { ChatRequest } from '../../src/core/types.js';
import { allowedSources, citedSegments, readGrounding, searchedIn, searchQuery } from '../../src/providers/gemini-web/search.js';

const entry = (url: string, title: string, quote: unknown[]) => [`${url}#:~:text=x`, title, 'fav', 'snip', [quote], null, 'Site', 9, ''];

describe('gemini web search', () => {
  it('layout A: dedupes sources by URL without the text fragment; cites quotes found in the text', () => {
    const q1 = ['Alpha is one.', null, null, [[0, 13], [0, 13]]];
    const q2 = ['Missing quote.', null, null, [[0, 1], [0, 1]]];
    const c = ['rc', ['Alpha is one. Beta is two.'], [null, [[q1, [1], [entry('https://a.example/x', 'A', q1), entry('https://b.example/', 'B', q1)]], [q2, [1], [entry('https://a.example/x', 'A again', q2)]]]]];
    const g = readGrounding(c)!;
    expect(g.sources).toEqual([
      { url: 'https://a.example/x', title: 'A', snippet: 'snip', siteName: 'Site' },
      { url: 'https://b.example/', title: 'B', snippet: 'snip', siteName: 'Site' },
    ]);
    expect(citedSegments('Alpha is one. Beta is two.', g)).toEqual([
      { text: 'Alpha is one.', citations: [{ url: 'https://a.example/x', title: 'A', citedText: 'Alpha is one.' }, { url: 'https://b.example/', title: 'B', citedText: 'Alpha is one.' }] },
      { text: ' Beta is two.' },
    ]);
  });

  it('layout B: markers resolve through their group, else by number; text without markers', () => {
    const group = (marker: string, urls: string[]) => [[marker], urls.map((u) => [null, null, null, [['fav', u, `T ${u}`]]])];
    const c = ['rc', ['x'], null, null, null, null, null, null, [2], 'en', null, null, [null, null]];
    (c[12] as unknown[])[43] = [group('[cite: 1]', ['https://a.example/']), group('[cite: 2]', ['https://b.example/'])];
    const g = readGrounding(c)!;
    const segments = citedSegments('First line\nOne fact. Second fact. [cite: 2] Third. [cite: 1, 2]', g);
    expect(segments.map((s) => s.text).join('')).toBe('First line\nOne fact. Second fact. Third.');
    expect(segments.filter((s) => s.citations).map((s) => [s.text, s.citations!.map((x) => x.url)])).toEqual([
      ['Second fact.', ['https://b.example/']],
      ['Third.', ['https://a.example/', 'https://b.example/']],
    ]);
  });

  it('no sources: undefined; the search marker in early or final frames', () => {
    expect(readGrounding(['rc', ['x']])).toBeUndefined();
    expect(searchedIn([null, null, { '7': [[null, 'Google Search', 1]] }])).toBe(true);
    const final: unknown[] = [];
    final[11] = [['Google Search']];
    expect(searchedIn(final)).toBe(true);
    expect(searchedIn([null, null, { '18': 'r' }])).toBe(false);
  });

  it("the query: Claude Code's WebSearch wording or the last user message; domain filters", () => {
    const request = (text: string) => ({ messages: [{ role: 'user', content: [{ type: 'text', text }] }] }) as unknown as ChatRequest;
    expect(searchQuery(request('Perform a web search for the query: rust 2027 edition'))).toBe('rust 2027 edition');
    expect(searchQuery(request('  what is new in node 24?  '))).toBe('what is new in node 24?');
    const sources = [{ url: 'https://docs.example.org/a', title: 'a' }, { url: 'https://spam.test/b', title: 'b' }];
    expect(allowedSources(sources, { allowedDomains: ['example.org'] }).map((s) => s.title)).toEqual(['a']);
    expect(allowedSources(sources, { blockedDomains: ['spam.test'] }).map((s) => s.title)).toEqual(['a']);
  });
});
