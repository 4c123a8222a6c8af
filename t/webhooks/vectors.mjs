// Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
// Test vectors from the Standard Webhooks reference implementation (npm
// "standardwebhooks", pinned in package.json): prints one C initializer
// per case for t/unit/test_whsign.c.  Run: cd t/webhooks && npm ci &&
// node vectors.mjs
import { Webhook } from "standardwebhooks";

const cases = [
  ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek",
   1614265330, '{"test": 2432232314}'],
  ["whsec_" + Buffer.alloc(64, 7).toString("base64"), "evt_1",
   1796515200, '{"type":"identity.verified","workspace":"acme"}'],
  ["whsec_" + Buffer.from("0123456789abcdef01234567").toString("base64"),
   "evt_2", 0, ""],
];

for (const [secret, id, ts, body] of cases) {
  const sig = new Webhook(secret).sign(id, new Date(ts * 1000), body);
  console.log(`    { ${JSON.stringify(secret)}, ${JSON.stringify(id)}, ${ts}, ` +
              `${JSON.stringify(body)},\n      ${JSON.stringify(sig)} },`);
}
