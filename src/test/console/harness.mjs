// Shared by the Node.js test scripts: arguments, hooks (ask the Java test to act on the server and wait for its
// answer) and the result line. See NodeScript.java for the other side.
import { createInterface } from 'node:readline';

const input = createInterface({ input: process.stdin });
const answers = [];
const waiting = [];
input.on('line', (line) => {
  const w = waiting.shift();
  if (w) {
    w(JSON.parse(line));
  } else {
    answers.push(JSON.parse(line));
  }
});

/** Asks the test to do something (e.g. {hook: 'drop', user: 'alice'}) and resolves with its answer. */
export function hook(request) {
  process.stdout.write(`HOOK ${JSON.stringify(request)}\n`);
  return new Promise((resolve) => {
    const a = answers.shift();
    if (a) {
      resolve(a);
    } else {
      waiting.push(resolve);
    }
  });
}

/** Runs the scenario named on the command line and prints its result as the last line. */
export async function main(scenarios) {
  const [name, json] = process.argv.slice(2);
  const args = JSON.parse(json ?? '{}');
  const scenario = scenarios[name];
  if (!scenario) {
    console.error(`unknown scenario ${name}; known: ${Object.keys(scenarios).join(', ')}`);
    process.exit(2);
  }
  try {
    const result = await scenario(args);
    process.stdout.write(`${JSON.stringify(result)}\n`);
    input.close();
    process.exit(0);
  } catch (e) {
    console.error(e?.stack ?? String(e));
    input.close();
    process.exit(1);
  }
}

/** Resolves when check() is true, polling; rejects after timeoutMs naming what it waited for. */
export async function until(what, check, timeoutMs = 20000) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}
