// The floor any Node gateway pays: a plain node:http pass-through proxy, keep-alive both ways, no
// parsing. Usage: node minimal-proxy.js <port> <upstream port>
import { Agent, createServer, request } from 'node:http';

const port = Number(process.argv[2]);
const upstreamPort = Number(process.argv[3]);
const agent = new Agent({ keepAlive: true, maxSockets: 256 });

createServer((req, res) => {
  const upstream = request(
    { host: '127.0.0.1', port: upstreamPort, method: req.method, path: req.url?.replace(/^\/v1/, '/v1'), headers: { 'content-type': 'application/json' }, agent },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    },
  );
  upstream.on('error', () => res.destroy());
  req.pipe(upstream);
  res.on('close', () => upstream.destroy());
}).listen(port, '127.0.0.1', () => process.stdout.write('ready\n'));
