// Front-end build, run by `make`: bundles the customer SDK and the consoles with their npm
// dependencies (rrweb, socket.io-client), pinned in package.json / package-lock.json.
import { build } from "esbuild";
import { cpSync, mkdirSync } from "node:fs";

const common = { bundle: true, minify: true, sourcemap: true, format: "iife", target: ["chrome110"], logLevel: "warning" };

// The customer SDK (sdk/), served at /sdk/assist.js from sdk/dist/.
await build({ ...common, entryPoints: ["sdk/index.js"], outfile: "sdk/dist/assist.js", globalName: "Assist" });
// The consoles (agent_console/web/), served at /console-dist/ from agent_console/dist/.
await build({ ...common, entryPoints: ["agent_console/web/agent.js"], outfile: "agent_console/dist/agent.js" });
await build({ ...common, entryPoints: ["agent_console/web/supervisor.js"], outfile: "agent_console/dist/supervisor.js" });
mkdirSync("agent_console/dist", { recursive: true });
// The replayer's own stylesheet (cursor, iframe wrapper), served beside the console bundle.
cpSync("node_modules/rrweb/dist/style.min.css", "agent_console/dist/rrweb.css");
