import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../src/config/load.js';
import { configSchema } from '../src/config/schema.js';

describe('config/config.example.yaml', () => {
  it('is valid and equals the built-in defaults', async () => {
    const text = await readFile('config/config.example.yaml', 'utf8');
    const example = parseConfigText(text, {});
    expect(example.ok).toBe(true);
    if (!example.ok) return;
    const defaults = configSchema.parse({});
    expect(example.config).toEqual(defaults);
  });

  it('documents every key of the schema', async () => {
    const text = await readFile('config/config.example.yaml', 'utf8');
    const defaults = configSchema.parse({}) as unknown as Record<string, Record<string, unknown>>;
    for (const [section, keys] of Object.entries(defaults)) {
      expect(text).toMatch(new RegExp(`^${section}:`, 'm'));
      for (const key of Object.keys(keys)) expect(text, `${section}.${key}`).toMatch(new RegExp(`^  ${key}:`, 'm'));
    }
  });
});
