// Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
// A webhook receiver for t/webhooks/run.sh: verifies each request with the
// Standard Webhooks reference implementation (npm "standardwebhooks") and
// appends one JSON line per request to a log:
//   {"id","type","identity","verified","status","at"}
// Control (unsigned): POST /_mode {"fail": n} answers the next n requests
// 500; {"drop": n} closes the next n connections without an answer;
// {"hang": true} holds requests without answering until {"hang": false};
// {"failIdentity": "x.example"} answers 500 to every event of that
// identity until {"failIdentity": null}; {"hangIdentity": "x.example"}
// never answers that identity's events (the sender times out) until
// {"hangIdentity": null}.  Usage: node receiver.mjs PORT SECRET LOGFILE
import http from "node:http";
import fs from "node:fs";
import { Webhook } from "standardwebhooks";

const [port, secret, logFile] = process.argv.slice(2);
const wh = new Webhook(secret);
let fail = 0, drop = 0, hang = false, failIdentity = null, hangIdentity = null;
const held = [];

function log(entry) {
  fs.appendFileSync(logFile, JSON.stringify({ ...entry, at: Date.now() }) + "\n");
}

const server = http.createServer((req, res) => {
  let body = "";
  req.setEncoding("utf8");
  req.on("data", (c) => (body += c));
  req.on("end", () => {
    if (req.url === "/_mode") {
      const m = JSON.parse(body || "{}");
      if (m.fail !== undefined) fail = m.fail;
      if (m.drop !== undefined) drop = m.drop;
      if (m.failIdentity !== undefined) failIdentity = m.failIdentity;
      if (m.hangIdentity !== undefined) hangIdentity = m.hangIdentity;
      if (m.hang !== undefined) {
        hang = m.hang;
        if (!hang) while (held.length) held.shift().end();
      }
      res.writeHead(200).end("{}");
      return;
    }

    let verified = false, ev = {};
    try {
      wh.verify(body, req.headers);
      verified = true;
    } catch (e) { /* logged as not verified */ }
    try { ev = JSON.parse(body); } catch (e) { /* not JSON */ }

    const entry = {
      id: req.headers["webhook-id"], type: ev.type,
      identity: ev.identity && ev.identity.identity,
      body_id: ev.id, verified,
    };

    if (drop > 0) {
      drop--;
      log({ ...entry, status: "dropped" });
      req.socket.destroy();
      return;
    }

    if (hang || (hangIdentity !== null && entry.identity === hangIdentity)) {
      log({ ...entry, status: "held" });
      held.push(res);
      return;
    }

    const status = fail > 0 ? (fail--, 500)
      : failIdentity !== null && entry.identity === failIdentity ? 500 : 204;
    log({ ...entry, status });
    res.writeHead(status).end();
  });
});

server.listen(Number(port), "127.0.0.1", () => console.log(`listening ${port}`));
