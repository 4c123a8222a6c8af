// Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
// End-to-end tests of the Custom Sender Domains card (conf-examples/html/) against a
// running sandbox: nginx + the module + the SES simulator.  Run them with
//   bash t/e2e/run.sh
// Every test acts as its own workspace (sd_* cookies on its browser context) and
// uses its own domain names, so the tests never see each other's rows.

import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import {
  addIdentity, apiAs, assertNoPageErrors, card, cardShot, closeBrowser, domain, eventually,
  gotoCard, openCard, row, shot, sim, ws,
} from '../lib/harness.mjs';

after(closeBrowser);

const status = (r, key) => r.locator(`[data-tag="${key}"]`).getAttribute('data-status');
const text = async (loc) => ((await loc.textContent()) || '').replace(/\s+/g, ' ').trim();
const activeLabel = (page) => page.evaluate(() => {
  const el = document.activeElement;
  return el ? (el.getAttribute('aria-label') || el.id || el.textContent.trim()) : '';
});

test('add a domain: DNS records, copy a value, tags turn green without reloading', { timeout: 120000 }, async (t) => {
  const W = ws('add');
  const D = domain('acme');
  const { page } = await openCard(t, { workspace: W });

  // empty card, sandbox bar present
  await page.getByRole('heading', { name: 'No custom senders yet' }).waitFor();
  assert.ok(await page.locator('#sandbox-bar').isVisible(), 'the sandbox bar shows in the sandbox');
  assert.match(await text(page.locator('#sd-default-from')), /platform\.example/);
  await cardShot(page, 'card-empty');

  // the dialog works from the keyboard and gives focus back
  const addButton = page.getByRole('button', { name: 'Add domain' });
  await addButton.focus();
  await page.keyboard.press('Enter');
  const dialog = page.getByRole('dialog', { name: 'Add a sender' });
  await dialog.waitFor();
  assert.equal(await page.evaluate(() => document.activeElement.id), 'sd-identity');
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'hidden' });
  assert.equal(await page.evaluate(() => document.activeElement.id), 'sd-add');

  // add the domain
  await addButton.click();
  await dialog.waitFor();
  assert.ok(await dialog.getByLabel('Whole domain').isChecked());
  const mailFrom = dialog.getByLabel('Custom MAIL FROM subdomain');
  assert.equal(await mailFrom.inputValue(), 'pmail');
  await dialog.getByLabel('Domain', { exact: true }).fill(D);
  assert.match(await text(dialog.locator('#sd-mailfrom-suffix')), new RegExp(`\\.${D.replace(/\./g, '\\.')}$`));
  await shot(page, '01-add-dialog');
  await dialog.getByRole('button', { name: 'Add domain' }).click();
  await dialog.waitFor({ state: 'hidden' });

  const r = row(page, D);
  await r.waitFor();
  await eventually(async () => assert.equal(await page.evaluate(() => document.activeElement.textContent), D, 'focus moves to the new row'));
  assert.equal(await status(r, 'dkim'), 'pending');
  assert.match(await text(r.locator('[data-tag="dkim"]')), /DKIM\s*Pending/);
  assert.match(await text(r.locator('[data-tag="mail_from"]')), /MAIL FROM\s*(Pending|Not configured)/);

  // the DNS records are open after adding, grouped, with explanations
  const toggle = r.getByRole('button', { name: /^DNS records/ });
  assert.equal(await toggle.getAttribute('aria-expanded'), 'true');
  const panel = page.getByRole('region', { name: `DNS records for ${D}` });
  await panel.waitFor();
  const headings = await panel.locator('h4').allTextContents();
  assert.deepEqual(headings.map((s) => s.replace(/\s+/g, ' ').trim()), [
    'DKIM authentication (Required)', 'Custom MAIL FROM (Recommended)', 'DMARC policy (Optional)']);
  const dkim = panel.locator('[data-group="dkim"] li.record');
  assert.equal(await dkim.count(), 3, 'three DKIM records');
  for (const rec of await dkim.all()) {
    assert.equal(await rec.getAttribute('data-type'), 'CNAME');
    assert.match(await text(rec.locator('.record-name')), new RegExp(`\\._domainkey\\.${D.replace(/\./g, '\\.')}$`));
    assert.match(await text(rec.locator('.record-value')), /\.dkim\.amazonses\.com$/);
    assert.match(await text(rec.locator('.record-expl')), /DKIM/);
  }
  assert.match(await text(panel.locator('[data-group="mail_from"]')), new RegExp(`pmail\\.${D.replace(/\./g, '\\.')}`));
  assert.match(await text(panel.locator('[data-group="dmarc"] .record-value')), /^v=DMARC1; p=none;/);
  await page.evaluate(() => { window.__sdNoReload = 'still the same page'; });
  await cardShot(page, 'card-pending');
  await shot(page, '02-domain-pending');

  // copy a value: the clipboard holds it, the button says so
  const firstValue = await text(panel.locator('[data-group="dkim"] .record-value').first());
  const copyBtn = panel.getByRole('button', { name: 'Copy value of CNAME record 1' });
  await copyBtn.click();
  await eventually(async () => assert.equal(await text(copyBtn), 'Copied'));
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), firstValue);
  await eventually(async () => assert.match(await text(page.locator('#sd-flash')), /Copied/));

  // publish the records in the simulator: the page notices by itself
  const before = Date.now();
  await sim('POST', 'dns/publish', { identity: D });
  await eventually(async () => {
    assert.equal(await status(r, 'dkim'), 'verified');
    assert.equal(await status(r, 'mail_from'), 'verified');
  }, { timeout: 90000, interval: 500 });
  t.diagnostic(`verified on the page ${((Date.now() - before) / 1000).toFixed(1)} s after publishing`);
  assert.equal(await page.evaluate(() => window.__sdNoReload), 'still the same page', 'no reload happened');
  assert.match(await text(r.locator('[data-tag="dkim"]')), /DKIM\s*Verified/);
  assert.match(await text(r.locator('[data-tag="mail_from"]')), /MAIL FROM\s*Verified/);
  // green, and not by colour alone: an icon and the word
  const bg = await r.locator('[data-tag="dkim"]').evaluate((el) => getComputedStyle(el).backgroundColor);
  const [red, green, blue] = bg.match(/\d+/g).map(Number);
  assert.ok(green > red && green > blue, `verified tag is green (${bg})`);
  assert.equal(await r.locator('[data-tag="dkim"] svg').count(), 1);
  assert.match(await text(r.locator('.sd-summary')), /Verified: reports can be sent from any address/);
  assert.ok(await r.getByRole('button', { name: `Refresh status of ${D}` }).isVisible());

  // nothing pending any more: polling stops
  await eventually(async () => assert.equal(await card(page).getAttribute('data-polling'), 'false'));
  let gets = 0;
  page.on('request', (req) => { if (req.method() === 'GET' && req.url().includes('/api/sender-domains/')) gets += 1; });
  await page.waitForTimeout(6500);
  assert.equal(gets, 0, 'no polling once everything is verified');

  const name = r.getByLabel(`Sender name for ${D}`);
  await name.fill('Acme Reports');
  await name.press('Enter');
  await eventually(async () => assert.equal(await text(r.locator('.save-status')), 'Saved'));
  await toggle.click();
  assert.equal(await toggle.getAttribute('aria-expanded'), 'false');
  await cardShot(page, 'card-verified');
  await shot(page, '03-domain-verified');
  assertNoPageErrors(page);
});

