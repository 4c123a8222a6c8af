#!/usr/bin/env node
// Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
// Validates the answers the Test::Nginx suite received against
// docs/openapi.yaml.
//
//   node validate.mjs [--openapi docs/openapi.yaml] [--prefix /api] LOG...
//
// LOG is what t/lib/Test/Nginx/Socket.pm appends when TEST_NGINX_RESPONSE_LOG
// is set: one JSON object per line, {file, block, method, path, status,
// content_type, body}.  The request path is first seen as nginx sees it
// (percent-decoded, "//" merged, "." and ".." resolved); requests under the
// prefix (the test configs mount the API at /api/) are mapped to an
// operation by path template and method, and anything else (/sim/, /ping,
// /race, a path that ".." takes out of /api/) is ignored.
//
// A record fails when:
//   - its path matches no path of the document, or its method is not an
//     operation of the path, or its status is not a response of the
//     operation, unless the answer is one the document declares for that
//     case in x-fallback-responses ("unknown-path" 404, "method-not-allowed"
//     405, "refused-by-nginx" 400/413/414 with conf-examples/json-errors.conf);
//   - the response documents no content but a body came, or a HEAD answer
//     has a body;
//   - the Content-Type is not the documented media type (JSON answers must
//     also say charset=utf-8), or the body is not UTF-8, or not JSON;
//   - the body does not validate against the response's schema (JSON
//     Schema 2020-12 with Ajv, formats checked).
// It prints every failure, then "N passed, N failed" (and how many records
// were ignored), and exits 1 on any failure or when nothing was validated.
// VALIDATE_VERBOSE=1 also lists the answers seen per operation and status,
// and the documented answers the suite never produced.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

const here = path.dirname(fileURLToPath(import.meta.url));

// ---- arguments ------------------------------------------------------------

let specFile = path.resolve(here, '../../docs/openapi.yaml');
let prefix = '/api';
const logs = [];
for (let i = 2; i < process.argv.length; i++) {
    const a = process.argv[i];
    if (a === '--openapi') specFile = process.argv[++i];
    else if (a === '--prefix') prefix = process.argv[++i].replace(/\/+$/, '');
    else if (a === '-h' || a === '--help') {
        console.log('usage: node validate.mjs [--openapi FILE] [--prefix /api] LOG...');
        process.exit(0);
    } else logs.push(a);
}
if (logs.length === 0) {
    console.error('validate.mjs: no response log given (see --help)');
    process.exit(2);
}

// ---- the document -----------------------------------------------------------

const doc = YAML.parse(fs.readFileSync(specFile, 'utf8'));

// local references only ("#/components/..."): the document is one file
function deref(obj) {
    const seen = new Set();
    while (obj && typeof obj === 'object' && typeof obj.$ref === 'string') {
        if (seen.has(obj.$ref)) throw new Error(`reference loop at ${obj.$ref}`);
        seen.add(obj.$ref);
        if (!obj.$ref.startsWith('#/')) throw new Error(`external reference ${obj.$ref}`);
        obj = obj.$ref.slice(2).split('/')
            .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
            .reduce((o, k) => (o === undefined ? undefined : o[k]), doc);
        if (obj === undefined) throw new Error(`unresolved reference ${[...seen].pop()}`);
    }
    return obj;
}

// Schemas: every component schema goes into one Ajv schema under $defs, and
// "#/components/schemas/X" references become references into it.
const BUNDLE = 'https://sender-domains.invalid/openapi.json';
const rewriteRefs = (node) => {
    if (Array.isArray(node)) return node.map(rewriteRefs);
    if (node && typeof node === 'object') {
        const out = {};
        for (const [k, v] of Object.entries(node)) {
            out[k] = (k === '$ref' && typeof v === 'string'
                      && v.startsWith('#/components/schemas/'))
                ? `${BUNDLE}#/$defs/${v.slice('#/components/schemas/'.length)}`
                : rewriteRefs(v);
        }
        return out;
    }
    return node;
};

const ajv = new Ajv2020({ allErrors: true, strict: true, strictTypes: false });
addFormats(ajv);
// OpenAPI's annotation keywords that are not JSON Schema's
ajv.addVocabulary(['discriminator', 'xml', 'externalDocs', 'example']);
ajv.addSchema({ $id: BUNDLE, $defs: rewriteRefs(doc.components?.schemas || {}) });

