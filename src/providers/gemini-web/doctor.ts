// `gemini-gateway doctor` for Gemini web: each step the gateway takes, one by one, per account, with
// the user's cookies: preflight, token page (with the build label's age), account status (signed in
// or a guest) and models, a one-line prompt per configured model (with the model Google says it
// served), cookie rotation, and whether Google is blocking this IP.

import { readFile } from 'node:fs/promises';
import type { GatewayConfig } from '../../config/schema.js';
import type { DoctorStep, ProviderCallContext } from '../../core/provider.js';
import type { ChatEvent, ChatRequest } from '../../core/types.js';
import { DEVICE_BOUND, type Account } from './account.js';
import { parseCookieInput } from './cookie-file.js';
import { GeminiSession } from './session.js';

const SILENT = { debug() {}, info() {}, warn() {}, error() {} };

export interface DoctorSubject {
  accountNames(): string[];
  account(name: string): Account | undefined;
  /** Egresses Google is blocking now. */
  ipBlocks(): Array<{ egress: string; until: string }>;
  stream(request: ChatRequest, context: ProviderCallContext): AsyncIterable<ChatEvent>;
}

export async function diagnoseGemini(subject: DoctorSubject, config: GatewayConfig['gemini'], step: DoctorStep, print: (line: string) => void): Promise<boolean> {
  let ok = true;
  const record = (passed: boolean) => {
    ok &&= passed;
    return passed;
  };
  for (const name of subject.accountNames()) {
    const account = subject.account(name)!;
    print(`Gemini account "${name}" (${account.cookiePath}):`);
    const status = account.status(false);
    if (!status.has_psid && account.isGuest) {
      // No cookies, guest mode: what works is a Flash prompt as a signed-out visitor.
      print(`! guest: no cookies yet; ${config.guest_models.join(', ')} answered as a signed-out visitor (add cookies for the rest)`);
      for (const model of config.guest_models) {
        record(await step(`prompt on ${model} (guest)`, async () => `"${(await oneLine(subject, model)).slice(0, 60)}"${account.lastServed ? `, served by ${account.lastServed.name ?? account.lastServed.id}` : ''}`));
      }
      continue;
    }
    if (!record(Boolean(status.has_psid))) {
      print(`✗ cookies: none found (write the file or use \`gemini-gateway cookies import\`)`);
      continue;
    }
    const session = new GeminiSession({
      endpoints: config.endpoints,
      cookies: parseCookieInput(await readFile(account.cookiePath, 'utf8')).cookies,
      proxy: config.accounts.find((a) => a.name === name)?.proxy ?? config.proxy,
      language: config.language,
      connectTimeoutMs: config.timeouts.connect * 1000,
    });
    try {
      if (!record(await step('preflight (www.google.com)', async () => `HTTP ${await session.preflight()}`))) continue;
      if (!record(await step('token page (/app)', async () => { await session.loadPage(); return `access token found, build label ${session.bl ?? 'none'}${buildAge(session.bl)}`; }))) continue;
      if (!record(await step('account status and models (otAQ7b)', async () => { await session.loadStatus(); return `status ${session.accountStatus} (${session.accountStatus === 1000 ? 'signed in' : 'signed out: answered as a guest'}), models: ${session.models.map((m) => `${m.display} (${m.id})`).join(', ') || 'none listed'}`; }))) continue;
    } finally {
      await session.close();
    }
    for (const model of config.models) {
      record(
        await step(`prompt on ${model}`, async () => {
          const answer = (await oneLine(subject, model)).slice(0, 60);
          const served = account.lastServed;
          return `"${answer}"${served ? `, served by ${served.name ?? served.id}` : ''}`;
        }),
      );
    }
    record(await step('cookie rotation', async () => {
      const rotation = await account.rotate();
      if (rotation.result === 'error') throw new Error(rotation.error ?? 'rotation failed');
      if (rotation.result === 'rotated') return 'new __Secure-1PSIDTS saved';
      throw new Error(`answered without a new __Secure-1PSIDTS: ${DEVICE_BOUND}`);
    }));
  }
  const blocks = subject.ipBlocks();
  if (blocks.length > 0) {
    ok = false;
    for (const block of blocks) print(`✗ IP block: Google is blocking ${block.egress} until ${block.until}`);
  } else print('✓ IP block: none');
  return ok;
}

/** " (12 days old)" from a label like boq_gemini-web-uiserver_20261119.03_p0. */
function buildAge(label: string | undefined): string {
  const date = /_(\d{4})(\d{2})(\d{2})\.\d+_p\d+$/.exec(label ?? '');
  if (!date) return '';
  const days = Math.floor((Date.now() - Date.UTC(Number(date[1]), Number(date[2]) - 1, Number(date[3]))) / 86_400_000);
  return ` (${days} days old)`;
}

async function oneLine(subject: Pick<DoctorSubject, 'stream'>, model: string): Promise<string> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 120_000);
  let text = '';
  try {
    const events = subject.stream(
      { model, system: [], messages: [{ role: 'user', content: [{ type: 'text', text: 'Reply with the single word OK.' }] }], tools: [], toolChoice: { type: 'auto' }, stream: true },
      { upstreamModel: model, signal: controller.signal, log: SILENT, requestId: 'doctor' },
    );
    for await (const event of events) if (event.type === 'text-delta') text += event.text;
  } finally {
    clearTimeout(timer);
  }
  if (!text.trim()) throw new Error('empty answer');
  return text.trim();
}
