import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';

/** A minimal HTTP CONNECT proxy on loopback that records the host:port of each tunnel. */
export async function connectProxy(): Promise<{ url: string; seen: string[]; close(): void }> {
  const seen: string[] = [];
  const proxy: Server = createServer();
  proxy.on('connect', (req, client: Socket, head) => {
    seen.push(req.url ?? '');
    const [host, port] = (req.url ?? '').split(':');
    const upstream = connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
    seen,
    close() {
      proxy.closeAllConnections();
      proxy.close();
    },
  };
}
