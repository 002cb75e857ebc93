// The app code a user writes with the library's env (run by tests/test_client_matrix.py).
// node app.js <ioredis|node-redis|node-redis-resp2> <key>: prints one JSON line.
const [client, key] = process.argv.slice(2);
const { REDIS_URL: url, REDIS_PASSWORD: password } = process.env;
let lastError = "";
const done = (out) => { console.log(JSON.stringify(out)); process.exit(0); };
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
    const version = require("ioredis/package.json").version;
    const r = new Redis(url, { password });
    r.on("error", (e) => { lastError = e.message; });
    await r.set(key, "v1");
    const get = await readBack(() => r.get(key));
    const incr = await r.incr(`${key}:n`);
    r.disconnect();
    return { version, get, incr, result: "ok" };
  }
  const { createClient } = require("redis");
  const version = require("redis/package.json").version;
  // node-redis >= 5 parses no protocol option from the URL: RESP: 2 is the one setting it needs.
  const options = client === "node-redis-resp2" ? { url, password, RESP: 2 } : { url, password };
  const c = createClient(options);
  c.on("error", (e) => { lastError = e.message; });
  await c.connect();
  await c.set(key, "v1");
  const get = await readBack(() => c.get(key));
  const incr = await c.incr(`${key}:n`);
  await c.quit();
  return { version, get, incr, result: "ok" };
}

main().then(done, (e) => done({ result: `${e.name}: ${e.message}` }));
