import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../src/config/load.js';
import type { GatewayConfig } from '../src/config/schema.js';
import { GatewayError } from '../src/core/gateway-error.js';
import { Router } from '../src/pipeline/router.js';
import { ScriptedProvider, registryWith } from './helpers/scripted-provider.js';

function config(yaml: string): GatewayConfig {
  const result = parseConfigText(yaml, {});
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  return result.config;
}

const YAML = `
gemini:
  models: [gemini-3-pro, gemini-3-flash]
g4f:
  models: [gpt-4o, "deepseek-*", "claude-3-*"]
openai_compatible:
  - name: local
    base_url: http://127.0.0.1:9/v1
    models: [llama-3, "qwen-*"]
routing:
  aliases:
    "claude-sonnet-*": gemini-3-pro
    "claude-haiku-4-5": gemini-3-flash
    "gpt-4o": llama-3
    "my-*": deepseek-chat
  default_model: null
  fallbacks:
    "gemini-3-*": [gpt-4o, deepseek-v3]
`;

const registry = registryWith(new ScriptedProvider('gemini'), new ScriptedProvider('g4f'), new ScriptedProvider('local'));
const router = new Router(registry);
const route = (model: string, cfg = config(YAML)) => {
  const r = router.plan(model, cfg)[0]!;
  return `${r.provider.id}:${r.upstreamModel}:${r.via}`;
};

describe('routing order', () => {
  it('exact names of enabled providers come first, even over an alias with the same name', () => {
    expect(route('gemini-3-pro')).toBe('gemini:gemini-3-pro:exact');
    expect(route('gpt-4o')).toBe('g4f:gpt-4o:exact');
    expect(route('llama-3')).toBe('local:llama-3:exact');
  });

  it('then aliases (exact keys before globs), resolved to the target model', () => {
    expect(route('claude-haiku-4-5')).toBe('gemini:gemini-3-flash:alias');
    expect(route('claude-sonnet-4-5-20250929')).toBe('gemini:gemini-3-pro:alias');
    expect(route('my-model')).toBe('g4f:deepseek-chat:alias');
  });

  it('then provider globs, passing the real name through unchanged', () => {
    expect(route('deepseek-r1')).toBe('g4f:deepseek-r1:glob');
    expect(route('claude-3-opus')).toBe('g4f:claude-3-opus:glob');
    expect(route('qwen-max')).toBe('local:qwen-max:glob');
  });

  it('then the default model', () => {
    const cfg = config(YAML.replace('default_model: null', 'default_model: gemini-3-flash'));
    expect(route('something-else', cfg)).toBe('gemini:gemini-3-flash:default');
  });

  it('answers an unknown name with model_not_found naming the closest models', () => {
    try {
      router.plan('gemini-3-prp', config(YAML));
      throw new Error('expected not found');
    } catch (error) {
      expect(error).toBeInstanceOf(GatewayError);
      expect((error as GatewayError).code).toBe('model_not_found');
      expect((error as GatewayError).message).toContain('Closest: gemini-3-pro');
    }
  });

  it('skips disabled providers', () => {
    const cfg = config(YAML.replace('g4f:\n  models', 'g4f:\n  enabled: false\n  models'));
    expect(() => router.plan('deepseek-r1', cfg)).toThrow(/does not exist/);
  });

  it('plans fallbacks after the primary route, without duplicates', () => {
    const plan = router.plan('gemini-3-pro', config(YAML)).map((r) => `${r.provider.id}:${r.upstreamModel}:${r.via}`);
    expect(plan).toEqual(['gemini:gemini-3-pro:exact', 'g4f:gpt-4o:fallback', 'g4f:deepseek-v3:fallback']);
  });

  it('lists exact models and exact alias keys with the provider that serves them', () => {
    const ids = router.listModels(config(YAML)).map((m) => `${m.id}@${m.provider}`);
    expect(ids).toEqual(['gemini-3-pro@gemini', 'gemini-3-flash@gemini', 'gpt-4o@g4f', 'llama-3@local', 'claude-haiku-4-5@gemini']);
  });
});
