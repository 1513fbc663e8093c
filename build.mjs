// Front-end build, run by `make`: bundles the customer SDK and the consoles with their npm
// dependencies (rrweb, socket.io-client), pinned in package.json / package-lock.json.
import { build } from "esbuild";
import { cpSync, mkdirSync } from "node:fs";

const common = { bundle: true, minify: true, sourcemap: true, format: "iife", target: ["chrome110"], logLevel: "warning" };

await build({ ...common, entryPoints: ["assist/web/sdk/index.js"], outfile: "assist/web/dist/sdk/assist.js", globalName: "Assist" });
await build({ ...common, entryPoints: ["agent_console/web/agent.js"], outfile: "agent_console/dist/agent.js" });
await build({ ...common, entryPoints: ["agent_console/web/supervisor.js"], outfile: "agent_console/dist/supervisor.js" });
mkdirSync("agent_console/dist", { recursive: true });
// The replayer's own stylesheet (cursor, iframe wrapper), served beside the console bundle.
cpSync("node_modules/rrweb/dist/style.min.css", "agent_console/dist/rrweb.css");
