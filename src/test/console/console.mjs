// The web console in headless Chromium (Debian's, never a downloaded one), driven by playwright-core through its
// data-testid hooks (ConsoleBrowserTest). A failing scenario saves a screenshot of every page it had open.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { hook, main } from './harness.mjs';

const CHROMIUM = process.env.DIMINUENDO_TEST_CHROMIUM || '/usr/bin/chromium';
// the flags a closed network needs: no background fetches, no Google lookups, no QUIC
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];
const TIMEOUT = 20000;

async function withBrowser(name, args, body) {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS, headless: true });
  const pages = [];
  const problems = [];
  const context = await browser.newContext({ viewport: { width: 1200, height: 800 } });
  context.setDefaultTimeout(TIMEOUT);
  const open = async () => {
    const page = await context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') {
        problems.push(`console: ${m.text()}`);
      }
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('dialog', (d) => d.accept());
    pages.push(page);
    return page;
  };
  try {
    const result = await body(open);
    return { ...result, problems };
  } catch (e) {
    if (args.shots) {
      mkdirSync(args.shots, { recursive: true });
      for (const [i, page] of pages.entries()) {
        await page.screenshot({ path: join(args.shots, `${name}-${i + 1}.png`), fullPage: true }).catch(() => {});
      }
      e.message += ` (screenshots in ${args.shots}; problems seen: ${JSON.stringify(problems)})`;
    }
    throw e;
  } finally {
    await browser.close();
  }
}

const id = (page, testid) => page.getByTestId(testid);

async function signIn(open, base, key) {
  const page = await open();
  await page.goto(base);
  await id(page, 'token-input').fill(key);
  await id(page, 'sign-in').click();
  await waitText(page, 'connection-status', 'connected');
  return page;
}

async function waitText(page, testid, text) {
  await page.waitForFunction(([t, want]) => {
    const el = document.querySelector(`[data-testid="${t}"]`);
    return el && el.textContent.includes(want);
  }, [testid, text], { timeout: TIMEOUT });
}

async function newSession(page) {
  const before = await id(page, 'session-item').count();
  await id(page, 'new-session').click();
  await page.waitForFunction((n) => document.querySelectorAll('[data-testid="session-item"]').length > n, before);
  await page.waitForFunction(() => !document.querySelector('[data-testid="prompt-input"]').disabled);
  return page.locator('[data-testid="session-item"][aria-current="true"]').getAttribute('data-session-id');
}

async function prompt(page, text) {
  await id(page, 'prompt-input').fill(text);
  await id(page, 'send').click();
}

/** Waits for the n-th turn of the open session to end and returns the turn-status text. */
async function turnEnds(page, n) {
  await page.waitForFunction((count) => document.querySelectorAll('.turn-end').length >= count, n, { timeout: 60000 });
  return id(page, 'turn-status').textContent();
}

const texts = (page, testid) => id(page, testid).allTextContents();

