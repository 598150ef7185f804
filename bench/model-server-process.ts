// A scripted model server in its own process, so the benchmark measures our side, not the server's CPU.
import { ScriptedModelServer } from '../test/helpers/scripted-model-server.js';

const latencyMs = Number(process.argv[2] ?? 100);
const server = await new ScriptedModelServer({ latencyMs }).start();
process.stdout.write(server.url + '\n');
process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));