const compiled = new Map();
function validatorFor(schema) {
    const key = JSON.stringify(schema);
    if (!compiled.has(key)) compiled.set(key, ajv.compile(rewriteRefs(schema)));
    return compiled.get(key);
}

// Path templates, most specific first (fewer parameters, then longer).
const METHODS = ['get', 'head', 'post', 'put', 'patch', 'delete', 'options', 'trace'];
const templates = Object.keys(doc.paths || {}).map((t) => {
    const names = [];
    const re = new RegExp('^' + t.split('/').map((seg) => seg.replace(
        /\{([^}]+)\}|[^{}]+/g,
        (m, name) => {
            if (name) { names.push(name); return '([^/]+)'; }
            return m.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        })).join('/') + '$');
    return { template: t, re, names, item: deref(doc.paths[t]) };
}).sort((a, b) => a.names.length - b.names.length
                   || b.template.length - a.template.length);

const fallbacks = doc['x-fallback-responses'] || {};

// ---- checks -----------------------------------------------------------------

function mediaType(ct) {
    if (!ct) return { essence: null, params: {} };
    const [essence, ...rest] = ct.split(';').map((s) => s.trim());
    const params = {};
    for (const p of rest) {
        const i = p.indexOf('=');
        if (i > 0) params[p.slice(0, i).trim().toLowerCase()] =
            p.slice(i + 1).trim().replace(/^"|"$/g, '').toLowerCase();
    }
    return { essence: essence.toLowerCase(), params };
}

function schemaErrors(validate) {
    return (validate.errors || []).slice(0, 8).map((e) =>
        `${e.instancePath || '(body)'} ${e.message}`
        + (e.params && Object.keys(e.params).length
           ? ` ${JSON.stringify(e.params)}` : ''));
}

// Checks one answer against one response object; returns a list of problems.
function checkResponse(rec, response, isHead) {
    const problems = [];
    response = deref(response);
    const content = response.content ? Object.entries(response.content) : [];

    if (isHead || content.length === 0) {
        if (rec.body !== '') {
            problems.push(isHead ? 'a HEAD answer has a body'
                                 : `no content is documented, but a body came: ${JSON.stringify(rec.body.slice(0, 120))}`);
        }
        return problems;
    }

    const mt = mediaType(rec.content_type);
    const match = content.find(([k]) => mediaType(k).essence === mt.essence);
    if (!match) {
        problems.push(`Content-Type ${JSON.stringify(rec.content_type)} is not `
                      + `documented (${content.map(([k]) => k).join(', ')})`);
        return problems;
    }
    const [key, media] = match;

    if (!/[/+]json$/.test(mediaType(key).essence)) return problems;

    if (mt.params.charset !== 'utf-8') {
        problems.push(`JSON answer without charset=utf-8: ${JSON.stringify(rec.content_type)}`);
    }
    if (rec.body_encoding) {
        problems.push(`the body is not UTF-8 (logged as ${rec.body_encoding})`);
        return problems;
    }
    let body;
    try {
        body = JSON.parse(rec.body);
    } catch (e) {
        problems.push(`the body is not JSON (${e.message}): ${JSON.stringify(rec.body.slice(0, 160))}`);
        return problems;
    }
    if (!media.schema) return problems;
    const validate = validatorFor(media.schema);
    if (!validate(body)) {
        problems.push(...schemaErrors(validate).map((m) => `schema: ${m}`));
    }
    return problems;
}

// nginx's view of a request target: percent-decoded bytes (%2F is a slash
// too), "//" merged, "." and ".." segments resolved.  Returns null when the
// path climbs above the root (nginx refuses it with 400).
function nginxPath(target) {
    const q = target.indexOf('?');
    const raw = q >= 0 ? target.slice(0, q) : target;
    const bytes = Buffer.from(raw.replace(/%([0-9A-Fa-f]{2})/g,
        (m, h) => String.fromCharCode(parseInt(h, 16))), 'latin1');
    const out = [];
    for (const seg of bytes.toString('latin1').split('/')) {
        if (seg === '' || seg === '.') continue;
        if (seg === '..') {
            if (out.length === 0) return null;
            out.pop();
            continue;
        }
        out.push(seg);
    }
    const trailing = /\/\.{0,2}$/.test(bytes.toString('latin1')) && out.length ? '/' : '';
    return '/' + out.join('/') + trailing;
}

// A fallback answer of the document for this status, if any.
function fallback(kind, status) {
    const fb = fallbacks[kind] || {};
    return fb[status] ? { response: fb[status] } : null;
}

