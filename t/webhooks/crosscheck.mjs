// Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
// The module's Standard Webhooks signatures, verified by the reference
// implementation (npm "standardwebhooks"): reads the JSON lines that
// `SD_WHSIGN_PRINT=1 build/unit/test_whsign` prints and checks each with
// Webhook.verify(), then checks that a changed body is refused.
// Run: make -f Makefile.dev webhooks-sign
import { Webhook } from "standardwebhooks";
import { execFileSync } from "node:child_process";

const bin = process.argv[2];
const out = execFileSync(bin, { env: { ...process.env, SD_WHSIGN_PRINT: "1" } });
let pass = 0, fail = 0;

function check(name, fn) {
  try { fn(); console.log(`ok   - ${name}`); pass++; }
  catch (e) { console.log(`FAIL - ${name}: ${e.message}`); fail++; }
}

for (const line of out.toString().trim().split("\n")) {
  const v = JSON.parse(line);
  const wh = new Webhook(v.secret);
  const headers = {
    "webhook-id": v.id,
    "webhook-timestamp": String(v.timestamp),
    "webhook-signature": v.signature,
  };
  // the verifier refuses timestamps more than 5 minutes off: pin its clock
  const now = Date.now;
  Date.now = () => v.timestamp * 1000;
  check(`${v.id}: the reference verifier accepts ${v.signature}`,
        () => wh.verify(v.body, headers));
  check(`${v.id}: and refuses the body changed`, () => {
    let refused = false;
    try { wh.verify(v.body + " ", headers); } catch { refused = true; }
    if (!refused) throw new Error("accepted a changed body");
  });
  Date.now = now;
}

console.log(`${pass} passed, ${fail} failed`);
process.exit(fail || !pass ? 1 : 0);
