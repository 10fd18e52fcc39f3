// `node dist/main.js` / `node dist/gateway.js` (npm start, the Docker image): run the gateway.
import module from 'node:module';

// Node >= 22.1 keeps V8's compiled code on disk (os.tmpdir()/node-compile-cache): later starts skip
// most of the parse and compile work. Node 20 has no such API. It covers only modules loaded after
// this call, hence the dynamic import below.
(module as { enableCompileCache?: () => unknown }).enableCompileCache?.();

const { serve } = await import('./process.js');
void serve();
