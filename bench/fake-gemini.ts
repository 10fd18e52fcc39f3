// The fake Gemini web app as a process, for the Gemini path of the benchmark: answers a few
// cumulative snapshots. Usage: node fake-gemini.js (prints its URL)
import { FakeGemini } from '../test/fakes/gemini-web.js';

const fake = await new FakeGemini().start();
fake.reply = () => ({ snapshots: [{ text: 'Hello' }, { text: 'Hello from' }, { text: 'Hello from the fake' }], final: { text: 'Hello from the fake Gemini.' } });
process.stdout.write(`ready ${fake.url}\n`);
