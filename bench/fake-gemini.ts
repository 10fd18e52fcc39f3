// The fake Gemini web app as a process, for the Gemini path of the benchmark. The answer comes from
// markers in the prompt (the gateway always uses the same Gemini model):
//   (none)                   three cumulative snapshots and a final one, at once
//   bench-paced-<n>-<ms>     n cumulative snapshots ms apart (frame decoding + reconciliation per chunk)
//   bench-toolcall           with bench-paced: the answer's second half is an emulated tool call
//                            block, so the tool-call parser works on every chunk too
// Usage: node fake-gemini.js (prints its URL)
import { FakeGemini, type Reply, type Snapshot } from '../test/fakes/gemini-web.js';

const TOOL_BLOCK = '```toolcall\n{"name": "get_weather", "arguments": {"city": "Paris", "days": 2}}\n```';

/** n cumulative snapshots; with a tool call, text for the first half and the block, cut in pieces, after it. */
function pacedSnapshots(n: number, toolCall: boolean): Snapshot[] {
  const textFrames = toolCall ? Math.ceil(n / 2) : n;
  const snapshots: Snapshot[] = [];
  let text = '';
  for (let i = 0; i < textFrames; i++) snapshots.push({ text: (text += `tok${i} `) });
  const blockFrames = n - textFrames;
  const prefix = `${text}\n\n`;
  for (let i = 1; i <= blockFrames; i++) snapshots.push({ text: prefix + TOOL_BLOCK.slice(0, Math.ceil((TOOL_BLOCK.length * i) / blockFrames)) });
  return snapshots;
}

function reply(prompt: string): Reply {
  const pacing = /bench-paced-(\d+)-(\d+)/.exec(prompt);
  if (!pacing) return { snapshots: [{ text: 'Hello' }, { text: 'Hello from' }, { text: 'Hello from the fake' }], final: { text: 'Hello from the fake Gemini.' } };
  const snapshots = pacedSnapshots(Number(pacing[1]), prompt.includes('bench-toolcall'));
  return { snapshots, final: snapshots.at(-1)!, delayMs: Number(pacing[2]) };
}

const fake = await new FakeGemini().start();
fake.reply = (request) => reply(request.prompt);
process.stdout.write(`ready ${fake.url}\n`);
