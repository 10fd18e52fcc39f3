// Provider kinds with a load() (Gemini web) are imported only for configs that enable them: the
// registry loads them before building providers, at start and when a reload enables one.
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/load.js';
import { ConfigStore } from '../../src/config/store.js';
import { ConfiguredProviders } from '../../src/providers/registry.js';

const storeFor = (yaml: string) => {
  const loaded = parseConfigText(yaml, {});
  if (!loaded.ok) throw new Error('bad fixture');
  // No file: a reload gives the defaults, where Gemini is enabled.
  return new ConfigStore(`/nonexistent-${process.pid}/config.yaml`, loaded, {});
};

let registry: ConfiguredProviders | undefined;
afterEach(async () => {
  await registry?.close();
  registry = undefined;
});

describe('lazily loaded provider kinds', () => {
  it('are not loaded by importing the registry: building Gemini before its load() fails loudly', () => {
    expect(() => new ConfiguredProviders(storeFor('gemini:\n  enabled: true\n  auto_refresh: false\n'))).toThrow(/before its load\(\) finished/);
  });

  it('load when a reload enables them', async () => {
    const store = storeFor('gemini:\n  enabled: false\n');
    registry = await ConfiguredProviders.create(store);
    expect(registry.get('gemini')).toBeUndefined();
    expect((await store.reload('admin')).ok).toBe(true);
    expect(store.current().config.gemini.enabled).toBe(true);
    expect(registry.get('gemini')?.id).toBe('gemini');
  });
});