// Finds the operation of a record: {label, response} or {label, problem};
// {ignore: true} for a request that nginx does not route to the API.
function classify(rec) {
    const method = String(rec.method || '').toLowerCase();
    const status = String(rec.status);
    const path = nginxPath(String(rec.path || ''));

    if (path === null) {
        const fb = fallback('refused-by-nginx', status);
        const label = `(refused by nginx) ${rec.method} ${status}`;
        return fb ? { label, ...fb }
                  : { label, problem: 'the path climbs above the root, but the answer is not '
                                      + 'a refused-by-nginx answer of the document' };
    }
    if (!path.startsWith(prefix + '/')) return { ignore: true };

    // the module ignores the slashes around what follows its location
    const rel = '/' + path.slice(prefix.length).replace(/^\/+|\/+$/g, '');
    const nginxRefusal = fallback('refused-by-nginx', status);

    const t = templates.find((x) => x.re.test(rel));
    if (!t) {
        const fb = fallback('unknown-path', status) || nginxRefusal;
        const label = `(no such path) ${rec.method} ${status}`;
        return fb ? { label, ...fb }
                  : { label, problem: `the path ${rel} is not in the document` };
    }

    if (!METHODS.includes(method) || !t.item[method]) {
        const fb = fallback('method-not-allowed', status) || nginxRefusal;
        const label = `(method not allowed) ${rec.method} ${t.template} ${status}`;
        return fb ? { label, ...fb }
                  : { label, problem: `${rec.method} is not an operation of ${t.template}` };
    }

    const op = t.item[method];
    const label = `${rec.method} ${t.template} ${status}`;
    const responses = op.responses || {};
    const response = responses[status] || responses[`${status[0]}XX`] || responses.default;
    if (response) return { label, response, isHead: method === 'head' };
    if (nginxRefusal) return { label: `(refused by nginx) ${label}`, ...nginxRefusal };
    return { label, problem: `status ${status} is not documented for ${rec.method} ${t.template} `
                             + `(documented: ${Object.keys(responses).join(', ')})` };
}

// ---- run ----------------------------------------------------------------------

let passed = 0;
let failed = 0;
let ignored = 0;
const seen = new Map();        // label -> count

for (const file of logs) {
    const lines = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '');
    lines.forEach((line, i) => {
        let rec;
        try {
            rec = JSON.parse(line);
        } catch (e) {
            failed++;
            console.log(`FAIL ${file}:${i + 1}: not a JSON line (${e.message})`);
            return;
        }
        const target = String(rec.path || '');
        const c = classify(rec);
        if (c.ignore) {
            ignored++;
            return;
        }
        const problems = c.problem ? [c.problem] : checkResponse(rec, c.response, c.isHead);
        seen.set(c.label, (seen.get(c.label) || 0) + 1);

        if (problems.length === 0) {
            passed++;
            return;
        }
        failed++;
        console.log(`FAIL ${rec.block}\n     ${rec.method} ${target} -> ${rec.status} `
                    + `(${rec.content_type || 'no Content-Type'})`);
        for (const p of problems) console.log(`     - ${p}`);
        if (rec.body && !c.problem) console.log(`     body: ${rec.body.slice(0, 300).trimEnd()}`);
    });
}

// what the suite exercised, per operation and status
if (process.env.VALIDATE_VERBOSE) {
    console.log('\nanswers seen per operation and status:');
    for (const [label, n] of [...seen].sort()) console.log(`  ${String(n).padStart(4)}  ${label}`);
}

// documented answers the suite never produced (for information)
const missing = [];
for (const t of templates) {
    for (const m of METHODS) {
        if (!t.item[m]) continue;
        for (const st of Object.keys(t.item[m].responses || {})) {
            const label = `${m.toUpperCase()} ${t.template} ${st}`;
            if (!seen.has(label)) missing.push(label);
        }
    }
}
if (missing.length) {
    console.log(`\n${missing.length} documented answers were not exercised by the suite`
                + (process.env.VALIDATE_VERBOSE ? `: ${missing.join('; ')}`
                                                : ' (VALIDATE_VERBOSE=1 lists them)'));
}

console.log(`\n${passed} passed, ${failed} failed `
            + `(${ignored} answers to requests outside ${prefix}/ ignored)`);
if (passed + failed === 0) {
    console.log('validate.mjs: nothing was validated: is the response log empty?');
    process.exit(1);
}
process.exit(failed ? 1 : 0);
