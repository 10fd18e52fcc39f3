// Idle RSS floor of the libraries the gateway is built on. Usage: node bench/idle-floor.mjs <http | fastify[,undici,pino,zod,prom,yaml]>
// Each combination listens with one route; RSS is read 2.5 s after start.
import { createRequire } from 'node:module';
const require = createRequire(new URL('../package.json', import.meta.url));
const which = process.argv[2];
if (which === 'http') {
  (await import('node:http')).createServer((q, s) => s.end('x')).listen(0);
} else {
  const fastify = require('fastify');
  const libs = which.split(',');
  if (libs.includes('undici')) require('undici');
  if (libs.includes('pino')) require('pino')({ level: 'warn' });
  if (libs.includes('zod')) require('zod');
  if (libs.includes('prom')) require('prom-client').collectDefaultMetrics();
  if (libs.includes('yaml')) require('yaml');
  const app = fastify();
  app.get('/', async () => 'x');
  await app.listen({ port: 0 });
}
setTimeout(() => { console.log(which.padEnd(40), (process.memoryUsage().rss / 1048576).toFixed(1), 'MiB'); process.exit(0); }, 2500);