test('single address: resend the verification email, Last sent changes, then verified', { timeout: 60000 }, async (t) => {
  const W = ws('email');
  const A = `reports@${domain('mailbox')}`;
  const { page } = await openCard(t, { workspace: W });

  await page.getByRole('button', { name: 'Add domain' }).click();
  const dialog = page.getByRole('dialog', { name: 'Add a sender' });
  await dialog.getByLabel('Single email address').check();
  assert.equal(await dialog.getByLabel('Custom MAIL FROM subdomain').isVisible(), false, 'no MAIL FROM for an address');
  await dialog.getByRole('textbox', { name: 'Email address' }).fill(A);
  await dialog.getByRole('button', { name: 'Add address' }).click();
  await dialog.waitFor({ state: 'hidden' });

  const r = row(page, A);
  await r.waitFor();
  assert.equal(await status(r, 'verification'), 'pending');
  assert.equal(await r.getByRole('button', { name: /^DNS records/ }).isVisible(), false, 'an address has no DNS records');
  await eventually(async () => assert.match(await text(r.locator('.sd-summary')),
    /Until then reports go out from Reports <reports@platform\.example>/));
  const lastSent = r.locator('.last-sent');
  assert.match(await text(lastSent), /^Last sent just now$/);
  const sent1 = await lastSent.locator('time').getAttribute('datetime');
  assert.match(await text(r.locator('.expires')), /link expires (tomorrow|in 2[34] hours)/);

  await page.waitForTimeout(1500);   // timestamps have one-second resolution
  await r.getByRole('button', { name: `Resend verification email to ${A}` }).click();
  await eventually(async () => {
    const sent2 = await lastSent.locator('time').getAttribute('datetime');
    assert.notEqual(sent2, sent1, 'Last sent moved');
    assert.ok(Date.parse(sent2) > Date.parse(sent1));
  });
  assert.match(await text(lastSent), /^Last sent just now$/);
  assert.match(await text(r.locator('.row-msg')), /Verification email sent/);
  await shot(page, '04-address-pending');

  // "click" the link in the simulator (the card's sandbox helper): the row turns verified
  await r.getByRole('button', { name: 'Click link in SES simulator' }).click();
  await eventually(async () => assert.equal(await status(r, 'verification'), 'verified'), { timeout: 20000 });
  assert.equal(await r.getByRole('button', { name: /Resend verification/ }).count(), 0, 'no resend once verified');
  assert.equal(await r.locator('.sd-verify').isVisible(), false);
  await shot(page, '05-address-verified');
  assertNoPageErrors(page);
});

