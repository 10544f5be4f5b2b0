// Drives the gateway's AG-UI endpoint with the real @ag-ui/client HttpAgent, one scenario per process:
//
//   node scenarios.mjs <scenario> '<json arguments>'
//
// and prints one JSON object on its last line of output: what the client saw (events, messages, the outcome of
// runAgent) and every warning or error the client logged (console.warn / console.error). AguiClientTest runs it
// and asserts on that object; the client's own verification (event order, pairing, schemas) runs as in any app.

import { randomUUID } from "node:crypto";
import { HttpAgent } from "@ag-ui/client";

const [scenario, rawArgs] = process.argv.slice(2);
const args = JSON.parse(rawArgs ?? "{}");

const logged = [];
for (const level of ["warn", "error"]) {
  const original = console[level].bind(console);
  console[level] = (...parts) => {
    logged.push(`${level}: ${parts.map((p) => (p instanceof Error ? p.message : String(p))).join(" ")}`);
    original(...parts);
  };
}

function agentFor(key, threadId, fetchOverride) {
  return new HttpAgent({
    url: args.url,
    threadId: threadId ?? randomUUID(),
    headers: key ? { Authorization: `Bearer ${key}` } : {},
    ...(fetchOverride ? { fetch: fetchOverride } : {}),
  });
}

function say(agent, text) {
  const id = randomUUID();
  agent.addMessage({ id, role: "user", content: text });
  return id;
}

/** Runs the agent once; resolves with the events it received and how the run ended. */
async function run(agent, parameters = {}, onEvent = () => {}) {
  const events = [];
  let failure = null;
  let result = null;
  try {
    result = await agent.runAgent(parameters, {
      onEvent: ({ event }) => {
        events.push(event);
        onEvent(event);
      },
    });
  } catch (e) {
    failure = { message: e.message, status: e.status ?? null, payload: e.payload ?? null };
  }
  return {
    events,
    types: events.map((e) => e.type),
    failure,
    newMessages: result ? result.newMessages : [],
    pendingInterrupts: agent.pendingInterrupts,
  };
}

const scenarios = {
  /** One prompt on a thread (new or given). */
  async prompt() {
    const agent = agentFor(args.key, args.threadId);
    const messageId = say(agent, args.prompt);
    const first = await run(agent);
    return { threadId: agent.threadId, messageId, runs: [first], messages: agent.messages };
  },

  /** Two prompts in a row on one agent: the second run carries the first run's messages. */
  async twoRuns() {
    const agent = agentFor(args.key, args.threadId);
    say(agent, args.prompts[0]);
    const first = await run(agent);
    say(agent, args.prompts[1]);
    const second = await run(agent);
    return { threadId: agent.threadId, runs: [first, second], messages: agent.messages };
  },

  /** abortRun() after the first streamed text, then a new prompt on the same thread. */
  async abort() {
    const agent = agentFor(args.key, args.threadId);
    say(agent, args.prompts[0]);
    let aborted = false;
    const first = await run(agent, {}, (event) => {
      if (event.type === "TEXT_MESSAGE_CONTENT" && !aborted) {
        aborted = true;
        agent.abortRun();
      }
    });
    say(agent, args.prompts[1]);
    const second = await run(agent);
    return { threadId: agent.threadId, aborted, runs: [first, second], messages: agent.messages };
  },

  /** A permission interrupt, then a run that answers it: allow, deny, or cancel (which denies). */
  async permission() {
    const agent = agentFor(args.key, args.threadId);
    say(agent, args.prompt);
    const first = await run(agent);
    const interrupt = agent.pendingInterrupts[0];
    const resume = [
      args.answer === "cancel"
        ? { interruptId: interrupt.id, status: "cancelled" }
        : { interruptId: interrupt.id, status: "resolved", payload: { decision: args.answer } },
    ];
    const second = await run(agent, { resume });
    return { threadId: agent.threadId, interrupt, runs: [first, second], messages: agent.messages };
  },

  /** A run the gateway refuses: runAgent() must reject with the status and the JSON body. */
  async refused() {
    const breakBody = args.badJson
      ? (url, init) => fetch(url, { ...init, body: "{\"threadId\": not json" })
      : undefined;
    const agent = agentFor(args.key, args.threadId, breakBody);
    say(agent, args.prompt ?? "hello");
    const outcome = await run(agent);
    return { threadId: agent.threadId, runs: [outcome] };
  },

  /** A second run on a thread while the first still streams its turn, which is then aborted. */
  async conflict() {
    const first = agentFor(args.key, args.threadId);
    say(first, args.prompts[0]);
    let streaming;
    const streamingNow = new Promise((resolve) => (streaming = resolve));
    const firstRun = run(first, {}, (event) => {
      if (event.type === "TEXT_MESSAGE_CONTENT") streaming();
    });
    await streamingNow;
    const second = agentFor(args.key, first.threadId);
    say(second, args.prompts[1]);
    const secondRun = await run(second);
    first.abortRun();
    return { threadId: first.threadId, runs: [await firstRun, secondRun] };
  },
};

const chosen = scenarios[scenario];
if (!chosen) {
  console.log(JSON.stringify({ error: `unknown scenario '${scenario}'`, known: Object.keys(scenarios) }));
  process.exit(2);
}
const output = await chosen();
console.log(JSON.stringify({ scenario, ...output, logged }));
