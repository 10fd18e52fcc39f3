// `node dist/main.js` (npm start, the Docker image): run the gateway.
import { serve } from './process.js';

void serve();
