// A fast OpenAI-compatible upstream for benchmarks: instant answers, or streams of N chunks with an
// optional pause between them. Usage: node mock-upstream.js <port>
import { createServer } from 'node:http';

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
const tail = 'data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1,"model":"bench","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\ndata: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1,"model":"bench","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":8,"total_tokens":20}}\n\ndata: [DONE]\n\n';

createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString();
    // Pacing comes from the model name: "bench-paced-<chunks>-<ms>".
    const paced = /bench-paced-(\d+)-(\d+)/.exec(body);
    const stream = body.includes('"stream":true');
    if (!stream) {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(completion) });
      return void res.end(completion);
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const count = paced ? Number(paced[1]) : 10;
    const gap = paced ? Number(paced[2]) : 0;
    if (gap === 0) {
      let all = '';
      for (let i = 0; i < count; i++) all += chunk(i);
      return void res.end(all + tail);
    }
    let i = 0;
    const timer = setInterval(() => {
      if (i < count) res.write(chunk(i++));
      else {
        clearInterval(timer);
        res.end(tail);
      }
    }, gap);
    res.on('close', () => clearInterval(timer));
  });
}).listen(port, '127.0.0.1', () => process.stdout.write('ready\n'));
