// Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
// The card's DNS check (GET /{identity}/dns) against the sandbox's real DNS
// server (Knot, fed by the simulator): each record shows its verdict and the
// explanation under it. Two mistakes users make, with screenshots: the
// domain appended twice by the DNS provider, and a proxied (flattened) CNAME.

import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import {
  addIdentity, assertNoPageErrors, cardShot, closeBrowser, domain, eventually, openCard, row,
  shot, sim, ws,
} from '../lib/harness.mjs';

after(closeBrowser);

const text = async (loc) => ((await loc.textContent()) || '').replace(/\s+/g, ' ').trim();
const esc = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

// adds D, publishes its MAIL FROM records right and its DKIM records as
// dkim(record) says (a list of {type, name, value})
async function scenario(W, D, dkim) {
  const added = await addIdentity(W, D);
  const records = added.dns_records.filter((r) => r.group === 'dkim');
  assert.equal(records.length, 3);
  await sim('POST', 'dns/publish', { identity: D, dkim: false });
  await sim('POST', 'dns', { records: records.flatMap(dkim) });
  return records;
}

// opens the card as W, the DNS records of D open, and waits for each
// record's check
async function checked(t, W, D) {
  const { page } = await openCard(t, { workspace: W });
  const r = row(page, D);
  await r.waitFor();
  const toggle = r.getByRole('button', { name: /^DNS records/ });
  if (await toggle.getAttribute('aria-expanded') !== 'true') await toggle.click();
  const panel = page.getByRole('region', { name: `DNS records for ${D}` });
  await panel.waitFor();
  const dkim = panel.locator('[data-group="dkim"] li.record');
  await eventually(async () => {
    for (const rec of await dkim.all()) {
      assert.equal(await rec.locator('.record-check').isVisible(), true);
    }
  }, { timeout: 20000 });
  return { page, panel, dkim };
}

test('DNS check: the domain appended twice is shown under each DKIM record, with what to type', { timeout: 90000 }, async (t) => {
  const W = ws('dns-twice');
  const D = domain('twice');
  await scenario(W, D, (r) => [{ type: 'CNAME', name: `${r.name}.${D}`, value: r.value }]);
  const { page, panel, dkim } = await checked(t, W, D);

  for (const rec of await dkim.all()) {
    const name = await text(rec.locator('.record-name'));
    const label = name.slice(0, -(D.length + 1));          // "x._domainkey"
    const check = rec.locator('.record-check');
    assert.equal(await check.getAttribute('data-verdict'), 'wrong');
    assert.equal(await check.getAttribute('data-reason'), 'domain_appended_twice');
    assert.match(await text(check.locator('.tag')), /^Wrong in DNS$/);
    assert.match(await text(check.locator('.record-check-text')), new RegExp(
      `found at ${esc(name)}\\.${esc(D)}: the domain is in the name twice, because your DNS `
      + `provider adds "${esc(D)}" to the name by itself\\. Change the record's name to only "${esc(label)}"`));
    assert.match(await text(check.locator('.record-check-found')), /^DNS shows: CNAME \S+\.dkim\.amazonses\.com$/);
  }
  // the MAIL FROM records were published right
  for (const check of await panel.locator('[data-group="mail_from"] .record-check').all()) {
    assert.equal(await check.getAttribute('data-verdict'), 'ok');
  }
  assert.match(await text(panel.locator('.dns-check-summary')),
    /3 records need attention/);
  await cardShot(page, 'card-dns-appended-twice');
  await shot(page, '14-dns-appended-twice');
  assertNoPageErrors(page);
});

test('DNS check: a proxied CNAME (A records instead) says to turn off the proxy', { timeout: 90000 }, async (t) => {
  const W = ws('dns-proxied');
  const D = domain('proxied');
  await scenario(W, D, (r, i) => (i === 2
    ? [{ type: 'CNAME', name: r.name, value: r.value }]
    : [{ type: 'A', name: r.name, value: '104.16.1.1' }, { type: 'A', name: r.name, value: '104.16.1.2' }]));
  const { page, dkim } = await checked(t, W, D);

  const all = await dkim.all();
  for (const [i, rec] of all.entries()) {
    const check = rec.locator('.record-check');
    const value = await text(rec.locator('.record-value'));
    if (i === 2) {
      assert.equal(await check.getAttribute('data-verdict'), 'ok');
      assert.match(await text(check.locator('.tag')), /^Found in DNS$/);
      continue;
    }
    assert.equal(await check.getAttribute('data-verdict'), 'wrong');
    assert.equal(await check.getAttribute('data-reason'), 'proxied');
    assert.match(await text(check.locator('.record-check-text')), new RegExp(
      `with IP addresses instead of a CNAME: your DNS provider proxies or flattens this record .*`
      + `Turn off the proxy for this record \\("DNS only"\\) so that it stays a CNAME pointing to ${esc(value)}`));
    assert.match(await text(check.locator('.record-check-found')), /^DNS shows: A 104\.16\.1\.1, A 104\.16\.1\.2$/);
  }
  await cardShot(page, 'card-dns-proxied');
  await shot(page, '15-dns-proxied');
  assertNoPageErrors(page);
});
