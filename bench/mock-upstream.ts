// A fast OpenAI-compatible upstream for benchmarks: instant answers, or streams of N chunks with an
// optional pause between them. Behaviour comes from the model name in the request body:
//   bench                    plain text (JSON, or 10 text chunks when the request streams)
//   bench-paced-<n>-<ms>     a stream of n text chunks, ms apart
//   bench-repair             a streamed tool call the gateway must repair (chunks without `index`,
//                            finish_reason "stop" after the call); JSON when the request does not stream
//   bench-repair-json        always JSON (also to a streaming request, as some servers do), the tool
//                            call's `arguments` an object instead of a string
// Usage: node mock-upstream.js <port>
import { createServer, type ServerResponse } from 'node:http';

const port = Number(process.argv[2] ?? 0);
const completion = JSON.stringify({
  id: 'chatcmpl-bench',
  object: 'chat.completion',
  created: 1,
  model: 'bench',
  choices: [{ index: 0, message: { role: 'assistant', content: 'Hello from the benchmark upstream.' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 12, completion_tokens: 8, total_tokens: 20 },
});
const chunk = (i: number) => `data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1,"model":"bench","choices":[{"index":0,"delta":{"content":"tok${i} "},"finish_reason":null}]}\n\n`;
const usageChunk = 'data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1,"model":"bench","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":8,"total_tokens":20}}\n\n';
const tail = `data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1,"model":"bench","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n${usageChunk}data: [DONE]\n\n`;

// The tool call with its arguments as an object (repaired to a string by the gateway).
const repairCompletion = JSON.stringify({
  id: 'chatcmpl-bench',
  object: 'chat.completion',
  created: 1,
  model: 'bench',
  choices: [{ index: 0, message: { role: 'assistant', content: null, tool_calls: [{ id: 'call_bench1', type: 'function', function: { name: 'get_weather', arguments: { city: 'Paris', days: 2 } } }] }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 40, completion_tokens: 12, total_tokens: 52 },
});

/** A streamed tool call as gpt4free sends it: no `index` on the tool-call deltas, finish_reason "stop". */
function repairStream(): string {
  const data = (delta: object, finish: string | null = null) =>
    `data: ${JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: 1, model: 'bench', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
  let out = data({ role: 'assistant', content: null, tool_calls: [{ id: 'call_bench1', type: 'function', function: { name: 'get_weather', arguments: '' } }] });
  for (const piece of ['{"city"', ': "Par', 'is", "da', 'ys": 2', '}']) out += data({ tool_calls: [{ function: { arguments: piece } }] });
  return `${out}${data({}, 'stop')}${usageChunk}data: [DONE]\n\n`;
}
const repairSse = repairStream();

function json(res: ServerResponse, body: string): void {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function paced(res: ServerResponse, count: number, gap: number): void {
  let i = 0;
  const timer = setInterval(() => {
    if (i < count) res.write(chunk(i++));
    else {
      clearInterval(timer);
      res.end(tail);
    }
  }, gap);
  res.on('close', () => clearInterval(timer));
}

function answer(body: string, res: ServerResponse): void {
  const model = /"model"\s*:\s*"([^"]*)"/.exec(body)?.[1] ?? 'bench';
  const stream = body.includes('"stream":true');
  if (model === 'bench-repair-json') return json(res, repairCompletion);
  if (!stream) return json(res, model === 'bench-repair' ? repairCompletion : completion);
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  if (model === 'bench-repair') return void res.end(repairSse);
  const pacing = /^bench-paced-(\d+)-(\d+)$/.exec(model);
  if (pacing && Number(pacing[2]) > 0) return paced(res, Number(pacing[1]), Number(pacing[2]));
  let all = '';
  for (let i = 0, n = pacing ? Number(pacing[1]) : 10; i < n; i++) all += chunk(i);
  res.end(all + tail);
}

createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => answer(Buffer.concat(chunks).toString(), res));
}).listen(port, '127.0.0.1', () => process.stdout.write('ready\n'));