test('sender name saves by itself and persists after reload', { timeout: 60000 }, async (t) => {
  const W = ws('name');
  const D = domain('named');
  await addIdentity(W, D);
  const { page } = await openCard(t, { workspace: W });
  const r = row(page, D);
  const input = r.getByLabel(`Sender name for ${D}`);
  const saveStatus = r.locator('.save-status');

  // typing saves after a short pause
  await input.fill('Acme Reports');
  await eventually(async () => assert.equal(await text(saveStatus), 'Saved'));
  assert.equal((await apiAs(W, 'GET', encodeURIComponent(D))).data.sender_name, 'Acme Reports');

  // Enter saves at once
  await input.fill('Acme Weekly Reports');
  await input.press('Enter');
  await eventually(async () => assert.equal(await text(saveStatus), 'Saved'));
  assert.equal((await apiAs(W, 'GET', encodeURIComponent(D))).data.sender_name, 'Acme Weekly Reports');

  // a refused name says why, right there
  await input.fill('Acme\tReports');
  await input.press('Enter');
  await eventually(async () => assert.match(await text(saveStatus), /^⚠?\s*Couldn't save: .*control characters/));
  assert.equal(await input.getAttribute('aria-invalid'), 'true');
  await shot(page, '06-sender-name-error');
  await input.press('Escape');           // back to the saved name
  assert.equal(await input.inputValue(), 'Acme Weekly Reports');

  // blur saves too
  await input.fill('Acme Monthly');
  await page.locator('#sd-title').click();
  await eventually(async () => assert.equal(await text(saveStatus), 'Saved'));

  await gotoCard(page);
  assert.equal(await row(page, D).getByLabel(`Sender name for ${D}`).inputValue(), 'Acme Monthly');
  assertNoPageErrors(page);
});

test('remove a domain after confirming', { timeout: 60000 }, async (t) => {
  const W = ws('remove');
  const D = domain('gone');
  await addIdentity(W, D);
  const { page } = await openCard(t, { workspace: W });
  const r = row(page, D);
  const trash = r.getByRole('button', { name: `Remove ${D}` });

  // cancel keeps it, and focus returns to the trash button
  await trash.click();
  const dialog = page.getByRole('dialog', { name: `Remove ${D}?` });
  await dialog.waitFor();
  assert.match(await text(dialog), /sent from Reports <reports@platform\.example> instead/);
  await shot(page, '07-remove-confirm');
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await dialog.waitFor({ state: 'hidden' });
  await eventually(async () => assert.equal(await activeLabel(page), `Remove ${D}`));
  assert.equal(await r.count(), 1);

  // confirm removes it
  await trash.click();
  await dialog.getByRole('button', { name: `Remove ${D}` }).click();
  await dialog.waitFor({ state: 'hidden' });
  await r.waitFor({ state: 'detached' });
  await page.getByRole('heading', { name: 'No custom senders yet' }).waitFor();
  assert.match(await text(page.locator('#sd-flash')), new RegExp(`${D.replace(/\./g, '\\.')} removed`));
  await eventually(async () => assert.equal(await activeLabel(page), 'sd-add', 'focus goes to Add domain'));
  assert.deepEqual((await apiAs(W, 'GET', '')).data.identities, []);
  assertNoPageErrors(page);
});

test('migrate a legacy sender', { timeout: 60000 }, async (t) => {
  const W = ws('legacy');
  const L = `news@${domain('oldsmtp')}`;
  const put = await apiAs(W, 'PUT', 'legacy', [{ address: L, sender_name: 'Old Newsletter' }], { role: 'service' });
  assert.equal(put.status, 200, JSON.stringify(put.data));

  const { page } = await openCard(t, { workspace: W });
  const r = row(page, L);
  await r.waitFor();
  assert.equal(await r.getAttribute('data-kind'), 'legacy');
  assert.equal(await text(r.locator('.badge-legacy')), 'Legacy');
  assert.equal(await r.locator('input').count(), 0, 'legacy rows are read-only');
  assert.equal(await r.getByRole('button', { name: `Remove ${L}` }).count(), 0);
  assert.match(await text(r.locator('.sender-text')), /Old Newsletter/);
  await shot(page, '08-legacy');

  await r.getByRole('button', { name: `Migrate ${L}` }).click();
  await eventually(async () => assert.equal(await row(page, L).getAttribute('data-kind'), 'managed'));
  const m = row(page, L);
  assert.equal(await m.locator('.badge-legacy').count(), 0);
  assert.equal(await m.getByLabel(`Sender name for ${L}`).inputValue(), 'Old Newsletter');
  assert.ok(await m.getByRole('button', { name: `Remove ${L}` }).isVisible());
  assert.match(await text(page.locator('#sd-flash')), /migrated/);
  // it keeps sending as before meanwhile, and the row says so (from GET resolve)
  await eventually(async () => assert.match(await text(m.locator('.sd-summary')),
    new RegExp(`keep going out as before, from Old Newsletter <${L.replace(/\./g, '\\.')}>`)));
  const got = await apiAs(W, 'GET', encodeURIComponent(L));
  assert.equal(got.data.kind, 'managed');
  await shot(page, '09-legacy-migrated');
  assertNoPageErrors(page);
});

test('a long list loads in pages of 100, every row once', { timeout: 60000 }, async (t) => {
  const W = ws('pages');
  const D = domain('paged');
  await addIdentity(W, D);
  const legacy = Array.from({ length: 230 }, (_, i) => ({ address: `s${String(i).padStart(3, '0')}@${domain('bulk')}` }));
  assert.equal((await apiAs(W, 'PUT', 'legacy', legacy, { role: 'service' })).status, 200);

  const { page } = await openCard(t, { workspace: W, goto: false });
  const gets = [];
  page.on('request', (req) => {
    const u = new URL(req.url());
    if (req.method() === 'GET' && u.pathname === '/api/sender-domains/') gets.push(u.search);
  });
  await gotoCard(page);
  await row(page, D).waitFor();
  await row(page, legacy[229].address).waitFor();
  assert.equal(await page.locator('li.sd-row').count(), 231, 'every row, none twice');
  // no single answer holds the whole list
  assert.ok(gets.length >= 3, `three pages at least (${gets.join(' ')})`);
  for (const q of gets) assert.match(q, /^\?limit=100(&after=[A-Za-z0-9_-]+)?$/);
  assertNoPageErrors(page);
});

test('a member sees the list read-only, and may refresh', { timeout: 60000 }, async (t) => {
  const W = ws('member');
  const D = domain('team');
  const A = `ops@${domain('teammail')}`;
  await addIdentity(W, D);
  await addIdentity(W, A, 'email');
  await apiAs(W, 'PATCH', encodeURIComponent(D), { sender_name: 'Team Reports' });
  await apiAs(W, 'PUT', 'legacy', [{ address: `old@${domain('teamold')}`, sender_name: 'Old' }], { role: 'service' });

  const { page } = await openCard(t, { workspace: W, role: 'member' });
  await row(page, D).waitFor();
  assert.equal(await card(page).getAttribute('data-can-edit'), 'false');
  assert.equal(await page.locator('#sd-add').isVisible(), false, 'no Add domain');
  assert.equal(await page.getByRole('button', { name: /^Remove / }).count(), 0, 'no trash');
  assert.equal(await page.getByRole('button', { name: /Resend verification/ }).count(), 0, 'no resend');
  assert.equal(await page.getByRole('button', { name: /^Migrate / }).count(), 0, 'no migrate');
  assert.equal(await page.locator('.sd-row input').count(), 0, 'no name editing');
  assert.match(await text(row(page, D).locator('.sender-text')), /Team Reports/);
  assert.match(await text(page.locator('.readonly-note')), /only a workspace admin/);
  // the DNS records are still there to read and copy
  assert.ok(await row(page, D).getByRole('button', { name: /^DNS records/ }).isVisible());

  await page.getByRole('button', { name: `Refresh status of ${D}` }).click();
  await eventually(async () => assert.match(await text(page.locator('#sd-flash')), new RegExp(`Status of ${D.replace(/\./g, '\\.')} refreshed`)));
  assert.equal(await text(row(page, D).locator('.row-msg')), '', 'no error on refresh');
  await shot(page, '10-member');
  assertNoPageErrors(page);
});

test('a plan without access sees the locked card; the sandbox bar switches the caller', { timeout: 60000 }, async (t) => {
  const W = ws('locked');
  const { page } = await openCard(t, { workspace: W, plan: 'starter' });
  await page.getByRole('heading', { name: 'Send reports from your own domain' }).waitFor();
  assert.equal(await card(page).getAttribute('data-state'), 'locked');
  assert.match(await text(page.locator('.locked-message')), /Professional plan/);
  assert.ok(await page.getByRole('link', { name: 'Upgrade to Professional' }).isVisible());
  assert.equal(await page.locator('#sd-add').isVisible(), false);
  await cardShot(page, 'card-locked');
  await shot(page, '11-locked');

  // a running trial unlocks it: set through the sandbox bar (cookies)
  const bar = page.getByRole('complementary', { name: /Sandbox/ });
  assert.equal(await bar.getByLabel('Workspace').inputValue(), W);
  assert.equal(await bar.getByLabel('Plan').inputValue(), 'starter');
  await bar.getByLabel('Trial').selectOption('active');
  await bar.getByRole('button', { name: 'Apply' }).click();
  await page.getByRole('heading', { name: 'No custom senders yet' }).waitFor();
  assert.equal(await card(page).getAttribute('data-state'), 'ready');
  const cookies = Object.fromEntries((await page.context().cookies()).map((c) => [c.name, c.value]));
  assert.ok(Date.parse(cookies.sd_trial_ends) > Date.now(), `trial end cookie set: ${cookies.sd_trial_ends}`);

  // an ended trial locks it again
  await bar.getByLabel('Trial').selectOption('ended');
  await bar.getByRole('button', { name: 'Apply' }).click();
  await page.getByRole('heading', { name: 'Send reports from your own domain' }).waitFor();
  assertNoPageErrors(page);
});

test('a domain of another workspace: "Already registered in another workspace" in the dialog', { timeout: 60000 }, async (t) => {
  const owner = ws('owner');
  const D = domain('taken');
  await addIdentity(owner, D);
  const { page } = await openCard(t, { workspace: ws('other') });

  await page.getByRole('button', { name: 'Add domain' }).click();
  const dialog = page.getByRole('dialog', { name: 'Add a sender' });
  const input = dialog.getByLabel('Domain', { exact: true });
  await input.fill(D);
  await dialog.getByRole('button', { name: 'Add domain' }).click();
  const err = dialog.locator('#sd-identity-error');
  await eventually(async () => assert.match(await text(err), /Already registered in another workspace/));
  assert.ok(await dialog.isVisible(), 'the dialog stays open');
  assert.equal(await input.getAttribute('aria-invalid'), 'true');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'sd-identity');
  await shot(page, '12-already-registered');

  // a subdomain of it is taken too (ownership covers the whole tree)
  await input.fill(`news.${D}`);
  await dialog.getByRole('button', { name: 'Add domain' }).click();
  await eventually(async () => assert.match(await text(err), /Already registered in another workspace/));

  // a bad MAIL FROM subdomain is reported under that field
  await input.fill(domain('free'));
  await dialog.getByLabel('Custom MAIL FROM subdomain').fill('not valid');
  await dialog.getByRole('button', { name: 'Add domain' }).click();
  await eventually(async () => assert.notEqual(await text(dialog.locator('#sd-mailfrom-error')), ''));
  assert.equal(await text(err), '');

  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await dialog.waitFor({ state: 'hidden' });
  assert.equal(await page.evaluate(() => document.activeElement.id), 'sd-add');
  assert.deepEqual((await apiAs(ws('other'), 'GET', '')).data.identities, []);
  assertNoPageErrors(page);
});

test('a failed domain says SES stopped after 72 hours and how to restart', { timeout: 60000 }, async (t) => {
  const W = ws('failed');
  const D = domain('expired');
  await addIdentity(W, D);
  await sim('POST', 'status', { identity: D, dkim: 'FAILED' });
  const { page } = await openCard(t, { workspace: W });
  const r = row(page, D);
  await r.getByRole('button', { name: `Refresh status of ${D}` }).click();
  await eventually(async () => assert.equal(await status(r, 'dkim'), 'failed'), { timeout: 20000 });
  assert.match(await text(r.locator('[data-tag="dkim"]')), /DKIM\s*Failed/);
  const notice = await text(r.locator('.notice'));
  assert.match(notice, /stopped checking after 72 hours/);
  assert.match(notice, /remove this domain .* add it again/);
  await shot(page, '13-failed');

  // the shortcut: remove and add again, after confirming; the row starts over
  const oldRecords = await apiAs(W, 'GET', encodeURIComponent(D));
  await r.getByRole('button', { name: `Start again with ${D}` }).click();
  const dialog = page.getByRole('dialog', { name: `Start again with ${D}?` });
  await dialog.waitFor();
  await dialog.getByRole('button', { name: `Remove and add again ${D}` }).click();
  await dialog.waitFor({ state: 'hidden' });
  await eventually(async () => assert.equal(await status(row(page, D), 'dkim'), 'pending'), { timeout: 20000 });
  assert.equal(await row(page, D).locator('.notice').isVisible(), false);
  const fresh = await apiAs(W, 'GET', encodeURIComponent(D));
  assert.equal(fresh.data.dkim_status, 'pending');
  assert.notDeepEqual(fresh.data.dns_records.filter((x) => x.group === 'dkim'),
    oldRecords.data.dns_records.filter((x) => x.group === 'dkim'), 'new DKIM records');
  assert.equal(fresh.data.mail_from_domain, oldRecords.data.mail_from_domain, 'same MAIL FROM subdomain');
  assertNoPageErrors(page);
});

test('a domain already verified in SES outside the workspace: the card explains it and shows the TXT record to publish', { timeout: 60000 }, async (t) => {
  const W = ws('unproven');
  const D = domain('outside');
  await sim('POST', 'seed', { identity: D, verified: true });
  const added = await addIdentity(W, D);
  assert.equal(added.ownership, 'unproven');
  const rec = added.dns_records[0];
  assert.equal(rec.group, 'ownership');
  const { page } = await openCard(t, { workspace: W });
  const r = row(page, D);
  await r.waitFor();
  // never shown as ready to send, whatever SES says
  assert.equal(await r.locator('[data-tag="sending"]').count(), 0);
  assert.match(await text(r.locator('.sd-summary')), /Ownership not proven yet: publish the TXT record _sender-domains\./);
  const notice = await text(r.locator('.notice'));
  assert.match(notice, /Ownership not proven yet\. Amazon SES already has .* verified on this platform, but nothing shows yet that it is yours/);
  assert.equal(await text(r.locator('[data-own="name"]')), rec.name);
  assert.equal(await text(r.locator('[data-own="value"]')), rec.value);
  assert.match(rec.value, /^sd-verify=[a-z2-7]{32}$/);
  // the DNS panel lists it first, in its own group
  await r.getByRole('button', { name: /^DNS records/ }).click();
  const group = r.locator('[data-group="ownership"]');
  await group.waitFor();
  assert.match(await text(group), /Ownership proof/);
  assert.match(await text(group), new RegExp(rec.value));
  await shot(page, '15-ownership-unproven');
  assertNoPageErrors(page);
});

test('polls while something is pending and pauses while the tab is hidden', { timeout: 60000 }, async (t) => {
  const W = ws('poll');
  const D = domain('slow');
  await addIdentity(W, D);
  const { page } = await openCard(t, { workspace: W });
  await row(page, D).waitFor();
  let gets = 0;
  page.on('request', (req) => {
    if (req.method() === 'GET' && new URL(req.url()).pathname === '/api/sender-domains/') gets += 1;
  });
  await eventually(async () => assert.ok(gets >= 1, 'polled'), { timeout: 12000 });

  const setHidden = (hidden) => page.evaluate((h) => {
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => h });
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => (h ? 'hidden' : 'visible') });
    document.dispatchEvent(new Event('visibilitychange'));
  }, hidden);
  await setHidden(true);
  await page.waitForTimeout(300);
  gets = 0;
  await page.waitForTimeout(7000);
  assert.equal(gets, 0, 'no polling while hidden');
  await setHidden(false);
  await eventually(async () => assert.ok(gets >= 1, 'polls again at once when shown'), { timeout: 3000 });
  assertNoPageErrors(page);
});