const scenarios = {
  async stream(args) {
    return withBrowser('stream', args, async (open) => {
      const page = await signIn(open, args.base, args.key);
      const sessionId = await newSession(page);
      await prompt(page, '/sim tokens=50 delay_ms=5');
      const status = await turnEnds(page, 1);
      const simMenuVisible = await page.locator('#sim-menu').isVisible();
      await page.locator('#sim-menu').selectOption('/sim thinking tool tokens=20');
      const fromMenu = await id(page, 'prompt-input').inputValue();
      await id(page, 'send').click();
      const second = await turnEnds(page, 2);
      return {
        sessionId, status, second, simMenuVisible, fromMenu,
        assistantTexts: await texts(page, 'assistant-text'),
        thinking: await texts(page, 'thinking'),
        toolCalls: await texts(page, 'tool-call'),
        toolResults: await texts(page, 'tool-result'),
        usage: await page.locator('#usage').textContent(),
        url: page.url(),
        sessionStorage: await page.evaluate(() => Object.keys(sessionStorage)),
        localStorage: await page.evaluate(() => Object.keys(localStorage)),
        items: await id(page, 'session-item').count(),
        listedOnce: await page.locator(`[data-session-id="${sessionId}"]`).count(),
      };
    });
  },

  async cancel(args) {
    return withBrowser('cancel', args, async (open) => {
      const page = await signIn(open, args.base, args.key);
      await newSession(page);
      await prompt(page, '/sim hang');
      await waitText(page, 'turn-status', 'running');
      const enabledWhileRunning = await id(page, 'cancel').isEnabled();
      await id(page, 'cancel').click();
      const status = await turnEnds(page, 1);
      return { enabledWhileRunning, status, enabledAfter: await id(page, 'cancel').isEnabled() };
    });
  },

  async permission(args) {
    return withBrowser('permission', args, async (open) => {
      const page = await signIn(open, args.base, args.key);
      await newSession(page);
      await prompt(page, '/sim permission');
      await id(page, 'permission-allow').click();
      const allowed = await turnEnds(page, 1);
      await prompt(page, '/sim permission');
      await page.waitForFunction(() => document.querySelectorAll('[data-testid="permission-deny"]').length === 2);
      await id(page, 'permission-deny').nth(1).click();
      const denied = await turnEnds(page, 2);
      return {
        allowed, denied,
        outcomes: await page.locator('.permission .outcome').allTextContents(),
        buttonsDisabled: await page.evaluate(() => [...document.querySelectorAll('[data-testid^="permission-"]')]
          .filter((b) => b.tagName === 'BUTTON').every((b) => b.disabled)),
        toolResults: await texts(page, 'tool-result'),
        assistantTexts: await texts(page, 'assistant-text'),
      };
    });
  },

  async secondTab(args) {
    return withBrowser('secondTab', args, async (open) => {
      const first = await signIn(open, args.base, args.key);
      const second = await signIn(open, args.base, args.key);
      const sessionId = await newSession(first);
      const item = `[data-testid="session-item"][data-session-id="${sessionId}"]`;
      await second.waitForSelector(item);
      const seenTitle = await second.locator(`${item} .name`).textContent();
      await first.locator('#rename').click();
      await first.locator('#rename-input').fill('renamed in the first tab');
      await first.locator('#rename-form button[type="submit"]').click();
      await second.waitForFunction((sel) => document.querySelector(sel)?.textContent.includes('renamed in the first tab'), `${item} .name`);
      await first.locator('#delete').click();
      // both tabs learn of the delete on their own socket, in no set order: wait for each
      await second.waitForSelector(item, { state: 'detached' });
      await first.waitForSelector(item, { state: 'detached' });
      return { sessionId, seenTitle, goneFromFirst: await first.locator(item).count() };
    });
  },

  async resume(args) {
    return withBrowser('resume', args, async (open) => {
      const page = await signIn(open, args.base, args.key);
      await newSession(page);
      await page.evaluate(() => {
        window.seenStatuses = [];
        const el = document.querySelector('[data-testid="connection-status"]');
        new MutationObserver(() => window.seenStatuses.push(el.textContent)).observe(el, { childList: true, characterData: true, subtree: true });
      });
      await prompt(page, `/sim tokens=${args.tokens} delay_ms=${args.delayMs}`);
      await page.waitForFunction(() => (document.querySelector('[data-testid="assistant-text"]')?.textContent.length ?? 0) > 100);
      const before = await id(page, 'assistant-text').first().textContent();
      const dropped = await hook({ hook: 'drop', user: args.user });
      const status = await turnEnds(page, 1);
      return {
        dropped, status, lengthAtDrop: before.length,
        assistantTexts: await texts(page, 'assistant-text'),
        seenStatuses: await page.evaluate(() => window.seenStatuses),
        finalStatus: await id(page, 'connection-status').textContent(),
      };
    });
  },

  async badToken(args) {
    return withBrowser('badToken', args, async (open) => {
      const page = await open();
      await page.goto(args.base);
      await id(page, 'token-input').fill(args.token);
      await id(page, 'sign-in').click();
      await page.waitForFunction(() => document.getElementById('sign-in-error').textContent.length > 0);
      return {
        error: await page.locator('#sign-in-error').textContent(),
        status: await id(page, 'connection-status').textContent(),
        appHidden: await page.locator('#app-view').isHidden(),
        url: page.url(),
        stored: await page.evaluate(() => [...Object.values(sessionStorage), ...Object.values(localStorage)]),
        invalid: await id(page, 'token-input').getAttribute('aria-invalid'),
      };
    });
  },

  // not a test: the picture in README.md and docs/client.md (command in docs/client.md)
  async screenshot(args) {
    return withBrowser('screenshot', args, async (open) => {
      const page = await signIn(open, args.base, args.key);
      await newSession(page);
      await page.locator('#rename').click();
      await page.locator('#rename-input').fill('Refactor the parser');
      await page.locator('#rename-form button[type="submit"]').click();
      await prompt(page, '/sim thinking tool tokens=40 delay_ms=2');
      await turnEnds(page, 1);
      await prompt(page, '/sim permission');
      await page.waitForSelector('[data-testid="permission-allow"]');
      await page.screenshot({ path: args.out });
      return { out: args.out };
    });
  },
};

await main(scenarios);
