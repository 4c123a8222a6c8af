// Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
// Shared helpers of the end-to-end tests: the browser, per-test contexts acting as a
// workspace, direct API and simulator calls, screenshots and a retrying assertion.
//
// The sandbox under test is given by SD_BASE_URL (nginx: the card, the API and the
// simulator's control API under /sandbox/ses/).  t/e2e/run.sh starts a fresh one and
// sets it; to run against a sandbox you already started:
//   SD_BASE_URL=http://127.0.0.1:8080 node --test t/e2e/tests/
// Names are suffixed with a per-run id, so a re-run against the same state works.

import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const E2E_DIR = path.resolve(here, '..');
export const REPO = path.resolve(E2E_DIR, '..', '..');
export const OUTPUT_DIR = path.join(E2E_DIR, 'output');
export const DOCS_IMAGES_DIR = path.join(REPO, 'docs', 'images');

export const BASE_URL = (process.env.SD_BASE_URL || 'http://127.0.0.1:8080').replace(/\/$/, '');
export const CARD_URL = `${BASE_URL}/settings/`;
export const API_URL = `${BASE_URL}/api/sender-domains/`;
export const SIM_URL = `${BASE_URL}/sandbox/ses/`;
export const CHROMIUM = process.env.SD_CHROMIUM || '/usr/bin/chromium';

/**
 * A short id that keeps names of this run apart from earlier runs on the same state.
 * run.sh starts from a fresh state and sets SD_RUN_ID to "" for plain names
 * (acme.com …, which also read better in the screenshots).
 */
export const RUN = (process.env.SD_RUN_ID ?? Date.now().toString(36)).toLowerCase();
export const ws = (name) => (RUN ? `e2e-${name}-${RUN}` : `e2e-${name}`);
export const domain = (name) => (RUN ? `${name}-${RUN}.example` : `${name}.com`);

mkdirSync(OUTPUT_DIR, { recursive: true });

/* ---------------------------------------------------------------- browser */

let browser = null;

/** One headless Chromium (Debian's) for the test file; Playwright gives it a fresh profile. */
export async function launch() {
  if (browser) return browser;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
  return browser;
}

export async function closeBrowser() {
  if (browser) await browser.close();
  browser = null;
}

/**
 * A fresh browser context acting as `workspace` (cookies of the sandbox), with the
 * clipboard permitted, and a page on the card.  Page errors fail the test at close.
 */
export async function openCard(t, { workspace, role, plan, trialEnds, goto = true, viewport } = {}) {
  const b = await launch();
  const context = await b.newContext({ viewport: viewport || { width: 1000, height: 900 }, locale: 'en-US' });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: BASE_URL });
  const cookies = [];
  const add = (name, value) => value !== undefined && cookies.push({ name, value: String(value), url: BASE_URL });
  add('sd_workspace', workspace);
  add('sd_role', role);
  add('sd_plan', plan);
  add('sd_trial_ends', trialEnds);
  if (cookies.length) await context.addCookies(cookies);

  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    // 4xx answers the card handles (409, 403 …) are logged by Chromium; they are not bugs
    if (m.type() === 'error' && !/^Failed to load resource/.test(m.text())) errors.push(`console: ${m.text()}`);
  });
  t.after(async () => {
    await context.close();
  });
  page.errors = errors;
  if (goto) await gotoCard(page);
  return { context, page };
}

/** Fails when the page threw or logged a script error. */
export function assertNoPageErrors(page) {
  if (page.errors.length) throw new Error(`errors in the page:\n${page.errors.join('\n')}`);
}

export async function gotoCard(page) {
  await page.goto(CARD_URL);
  await page.waitForSelector('html[data-ready="true"]');
}

/* ------------------------------------------------------------- API calls */

/** Calls the API directly as a workspace (X-Sandbox-* headers), like a test fixture. */
export async function apiAs(workspace, method, pathname = '', body, { role = 'admin', plan, trialEnds } = {}) {
  const headers = { Accept: 'application/json', 'X-Sandbox-Workspace': workspace, 'X-Sandbox-Role': role };
  if (plan) headers['X-Sandbox-Plan'] = plan;
  if (trialEnds) headers['X-Sandbox-Trial-Ends'] = trialEnds;
  const opts = { method, headers };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    opts.body = JSON.stringify(body);
  }
  const res = await fetch(API_URL + pathname, opts);
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = text; }
  return { status: res.status, data };
}

export async function addIdentity(workspace, identity, type = 'domain', extra = {}) {
  const r = await apiAs(workspace, 'POST', '', { identity, type, ...extra });
  if (r.status !== 201) throw new Error(`POST ${identity} as ${workspace}: ${r.status} ${JSON.stringify(r.data)}`);
  return r.data;
}

/** The simulator's control API, through the sandbox's /sandbox/ses/ proxy. */
export async function sim(method, pathname, body) {
  const opts = { method, headers: {} };
  if (body !== undefined) {
    opts.headers['Content-Type'] = 'application/json';
    opts.body = JSON.stringify(body);
  }
  const res = await fetch(SIM_URL + pathname, opts);
  const data = await res.json().catch(() => null);
  if (!res.ok) throw new Error(`sim ${method} ${pathname}: ${res.status} ${JSON.stringify(data)}`);
  return data;
}

/* ------------------------------------------------------------ page bits */

export const row = (page, identity) => page.locator(`li.sd-row[data-identity="${identity}"]`);
export const card = (page) => page.locator('#sender-domains');

/* ------------------------------------------------------------ assertions */

/** Retries `fn` (which throws on failure) until it passes or `timeout` ms pass. */
export async function eventually(fn, { timeout = 10000, interval = 200 } = {}) {
  const end = Date.now() + timeout;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (Date.now() > end) throw e;
      await new Promise((r) => setTimeout(r, interval));
    }
  }
}

/* ------------------------------------------------------------ screenshots */

/** A full-page screenshot of a state into t/e2e/output/. */
export async function shot(page, name) {
  await page.screenshot({ path: path.join(OUTPUT_DIR, `${name}.png`), fullPage: true });
}

/**
 * A screenshot of just the card into t/e2e/output/ and, when SD_DOCS_IMAGES=1
 * (run.sh --docs-images), into docs/images/ too.  The sandbox-only helpers are
 * hidden in the docs picture: a production card does not have them.
 */
export async function cardShot(page, name) {
  const loc = card(page);
  await loc.screenshot({ path: path.join(OUTPUT_DIR, `${name}.png`) });
  if (process.env.SD_DOCS_IMAGES === '1') {
    mkdirSync(DOCS_IMAGES_DIR, { recursive: true });
    const style = await page.addStyleTag({ content: '.sandbox-hint, .btn-sandbox { display: none !important; }' });
    await page.evaluate(() => document.activeElement?.blur());
    await loc.screenshot({ path: path.join(DOCS_IMAGES_DIR, `${name}.png`) });
    await style.evaluate((el) => el.remove());
  }
}
