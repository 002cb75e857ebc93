// The app code a user writes with the library's env (run by tests/test_client_matrix.py).
// node app.js <ioredis|node-redis> <key> <defaults|protocol>: prints one JSON line.
// "protocol": the one setting, the RESP version from REDIS_PROTOCOL (node-redis: RESP; ioredis:
// none exists, so the same as defaults).
const [client, key, setting] = process.argv.slice(2);
const { REDIS_URL: url, REDIS_PASSWORD: password, REDIS_PROTOCOL: protocol } = process.env;
let lastError = "";
const version = require(`${client === "ioredis" ? "ioredis" : "redis"}/package.json`).version;
const done = (out) => { console.log(JSON.stringify({ version, ...out })); process.exit(0); };
// A client that cannot talk to the server retries forever by default: report, do not hang.
setTimeout(() => done({ result: `timeout: ${lastError}` }), 5000);

async function readBack(get) {
  const deadline = Date.now() + 5000;
  let value = null;
  while ((value = await get()) === null && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20)); // a read from a replica can trail the write
  }
  return value;
}

async function main() {
  if (client === "ioredis") {
    const Redis = require("ioredis");
    const r = new Redis(url, { password });
    r.on("error", (e) => { lastError = e.message; });
    await r.set(key, "v1");
    const get = await readBack(() => r.get(key));
    const incr = await r.incr(`${key}:n`);
    r.disconnect();
    return { get, incr, result: "ok" };
  }
  const { createClient } = require("redis");
  // node-redis parses no protocol from the URL: RESP is the one setting.
  const options = setting === "protocol" ? { url, password, RESP: Number(protocol) } : { url, password };
  const c = createClient(options);
  c.on("error", (e) => { lastError = e.message; });
  await c.connect();
  await c.set(key, "v1");
  const get = await readBack(() => c.get(key));
  const incr = await c.incr(`${key}:n`);
  await c.quit();
  return { get, incr, result: "ok" };
}

main().then(done, (e) => done({ result: `${e.name}: ${e.message}` }));
