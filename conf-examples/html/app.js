// Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
// The "Custom Sender Domains" card of Account Settings.
//
// Plain modern JavaScript (an ES module), no framework, no build step.  It talks
// only to the public JSON API (GET / lists the card; POST / adds; PATCH, DELETE,
// POST …/refresh, …/resend-verification, …/migrate act on one row) and, when the
// page is served by the sandbox, to the SES simulator's control API.
//
// Rendering: each row is built once and then updated in place, so a background
// poll never steals focus, closes an open "DNS records" panel or overwrites a
// sender name that is being typed.

const card = document.getElementById('sender-domains');
const body = document.getElementById('sd-body');
const flashEl = document.getElementById('sd-flash');
const addBtn = document.getElementById('sd-add');
const defaultFromEl = document.getElementById('sd-default-from');

const meta = (name) => document.querySelector(`meta[name="${name}"]`)?.content;
const API = withSlash(card.dataset.api || meta('sender-domains-api') || '/api/sender-domains/');
const SANDBOX = withSlash(card.dataset.sandbox || meta('sender-domains-sandbox') || '/sandbox/ses/');
const UPGRADE_URL = card.dataset.upgradeUrl || '/settings/billing/';
const POLL_MS = Math.max(1000, Number(card.dataset.pollMs) || 5000);
const NAME_DEBOUNCE_MS = 800;

const state = {
  mode: 'loading',          // loading | ready | locked | error
  canEdit: false,
  defaultFrom: '',
  rows: new Map(),          // identity -> RowView, in display order
  list: null,               // the <ul> of rows
  sandbox: false,
  pollTimer: 0,
  loading: null,            // the in-flight GET / promise
  generation: 0,            // bumped by every change; stale poll answers are dropped
};

/* ------------------------------------------------------------------ */
/* small helpers                                                       */
/* ------------------------------------------------------------------ */

function withSlash(s) { return s.endsWith('/') ? s : s + '/'; }

/** h('div', {class: 'x', onclick: fn}, child, 'text', …) */
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'html') el.innerHTML = v;          // only for our own SVG constants
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

const svg = (inner, cls = 'icon') =>
  `<svg class="${cls}" viewBox="0 0 24 24" aria-hidden="true" focusable="false" fill="none" ` +
  `stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">${inner}</svg>`;

const ICONS = {
  check: svg('<path d="M5 12.5l4.5 4.5L19 7.5"/>'),
  clock: svg('<circle cx="12" cy="12" r="8.5"/><path d="M12 7.5V12l3 2"/>'),
  cross: svg('<path d="M7 7l10 10M17 7L7 17"/>'),
  dash: svg('<path d="M7 12h10"/>'),
  spin: svg('<path d="M12 3a9 9 0 1 0 9 9"/>', 'icon icon-spin'),
  refresh: svg('<path d="M20 12a8 8 0 1 1-2.35-5.66"/><path d="M20 4v4.5h-4.5"/>'),
  trash: svg('<path d="M4 7h16"/><path d="M9.5 7V4.5h5V7"/><path d="M6.5 7l1 12.5h9l1-12.5"/><path d="M10 11v5M14 11v5"/>'),
  globe: svg('<circle cx="12" cy="12" r="8.5"/><path d="M3.5 12h17"/><path d="M12 3.5c2.5 2.6 3.5 5.4 3.5 8.5s-1 5.9-3.5 8.5c-2.5-2.6-3.5-5.4-3.5-8.5s1-5.9 3.5-8.5z"/>'),
  mail: svg('<rect x="3.5" y="5.5" width="17" height="13" rx="2"/><path d="M4 7l8 6 8-6"/>'),
  lock: svg('<rect x="5" y="10.5" width="14" height="10" rx="2"/><path d="M8 10.5V7.5a4 4 0 0 1 8 0v3"/>'),
  copy: svg('<rect x="8.5" y="8.5" width="11" height="11" rx="2"/><path d="M15.5 8.5V6a1.5 1.5 0 0 0-1.5-1.5H6A1.5 1.5 0 0 0 4.5 6v8A1.5 1.5 0 0 0 6 15.5h2.5"/>'),
  chevron: svg('<path d="M9 6l6 6-6 6"/>', 'icon chevron'),
  warn: svg('<path d="M12 4l9 16H3z"/><path d="M12 10v4M12 17.2v.1"/>'),
  info: svg('<circle cx="12" cy="12" r="8.5"/><path d="M12 11v5M12 8v.1"/>'),
  legacy: svg('<path d="M4 12a8 8 0 1 0 2.35-5.66"/><path d="M4 4v4.5h4.5"/><path d="M12 8v4l2.5 1.5"/>'),
  migrate: svg('<path d="M5 12h13"/><path d="M13 7l5 5-5 5"/>'),
  send: svg('<path d="M4 12l16-8-6 16-2.5-6.5z"/><path d="M11.5 13.5L20 4"/>'),
};

/* Relative times: "just now", "3 minutes ago", "in 23 hours". */
const rtf = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });
function relTime(iso) {
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return '';
  const s = Math.round((t - Date.now()) / 1000);
  const a = Math.abs(s);
  if (a < 45) return s <= 0 ? 'just now' : 'in a few seconds';
  if (a < 45 * 60) return rtf.format(Math.round(s / 60), 'minute');
  if (a < 36 * 3600) return rtf.format(Math.round(s / 3600), 'hour');
  if (a < 26 * 86400) return rtf.format(Math.round(s / 86400), 'day');
  return new Date(t).toLocaleDateString('en', { year: 'numeric', month: 'short', day: 'numeric' });
}
const absTime = (iso) => {
  const t = Date.parse(iso);
  return Number.isFinite(t) ? new Date(t).toLocaleString('en', { dateStyle: 'medium', timeStyle: 'short' }) : '';
};
/** <time> that keeps itself current (see tickTimes). */
function timeEl(iso) {
  return h('time', { datetime: iso, title: absTime(iso), 'data-rel': '' }, relTime(iso));
}
function tickTimes() {
  for (const t of document.querySelectorAll('time[data-rel]')) {
    const txt = relTime(t.dateTime);
    if (t.textContent !== txt) t.textContent = txt;
  }
}
setInterval(tickTimes, 20000);

/* One visible + announced status line for the whole card. */
let flashTimer = 0;
function flash(message, kind = 'info') {
  clearTimeout(flashTimer);
  flashEl.textContent = '';
  flashEl.className = `flash flash-${kind}`;
  // a fresh text node makes screen readers announce repeated messages too
  requestAnimationFrame(() => { flashEl.textContent = message; });
  flashTimer = setTimeout(() => { flashEl.textContent = ''; flashEl.className = 'flash'; }, 8000);
}

/* ------------------------------------------------------------------ */
/* the API                                                             */
/* ------------------------------------------------------------------ */

class ApiError extends Error {
  constructor(status, code, message, data) {
    super(message);
    this.status = status;
    this.code = code;
    this.data = data;
  }
}

async function request(base, method, path, payload) {
  const opts = {
    method,
    headers: { Accept: 'application/json' },
    credentials: 'same-origin',
    cache: 'no-store',
  };
  if (payload !== undefined) {
    opts.headers['Content-Type'] = 'application/json';
    opts.body = JSON.stringify(payload);
  }
  let res;
  try {
    res = await fetch(base + path, opts);
  } catch {
    throw new ApiError(0, 'network', "Can't reach the server. Check your connection and try again.");
  }
  if (res.status === 204) return null;
  let data = null;
  try { data = await res.json(); } catch { /* not JSON */ }
  if (!res.ok) {
    const err = data && data.error;
    const message = (err && (err.message || err.code)) ||
      (typeof err === 'string' ? err : `The server answered ${res.status} ${res.statusText}.`);
    throw new ApiError(res.status, (err && err.code) || `http_${res.status}`, message, data);
  }
  return data;
}

const api = (method, path = '', payload) => request(API, method, path, payload);
const idPath = (identity, action = '') => encodeURIComponent(identity) + (action ? '/' + action : '');
const sim = (method, path, payload) => request(SANDBOX, method, path, payload);

/* ------------------------------------------------------------------ */
/* status vocabulary                                                   */
/* ------------------------------------------------------------------ */

const STATUS = {
  verified: { text: 'Verified', cls: 'ok', icon: 'check' },
  pending: { text: 'Pending', cls: 'warn', icon: 'clock' },
  failed: { text: 'Failed', cls: 'bad', icon: 'cross' },
  not_configured: { text: 'Not configured', cls: 'muted', icon: 'dash' },
  inherited: { text: 'Inherited', cls: 'ok', icon: 'check' },
};

// An internationalised name as people read it: each xn-- label decoded
// (RFC 3492 punycode); the name as stored when a label does not decode.
function punyDecode(label) {
  const base = 36, tMin = 1, tMax = 26, skew = 38, damp = 700;
  const b = label.lastIndexOf('-');
  const out = b > 0 ? Array.from(label.slice(0, b)) : [];
  let i = 0, n = 128, bias = 72;
  for (let pos = b > 0 ? b + 1 : 0; pos < label.length;) {
    const oldi = i;
    for (let w = 1, k = base; ; k += base) {
      if (pos >= label.length) throw new Error('bad punycode');
      const c = label.charCodeAt(pos++);
      const digit = c - 48 < 10 ? c - 22 : c - 97 < 26 ? c - 97 : 36;
      if (digit >= base) throw new Error('bad punycode');
      i += digit * w;
      const t = k <= bias ? tMin : k >= bias + tMax ? tMax : k - bias;
      if (digit < t) break;
      w *= base - t;
    }
    const len = out.length + 1;
    let delta = oldi === 0 ? Math.floor((i - oldi) / damp) : (i - oldi) >> 1;
    delta += Math.floor(delta / len);
    let k = 0;
    for (; delta > ((base - tMin) * tMax) >> 1; k += base) delta = Math.floor(delta / (base - tMin));
    bias = Math.floor(k + (base - tMin + 1) * delta / (delta + skew));
    n += Math.floor(i / len);
    i %= len;
    out.splice(i++, 0, String.fromCodePoint(n));
  }
  return out.join('');
}

function unicodeName(name) {
  const at = name.lastIndexOf('@');
  const local = at >= 0 ? name.slice(0, at + 1) : '';
  try {
    return local + name.slice(at + 1).split('.')
      .map((l) => (l.startsWith('xn--') ? punyDecode(l.slice(4)) : l)).join('.');
  } catch {
    return name;
  }
}

// GET /{identity}/dns verdicts
const VERDICTS = {
  ok: { text: 'Found in DNS', cls: 'ok' },
  missing: { text: 'Not in DNS', cls: 'warn' },
  wrong: { text: 'Wrong in DNS', cls: 'bad' },
  conflict: { text: 'Conflict in DNS', cls: 'bad' },
  unknown: { text: 'DNS did not answer', cls: 'muted' },
};

const ERROR_TYPES = {
  TYPE_NOT_FOUND: 'Amazon SES has not found the DNS records yet.',
  HOST_NOT_FOUND: 'Amazon SES could not find the domain in DNS.',
  INVALID_VALUE: 'Amazon SES found a record with a different value than the one shown below. Check for typos.',
  SERVICE_ERROR: 'Amazon SES had a temporary problem checking the records; it will try again.',
  DNS_SERVER_ERROR: "The domain's DNS servers did not answer; Amazon SES will try again.",
};

const GROUPS = [
  {
    key: 'ownership', title: 'Ownership proof', req: 'Required',
    intro: 'Amazon SES already has this domain verified for the platform, so its status does not show that it is yours. ' +
      'This TXT record, made for your workspace only, proves that you control the domain. Until DNS shows it, reports go out from the default sender.',
  },
  {
    key: 'dkim', title: 'DKIM authentication', req: 'Required',
    intro: 'Proves that you own the domain and signs your mail. Reports are sent from this domain as soon as Amazon SES finds all three records.',
  },
  {
    key: 'mail_from', title: 'Custom MAIL FROM', req: 'Recommended',
    intro: 'Makes bounces return to a subdomain of yours so that SPF aligns with your domain. Mail is sent even before these records exist.',
  },
  {
    key: 'dmarc', title: 'DMARC policy', req: 'Optional',
    intro: 'Tells receiving servers what to do with mail that fails the checks. If you already have a DMARC record, keep yours.',
  },
];

const isManaged = (r) => r.kind !== 'legacy';
function isPending(r) {
  if (!isManaged(r)) return false;
  // a domain waiting for its ownership TXT record is checked by itself too
  if (r.ownership === 'unproven' && r.state !== 'failed' && hasOwnershipRecord(r)) return true;
  return (r.state && r.state !== 'ready') || r.dkim_status === 'pending' || r.mail_from_status === 'pending';
}

function hasOwnershipRecord(r) {
  return (r.dns_records || []).some((x) => x.group === 'ownership');
}

/* ------------------------------------------------------------------ */
/* loading the card and polling                                        */
/* ------------------------------------------------------------------ */

// The card is read in pages (GET /?limit=…&after=…) so that no single
// answer is large, however many senders a workspace has: each page is a
// short piece of work for the server.  "next" is null after the last page.
const PAGE_SIZE = 100;
const MAX_PAGES = 1000;

async function fetchCard() {
  let data = null;
  let after = null;
  for (let page = 0; page < MAX_PAGES; page++) {
    const query = '?limit=' + PAGE_SIZE + (after ? '&after=' + encodeURIComponent(after) : '');
    const part = await api('GET', query);
    const rows = Array.isArray(part.identities) ? part.identities : [];
    if (data) data.identities.push(...rows);
    else data = { ...part, identities: rows.slice() };
    if (typeof part.next !== 'string' || part.next === '' || part.next === after) break;
    after = part.next;
  }
  delete data.next;
  return data;
}

function load({ poll = false } = {}) {
  // a poll joins a load in flight; an explicit load (after a change) runs after it,
  // so that it surely sees the change
  if (poll && state.loading) return state.loading;
  const run = async () => {
    const gen = state.generation;
    try {
      const data = await fetchCard();
      if (poll && gen !== state.generation) return;   // a change raced us; its answer wins
      renderCard(data, { poll });
    } catch (e) {
      if (e.code === 'plan_required' || (e.data && e.data.upgrade)) renderLocked(e);
      else if (poll && state.mode === 'ready') {
        // keep what we have; say so quietly and retry on the next tick
        card.dataset.stale = 'true';
      } else renderError(e);
    } finally {
      card.setAttribute('aria-busy', 'false');
      schedulePoll();
    }
  };
  const p = (state.loading || Promise.resolve()).then(run);
  state.loading = p;
  p.finally(() => { if (state.loading === p) state.loading = null; });
  return p;
}

function needsPolling() {
  if (state.mode !== 'ready') return false;
  for (const view of state.rows.values()) if (isPending(view.data)) return true;
  return false;
}

function schedulePoll() {
  clearTimeout(state.pollTimer);
  state.pollTimer = 0;
  card.dataset.polling = 'false';
  if (document.hidden || !needsPolling()) return;
  card.dataset.polling = 'true';
  state.pollTimer = setTimeout(() => load({ poll: true }), POLL_MS);
}

document.addEventListener('visibilitychange', () => {
  if (document.hidden) {
    clearTimeout(state.pollTimer);
    state.pollTimer = 0;
    card.dataset.polling = 'false';
  } else if (needsPolling()) {
    load({ poll: true });
  }
});

/* ------------------------------------------------------------------ */
/* card states                                                         */
/* ------------------------------------------------------------------ */

function resetRows() {
  state.rows.clear();
  state.list = null;
}

function renderCard(data, { poll }) {
  const canEdit = !!data.can_edit;
  if (state.mode !== 'ready' || canEdit !== state.canEdit) {
    resetRows();
    body.replaceChildren();
  }
  state.mode = 'ready';
  state.canEdit = canEdit;
  state.defaultFrom = data.default_from || '';
  card.dataset.state = 'ready';
  card.dataset.canEdit = String(canEdit);
  delete card.dataset.stale;
  addBtn.hidden = !canEdit;
  defaultFromEl.textContent = state.defaultFrom || "the platform's default sender";

  const rows = Array.isArray(data.identities) ? data.identities : [];
  if (!canEdit && !body.querySelector('.readonly-note')) {
    body.prepend(h('p', { class: 'readonly-note' }, h('span', { html: ICONS.info }),
      ' You can see these senders, but only a workspace admin can add, change or remove them.'));
  }
  if (canEdit) body.querySelector('.readonly-note')?.remove();

  if (rows.length === 0) {
    resetRows();
    body.querySelector('.sd-list')?.remove();
    if (!body.querySelector('.empty')) body.append(renderEmpty());
    return;
  }
  body.querySelector('.empty')?.remove();
  if (!state.list) {
    state.list = h('ul', { class: 'sd-list', 'aria-label': 'Senders' });
    body.append(state.list);
  }

  const seen = new Set();
  let prev = null;
  for (const row of rows) {
    seen.add(row.identity);
    let view = state.rows.get(row.identity);
    if (view && (view.data.kind !== row.kind || view.data.type !== row.type)) {
      // e.g. migrated in another tab: the row needs other controls
      const fresh = new RowView(row);
      view.el.replaceWith(fresh.el);
      view.destroy();
      view = fresh;
      state.rows.set(row.identity, view);
    } else if (view) {
      if (poll) announceChanges(view.data, row);
      view.update(row);
    } else {
      view = new RowView(row);
      state.rows.set(row.identity, view);
    }
    // keep the API's order, moving only what is out of place
    const want = prev ? prev.el.nextSibling : state.list.firstChild;
    if (want !== view.el) state.list.insertBefore(view.el, want);
    prev = view;
  }
  for (const [id, view] of state.rows) {
    if (!seen.has(id)) { view.destroy(); state.rows.delete(id); }
  }
}

function renderEmpty() {
  return h('div', { class: 'empty' },
    h('div', { class: 'empty-icon', html: ICONS.mail }),
    h('h3', {}, 'No custom senders yet'),
    h('p', {}, 'Reports are sent from ', h('strong', {}, state.defaultFrom || "the platform's default sender"), '.'),
    state.canEdit
      ? h('p', {}, 'Add your domain (or a single address) to send reports from your own name. It takes a few DNS records and usually a few minutes.')
      : h('p', {}, 'Ask a workspace admin to add your domain.'));
}

function renderLocked(err) {
  state.mode = 'locked';
  resetRows();
  card.dataset.state = 'locked';
  addBtn.hidden = true;
  body.replaceChildren(
    h('div', { class: 'locked' },
      h('div', { class: 'locked-icon', html: ICONS.lock }),
      h('div', { class: 'locked-text' },
        h('h3', {}, 'Send reports from your own domain'),
        h('p', { class: 'locked-message' }, err.message),
        h('ul', { class: 'benefits' },
          h('li', {}, 'Your own domain or address in the From line of every report'),
          h('li', {}, 'DKIM signing and a custom MAIL FROM domain for better deliverability'),
          h('li', {}, 'Status checks that update by themselves')),
        h('a', { class: 'btn btn-primary', href: UPGRADE_URL }, 'Upgrade to Professional'))));
}

function renderError(err) {
  state.mode = 'error';
  resetRows();
  card.dataset.state = 'error';
  addBtn.hidden = true;
  const retry = h('button', { type: 'button', class: 'btn', onclick: () => { body.replaceChildren(h('p', { class: 'loading' }, 'Loading sender domains…')); load(); } }, 'Try again');
  body.replaceChildren(
    h('div', { class: 'load-error', role: 'alert' },
      h('span', { html: ICONS.warn }),
      h('div', {},
        h('p', {}, h('strong', {}, "Couldn't load your senders. "), err.message),
        retry)));
}

function announceChanges(before, after) {
  const name = after.identity;
  const said = [];
  if (before.dkim_status !== after.dkim_status) {
    const label = after.type === 'email' ? 'verification' : 'DKIM';
    said.push(`${label} ${STATUS[after.dkim_status]?.text.toLowerCase() || after.dkim_status}`);
  }
  if (before.mail_from_status !== after.mail_from_status && after.type === 'domain') {
    said.push(`MAIL FROM ${STATUS[after.mail_from_status]?.text.toLowerCase() || after.mail_from_status}`);
  }
  if (said.length) flash(`${name}: ${said.join(', ')}.`, after.dkim_status === 'failed' ? 'error' : 'info');
}

/* ------------------------------------------------------------------ */
/* one row                                                             */
/* ------------------------------------------------------------------ */

let rowSeq = 0;

class RowView {
  constructor(data) {
    this.seq = ++rowSeq;
    this.data = data;
    this.expanded = false;
    this.recordsKey = '';
    this.nameTimer = 0;
    this.nameSaving = false;
    this.nameAgain = false;
    this.savedName = data.sender_name || '';
    this.build();
    this.update(data);
  }

  get id() { return this.data.identity; }

  build() {
    const d = this.data;
    const n = this.seq;
    const managed = isManaged(d);
    const canEdit = state.canEdit;

    const uname = unicodeName(d.identity);
    this.nameEl = h('h3', { class: 'sd-name', id: `sd-row-${n}-name`, tabindex: '-1' },
      uname !== d.identity ? [uname, ' ', h('span', { class: 'sd-name-ace' }, `(${d.identity})`)] : d.identity);
    this.subEl = h('p', { class: 'sd-sub' });
    this.tagsEl = h('div', { class: 'sd-tags', role: 'group', 'aria-label': `Status of ${d.identity}` });

    this.refreshBtn = h('button', {
      type: 'button', class: 'icon-btn', 'aria-label': `Refresh status of ${d.identity}`,
      title: 'Refresh status', html: ICONS.refresh, onclick: () => this.refresh(),
    });
    const actions = h('div', { class: 'sd-actions' }, this.refreshBtn);
    if (canEdit && managed) {
      this.trashBtn = h('button', {
        type: 'button', class: 'icon-btn icon-btn-danger', 'aria-label': `Remove ${d.identity}`,
        title: 'Remove', html: ICONS.trash, onclick: () => openRemove(this),
      });
      actions.append(this.trashBtn);
    }

    this.summaryEl = h('p', { class: 'sd-summary' });
    this.checkEl = h('p', { class: 'sd-check' });
    this.noticeEl = h('div', { class: 'notice', hidden: true });
    this.msgEl = h('p', { class: 'row-msg', role: 'status', 'aria-live': 'polite' });

    // sender name: editable for admins on managed rows, text otherwise
    const nameId = `sd-row-${n}-sender`;
    if (canEdit && managed) {
      this.senderInput = h('input', {
        id: nameId, type: 'text', class: 'sender-input', autocomplete: 'off', maxlength: '256',
        placeholder: 'e.g. Acme Reports', 'aria-describedby': `${nameId}-status ${nameId}-hint`,
      });
      this.senderStatus = h('span', { class: 'save-status', id: `${nameId}-status`, role: 'status', 'aria-live': 'polite' });
      this.senderInput.addEventListener('input', () => this.nameInput());
      this.senderInput.addEventListener('blur', () => this.nameCommit());
      this.senderInput.addEventListener('keydown', (e) => {
        if (e.key === 'Enter') { e.preventDefault(); this.nameCommit(); }
        if (e.key === 'Escape' && this.senderInput.value !== this.savedName) {
          e.preventDefault();
          clearTimeout(this.nameTimer);
          this.senderInput.value = this.savedName;
          this.setSaveStatus('', '');
        }
      });
      this.senderField = h('div', { class: 'sender-field' },
        h('label', { for: nameId }, 'Sender name'),
        h('div', { class: 'sender-line' }, this.senderInput, this.senderStatus),
        h('p', { class: 'hint', id: `${nameId}-hint` }, 'Shown before the address in the From line. Saved automatically.'));
    } else {
      this.senderText = h('span', { class: 'sender-text' });
      this.senderField = h('div', { class: 'sender-field sender-readonly' },
        h('span', { class: 'label' }, 'Sender name'), this.senderText);
    }

    // single address: resend + last sent
    this.verifyEl = h('div', { class: 'sd-verify', hidden: true });
    this.lastSentEl = h('span', { class: 'last-sent' });
    this.expiresEl = h('span', { class: 'expires' });
    if (canEdit) {
      this.resendBtn = h('button', { type: 'button', class: 'btn btn-small', onclick: () => this.resend() },
        h('span', { html: ICONS.send }), 'Resend verification email');
    }
    this.clickSimBtn = h('button', { type: 'button', class: 'btn btn-small btn-sandbox', hidden: true, onclick: () => this.simClick() },
      'Click link in SES simulator');
    this.verifyEl.append(h('p', { class: 'verify-times' }, this.lastSentEl, this.expiresEl),
      h('div', { class: 'verify-actions' }, this.resendBtn, this.clickSimBtn));

    // legacy: read-only + migrate
    this.legacyEl = h('div', { class: 'sd-legacy', hidden: true },
      h('p', {}, 'Set up before custom sender domains existed. It keeps working as it is, but it is read-only here: migrate it to manage its verification, status and sender name on this card.'));
    if (canEdit) {
      this.migrateBtn = h('button', { type: 'button', class: 'btn btn-small', onclick: () => this.migrate() },
        h('span', { html: ICONS.migrate }), `Migrate`);
      this.migrateBtn.setAttribute('aria-label', `Migrate ${d.identity}`);
      this.legacyEl.append(this.migrateBtn);
    }

    // DNS records disclosure
    const panelId = `sd-row-${n}-dns`;
    this.dnsBtn = h('button', {
      type: 'button', class: 'disclosure', 'aria-expanded': 'false', 'aria-controls': panelId,
      onclick: () => this.toggleDns(),
    }, h('span', { html: ICONS.chevron }), h('span', { class: 'disclosure-label' }, 'DNS records'));
    this.dnsPanel = h('div', { class: 'dns-panel', id: panelId, hidden: true, role: 'region', 'aria-label': `DNS records for ${d.identity}` });
    this.dnsWrap = h('div', { class: 'dns-wrap', hidden: true }, this.dnsBtn, this.dnsPanel);

    this.el = h('li', { class: 'sd-row', 'aria-labelledby': this.nameEl.id, dataset: { identity: d.identity } },
      h('div', { class: 'sd-row-head' },
        h('span', { class: 'sd-type-icon', html: d.type === 'email' ? ICONS.mail : ICONS.globe }),
        h('div', { class: 'sd-title' }, this.nameEl, this.subEl),
        actions),
      this.tagsEl,
      this.summaryEl,
      this.checkEl,
      this.noticeEl,
      this.legacyEl,
      this.verifyEl,
      this.senderField,
      this.msgEl,
      this.dnsWrap);
  }

  destroy() {
    clearTimeout(this.nameTimer);
    this.el.remove();
  }

  update(d) {
    this.data = d;
    const managed = isManaged(d);
    const email = d.type === 'email';
    this.el.dataset.kind = d.kind || 'managed';
    this.el.dataset.type = d.type;
    this.el.dataset.dkim = d.dkim_status || '';
    this.el.dataset.mailFrom = d.mail_from_status || '';
    this.el.classList.toggle('is-legacy', !managed);
    this.el.classList.toggle('is-failed', d.dkim_status === 'failed');

    // subtitle: kind, type, added
    const sub = [];
    if (!managed) sub.push(h('span', { class: 'badge badge-legacy', html: ICONS.legacy }, 'Legacy'));
    sub.push(h('span', {}, email ? 'Single email address' : 'Domain'));
    if (d.created_at) sub.push(h('span', {}, 'added ', timeEl(d.created_at)));
    if (managed && d.origin === 'adopted') sub.push(h('span', { title: 'This identity already existed in Amazon SES; it was adopted, not created.' }, 'adopted from Amazon SES'));
    this.subEl.replaceChildren(...sub.flatMap((x, i) => (i ? [h('span', { class: 'dot', 'aria-hidden': 'true' }, '·'), x] : [x])));

    this.renderTags(d);
    this.renderSummary(d);
    this.checkResolve(d);
    this.renderNotice(d);

    // sender name
    const name = d.sender_name || '';
    if (this.senderInput) {
      const editing = document.activeElement === this.senderInput || this.nameTimer || this.nameSaving;
      if (!editing && this.senderInput.value !== name) this.senderInput.value = name;
      if (!editing) this.savedName = name;
      this.senderInput.setAttribute('aria-label', `Sender name for ${d.identity}`);
    } else {
      this.senderText.textContent = name || 'Not set';
      this.senderText.classList.toggle('muted', !name);
    }

    // single address waiting for its link
    const pendingEmail = managed && email && d.dkim_status === 'pending';
    this.verifyEl.hidden = !pendingEmail;
    if (pendingEmail) {
      this.lastSentEl.replaceChildren(...(d.verification_email_sent_at
        ? ['Last sent ', timeEl(d.verification_email_sent_at)] : ['Not sent yet']));
      this.expiresEl.replaceChildren(...(d.verification_link_expires_at
        ? [h('span', { class: 'dot', 'aria-hidden': 'true' }, '·'), ' link expires ', timeEl(d.verification_link_expires_at)] : []));
      if (this.resendBtn) this.resendBtn.setAttribute('aria-label', `Resend verification email to ${d.identity}`);
      this.clickSimBtn.hidden = !state.sandbox;
    }

    // legacy
    this.legacyEl.hidden = managed;

    // DNS records (domains, and any row that has records)
    const records = Array.isArray(d.dns_records) ? d.dns_records : [];
    this.dnsWrap.hidden = records.length === 0;
    const key = JSON.stringify(records) + '|' + d.dkim_status + '|' + d.mail_from_status + '|' + state.sandbox;
    if (key !== this.recordsKey) {
      this.recordsKey = key;
      this.dnsBtn.querySelector('.disclosure-label').textContent = `DNS records (${records.length})`;
      this.renderDns(d, records);
    }
  }

  renderTags(d) {
    const tags = [];
    const managed = isManaged(d);
    if (d.type === 'email') {
      if (managed) tags.push(tag('verification', 'Address', d.dkim_status));
      if (d.dkim_inherited_from) {
        tags.push(tag('dkim', 'DKIM', 'inherited', `Inherited from ${d.dkim_inherited_from}`));
      } else {
        // an address has no DKIM of its own; a legacy sender's is unknown here
        tags.push(tag('dkim', 'DKIM', 'not_configured'));
      }
      tags.push(tag('mail_from', 'MAIL FROM', d.mail_from_status || 'not_configured'));
    } else {
      tags.push(tag('dkim', 'DKIM', d.dkim_status));
      tags.push(tag('mail_from', 'MAIL FROM', d.mail_from_status || 'not_configured'));
    }
    if (managed && d.state && d.state !== 'ready') {
      tags.push(h('span', { class: 'tag tag-warn', dataset: { tag: 'setup', status: d.state } },
        h('span', { html: ICONS.spin }), h('span', {}, 'Setting up in Amazon SES')));
    }
    if (d.verified_for_sending && managed) {
      tags.push(h('span', { class: 'tag tag-ok tag-sending', dataset: { tag: 'sending', status: 'ready' } },
        h('span', { html: ICONS.check }), h('span', {}, 'Ready to send')));
    }
    this.tagsEl.replaceChildren(...tags);
  }

  renderSummary(d) {
    const managed = isManaged(d);
    const from = state.defaultFrom || "the platform's default sender";
    let text = '';
    if (!managed) {
      text = d.verified_for_sending === false
        ? 'Legacy sender: not usable for sending.'
        : `Legacy sender: reports can be sent from ${d.identity}.`;
    } else if (d.type === 'email') {
      if (d.dkim_status === 'verified') text = `Verified: reports can be sent from ${d.identity}.`;
      else if (d.dkim_status === 'pending') text = `Amazon SES emailed a verification link to ${d.identity}. Open it within 24 hours. Until then ${this.fallbackText(from)}.`;
      else if (d.dkim_status === 'failed') text = `Not verified: ${this.fallbackText(from)}.`;
    } else if (managed && d.ownership === 'unproven' && d.state !== 'failed') {
      const rec = (d.dns_records || []).find((x) => x.group === 'ownership');
      text = rec
        ? `Ownership not proven yet: publish the TXT record ${rec.name} (under DNS records). Until DNS shows it, reports go out from ${from}.`
        : `Ownership not proven: reports go out from ${from}.`;
    } else {
      if (d.dkim_status === 'verified') {
        text = `Verified: reports can be sent from any address at ${d.identity}` +
          (d.mail_from_domain && d.mail_from_status === 'verified' ? `, with bounces going to ${d.mail_from_domain}.` : '.');
        if (d.mail_from_status === 'pending') text += ` The MAIL FROM records for ${d.mail_from_domain} are still missing; mail is sent meanwhile.`;
      } else if (d.dkim_status === 'pending') {
        text = `Waiting for DNS: publish the DKIM records at your DNS provider. Amazon SES looks for them for up to 72 hours. Until then reports go out from ${from}.`;
      } else if (d.dkim_status === 'failed') {
        text = `Not verified: reports go out from ${from}.`;
      }
    }
    this.summaryEl.textContent = text;

    // what SES last saw
    const vi = d.verification_info || {};
    const bits = [];
    if (managed && d.dkim_status === 'pending' && vi.error_type) {
      bits.push(ERROR_TYPES[vi.error_type] || `Amazon SES reported ${vi.error_type}.`);
    }
    if (managed && d.last_checked_at) bits.push(h('span', {}, 'Checked ', timeEl(d.last_checked_at)));
    if (managed && isPending(d) && d.next_check_at) {
      bits.push(Date.parse(d.next_check_at) > Date.now()
        ? h('span', {}, 'next check ', timeEl(d.next_check_at))
        : h('span', {}, 'next check due now'));
    }
    if (managed && vi.last_success_at && d.dkim_status !== 'verified') bits.push(h('span', {}, 'last found ', timeEl(vi.last_success_at)));
    // tenant safety: an unverified claim ends (docs/decisions.md)
    if (managed && d.claim_expires_at && d.state !== 'failed' && d.ownership === 'unproven') {
      // an unproven row holds no claim: the first workspace to prove wins
      bits.push(h('span', {}, 'prove it before ', timeEl(d.claim_expires_at), '; until then another workspace that proves it first takes it'));
    } else if (managed && d.claim_expires_at && d.state !== 'failed' && !d.verified_for_sending) {
      bits.push(h('span', {}, `another workspace may claim this ${d.type === 'email' ? 'address' : 'domain'} after `, timeEl(d.claim_expires_at)));
    }
    this.checkEl.replaceChildren(...bits.flatMap((x, i) => (i ? [h('span', { class: 'dot', 'aria-hidden': 'true' }, '·'), x] : [x])));
    this.checkEl.hidden = bits.length === 0;
  }

  /** What the send path really uses meanwhile (GET resolve), e.g. a migrated legacy sender. */
  fallbackText(defaultFrom) {
    const r = this.resolved;
    if (r && r.source === 'legacy') return `reports keep going out as before, from ${r.from} (its legacy setup)`;
    if (r && r.source !== 'default' && !r.fallback) return `reports go out from ${r.from}`;
    return `reports go out from ${r ? r.from : defaultFrom}`;
  }

  async checkResolve(d) {
    if (!isManaged(d) || d.type !== 'email' || d.dkim_status === 'verified') return;
    const key = `${d.identity}|${d.dkim_status}|${d.sender_name}`;
    if (key === this.resolveKey) return;
    this.resolveKey = key;
    try {
      this.resolved = await api('GET', 'resolve?from=' + encodeURIComponent(d.identity));
      this.renderSummary(this.data);
    } catch {
      this.resolved = null;   // keep the plain wording
    }
  }

  renderNotice(d) {
    const managed = isManaged(d);
    const key = JSON.stringify([d.dkim_status, d.mail_from_status, d.last_error, d.dns_hint, d.state, d.ownership, state.canEdit]);
    if (key === this.noticeKey) return;
    this.noticeKey = key;
    const parts = [];
    let kind = 'warn';
    let restart = false;
    const who = state.canEdit ? '' : ' Ask a workspace admin to do this.';
    if (managed && d.state === 'failed') {
      // the claim ended: last_error carries the explanation and the restart
      kind = 'bad';
      const code = d.last_error && d.last_error.code;
      parts.push(h('strong', {}, code === 'registered_outside' ? 'Not yours to use. '
        : code === 'claimed_elsewhere' ? 'Proved by another workspace. ' : 'Claim expired. '),
        (d.last_error && d.last_error.message) || 'Remove this sender and add it again.', who);
      restart = state.canEdit;
    } else if (managed && d.ownership === 'unproven' && hasOwnershipRecord(d)) {
      // a domain verified in SES outside this workspace: the DNS proof
      const rec = d.dns_records.find((x) => x.group === 'ownership');
      parts.push(h('strong', {}, 'Ownership not proven yet. '),
        `Amazon SES already has ${d.identity} verified on this platform, but nothing shows yet that it is yours, so reports go out from the default sender. ` +
        'To prove that you control the domain, add this TXT record at your DNS provider: ',
        h('br'), h('code', { dataset: { own: 'name' } }, rec.name), ' TXT ',
        h('code', { dataset: { own: 'value' } }, rec.value), h('br'),
        'This page checks it by itself (or use Refresh). Other workspaces cannot hold this domain once you have proved it.' + who);
    } else if (managed && d.ownership === 'unproven') {
      kind = 'bad';
      parts.push(h('strong', {}, 'Ownership not proven. '),
        `Amazon SES has ${d.identity} verified, but not for this workspace, so reports go out from the default sender. ` +
        (d.type === 'domain' ? 'Remove it and add it again to get the DNS record that proves it is yours, or contact support.' : 'Contact support.'));
    } else if (managed && d.dkim_status === 'failed') {
      kind = 'bad';
      if (d.type === 'email') {
        parts.push(h('strong', {}, 'Verification failed. '),
          'The verification link was not opened within 24 hours, so Amazon SES stopped waiting. ' +
          'To start again, remove this address (trash icon) and add it again; a new link is sent.' + who);
      } else {
        parts.push(h('strong', {}, 'Verification failed. '),
          'Amazon SES stopped checking after 72 hours without finding the DKIM records. ' +
          'To start again, remove this domain (trash icon) and add it again, then publish the new DNS records it shows.' + who);
      }
      restart = state.canEdit;
    } else if (managed && d.mail_from_status === 'failed') {
      parts.push(h('strong', {}, 'MAIL FROM failed. '),
        `Amazon SES stopped checking the records of ${d.mail_from_domain || 'the MAIL FROM domain'} after 72 hours. ` +
        "Mail is still sent, with Amazon SES's own bounce domain. To try again, remove the domain and add it again, then publish all records." + who);
      restart = state.canEdit;
    }
    if (managed && d.state !== 'failed' && d.last_error && d.last_error.message) {
      if (parts.length) parts.push(h('br'));
      parts.push(h('strong', {}, 'Last attempt failed: '), d.last_error.message,
        d.state && d.state !== 'ready' ? ' It is retried automatically.' : '');
    }
    // still pending after an hour: the refresher looked at DNS (dns_hint)
    if (managed && d.state !== 'failed' && d.dns_hint) {
      const hint = d.dns_hint;
      if (parts.length) parts.push(h('br'));
      if (hint.verdict === 'ok') {
        parts.push(h('strong', {}, 'Still pending. '),
          'DNS shows every record as it should be; Amazon SES has not seen them yet. It usually does within a few hours.');
      } else {
        parts.push(h('strong', {}, 'Still pending: DNS shows why. '), hint.summary);
        const list = h('ul', { class: 'dns-hint' });
        for (const p of hint.problems || []) list.append(h('li', {}, p.diagnosis));
        parts.push(list);
      }
    }
    this.noticeEl.hidden = parts.length === 0;
    this.noticeEl.className = `notice notice-${kind}`;
    if (!parts.length) { this.noticeEl.replaceChildren(); return; }
    this.noticeEl.replaceChildren(h('span', { class: 'notice-icon', html: ICONS.warn }), h('div', { class: 'notice-body' },
      h('p', {}, ...parts),
      restart ? h('button', {
        type: 'button', class: 'btn btn-small', 'aria-label': `Start again with ${d.identity}`,
        onclick: () => openRemove(this, { restart: true }),
      }, 'Remove and add again…') : ''));
  }

  renderDns(d, records) {
    const groups = GROUPS.map((g) => ({ ...g, records: records.filter((r) => r.group === g.key) }))
      .filter((g) => g.records.length);
    // groups the API may add later still show up
    const known = new Set(GROUPS.map((g) => g.key));
    const extra = records.filter((r) => !known.has(r.group));
    if (extra.length) groups.push({ key: 'other', title: 'Other records', req: '', intro: '', records: extra });

    const panel = this.dnsPanel;
    panel.replaceChildren();
    panel.append(h('p', { class: 'dns-intro' },
      'Add these records at your DNS provider (where you manage ', h('strong', {}, d.identity.split('@').pop()),
      '). Changes usually show up within minutes; this page updates by itself.'));

    if (state.sandbox && d.type === 'domain') {
      const btn = h('button', { type: 'button', class: 'btn btn-small btn-sandbox' }, 'Publish in SES simulator');
      btn.setAttribute('aria-label', `Publish DNS records of ${d.identity} in the SES simulator`);
      btn.addEventListener('click', () => this.simPublish(btn));
      panel.append(h('div', { class: 'sandbox-hint' },
        h('span', { class: 'sandbox-badge' }, 'Sandbox'),
        h('span', {}, "Publishes the records in the sandbox's own DNS server (Knot), where the simulated Amazon SES and the check below see them."),
        btn));
    }

    // what DNS shows now (GET /{identity}/dns), under each record
    this.recordEls = new Map();
    if (d.type === 'domain' && isManaged(d)) {
      const check = h('button', { type: 'button', class: 'btn btn-small dns-check-btn' }, 'Check DNS now');
      check.setAttribute('aria-label', `Check the DNS records of ${d.identity} now`);
      check.addEventListener('click', () => this.checkDns(check));
      this.dnsSummaryEl = h('p', { class: 'dns-check-summary', role: 'status', 'aria-live': 'polite' });
      panel.append(h('div', { class: 'dns-check' }, check, this.dnsSummaryEl));
    }

    let i = 0;
    for (const g of groups) {
      const status = g.key === 'dkim' ? d.dkim_status : g.key === 'mail_from' ? d.mail_from_status : null;
      const gid = `sd-row-${this.seq}-grp-${g.key}`;
      const section = h('section', { class: `dns-group dns-group-${g.key}`, 'aria-labelledby': gid, dataset: { group: g.key } },
        h('div', { class: 'dns-group-head' },
          h('h4', { id: gid }, g.title, g.req ? ' ' : '', g.req ? h('span', { class: `req req-${g.req.toLowerCase()}` }, `(${g.req})`) : ''),
          status && STATUS[status] ? tag(`grp-${g.key}`, '', status) : ''),
        g.intro ? h('p', { class: 'dns-group-intro' }, g.intro) : '');
      if (g.key === 'mail_from' && d.mail_from_domain) {
        section.querySelector('.dns-group-intro')?.append(` MAIL FROM domain: ${d.mail_from_domain}.`);
      }
      const list = h('ol', { class: 'records' });
      for (const r of g.records) {
        i += 1;
        const li = h('li', { class: 'record', dataset: { type: r.type } },
          h('div', { class: 'record-grid' },
            h('span', { class: 'record-label' }, 'Type'),
            h('span', { class: 'record-type' }, r.type),
            h('span', { class: 'record-label' }, 'Name'),
            h('div', { class: 'record-val' }, h('code', { class: 'record-name' }, r.name),
              copyButton(r.name, `Copy name of ${r.type} record ${i}`)),
            h('span', { class: 'record-label' }, 'Value'),
            h('div', { class: 'record-val' }, h('code', { class: 'record-value' }, r.value),
              copyButton(r.value, `Copy value of ${r.type} record ${i}`))),
          r.explanation ? h('p', { class: 'record-expl' }, r.explanation) : '',
          h('div', { class: 'record-check', hidden: true }));
        this.recordEls.set(`${r.type} ${r.name}`, li);
        list.append(li);
      }
      section.append(list);
      panel.append(section);
    }
  }

  toggleDns(force) {
    this.expanded = force === undefined ? !this.expanded : force;
    this.dnsBtn.setAttribute('aria-expanded', String(this.expanded));
    this.dnsPanel.hidden = !this.expanded;
    this.el.classList.toggle('is-open', this.expanded);
    // a domain not verified yet: look at DNS at once, once per rendering
    const d = this.data;
    if (this.expanded && d && d.type === 'domain' && isManaged(d) && d.state === 'ready'
        && (d.dkim_status !== 'verified' || d.ownership === 'unproven'
            || (d.mail_from_domain && d.mail_from_status !== 'verified'))
        && this.checkedKey !== this.recordsKey) {
      this.checkedKey = this.recordsKey;
      this.checkDns(this.dnsPanel.querySelector('.dns-check-btn'));
    }
  }

  // GET /{identity}/dns: each record's verdict and what to do, under it
  async checkDns(btn) {
    if (!this.dnsSummaryEl) return;
    this.setBusy(btn, true);
    this.dnsSummaryEl.textContent = 'Looking up the records in DNS…';
    let res;
    try {
      res = await api('GET', idPath(this.id, 'dns'));
    } catch (e) {
      this.dnsSummaryEl.textContent = e.message;
      this.setBusy(btn, false);
      return;
    }
    this.setBusy(btn, false);
    this.dnsSummaryEl.textContent = res.zone && res.zone.verdict !== 'ok'
      ? res.zone.diagnosis : res.summary;
    this.dnsSummaryEl.dataset.verdict = res.verdict;
    for (const r of res.records || []) {
      const li = this.recordEls.get(`${r.type} ${r.name}`);
      const box = li && li.querySelector('.record-check');
      if (!box) continue;
      const v = VERDICTS[r.verdict] || VERDICTS.unknown;
      box.hidden = false;
      box.className = `record-check record-check-${v.cls}`;
      box.dataset.verdict = r.verdict;
      box.dataset.reason = r.reason;
      box.replaceChildren(
        h('p', { class: 'record-check-head' }, h('span', { class: `tag tag-${v.cls}` }, v.text),
          ' ', h('span', { class: 'record-check-text' }, r.diagnosis)),
        r.found && r.found.length
          ? h('p', { class: 'record-check-found' }, 'DNS shows: ',
            ...r.found.map((f, k) => h('code', {}, (k ? ', ' : '') + f)))
          : '');
    }
  }

  setBusy(btn, busy) {
    if (!btn) return;
    btn.disabled = busy;
    btn.setAttribute('aria-busy', String(busy));
  }

  message(text, kind = 'info') {
    this.msgEl.textContent = text;
    this.msgEl.className = `row-msg row-msg-${kind}`;
  }

  async act(btn, fn) {
    state.generation++;
    this.setBusy(btn, true);
    this.message('');
    try {
      return await fn();
    } catch (e) {
      this.message(e.message, 'error');
      if (e.code === 'plan_required') load();
      else if (e.code === 'not_found') { flash(`${this.id} no longer exists.`, 'error'); load(); }
      return null;
    } finally {
      this.setBusy(btn, false);
      state.generation++;
      schedulePoll();
    }
  }

  async refresh() {
    this.refreshBtn.classList.add('spinning');
    const row = await this.act(this.refreshBtn, () => api('POST', idPath(this.id, 'refresh')));
    this.refreshBtn.classList.remove('spinning');
    if (row) {
      this.update(row);
      const parts = row.type === 'email'
        ? [`address ${STATUS[row.dkim_status]?.text.toLowerCase() || row.dkim_status}`]
        : [`DKIM ${STATUS[row.dkim_status]?.text.toLowerCase() || row.dkim_status}`,
          `MAIL FROM ${STATUS[row.mail_from_status]?.text.toLowerCase() || row.mail_from_status}`];
      flash(`Status of ${row.identity} refreshed: ${parts.join(', ')}.`);
    }
  }

  async resend() {
    const row = await this.act(this.resendBtn, () => api('POST', idPath(this.id, 'resend-verification')));
    if (row) {
      this.update(row);
      this.message(`Verification email sent to ${row.identity}. The new link is valid for 24 hours.`, 'ok');
    }
  }

  async migrate() {
    const row = await this.act(this.migrateBtn, () => api('POST', idPath(this.id, 'migrate')));
    if (row) {
      flash(`${row.identity} migrated. It keeps sending as before while its status is checked.`, 'ok');
      // the row changes kind: rebuild it with the managed controls
      const old = state.rows.get(this.id);
      const view = new RowView(row);
      state.rows.set(row.identity, view);
      old.el.replaceWith(view.el);
      view.nameEl.focus();
      load();
    }
  }

  nameInput() {
    clearTimeout(this.nameTimer);
    this.setSaveStatus('', '');
    this.nameTimer = setTimeout(() => { this.nameTimer = 0; this.saveName(); }, NAME_DEBOUNCE_MS);
  }

  nameCommit() {
    clearTimeout(this.nameTimer);
    this.nameTimer = 0;
    this.saveName();
  }

  setSaveStatus(text, kind) {
    this.senderStatus.textContent = text;
    this.senderStatus.className = `save-status ${kind ? 'save-' + kind : ''}`;
    this.senderInput.setAttribute('aria-invalid', String(kind === 'error'));
  }

  async saveName() {
    if (!this.senderInput) return;
    const value = this.senderInput.value.trim();
    if (value === this.savedName) {
      if (this.senderStatus.classList.contains('save-error')) this.setSaveStatus('', '');
      return;
    }
    if (this.nameSaving) { this.nameAgain = true; return; }
    this.nameSaving = true;
    state.generation++;
    this.setSaveStatus('Saving…', 'busy');
    try {
      const row = await api('PATCH', idPath(this.id), { sender_name: value });
      this.savedName = row.sender_name ?? value;
      this.setSaveStatus('Saved', 'ok');
      this.data = row;
      // refresh the rest of the row without touching what is being typed
      const typing = this.senderInput.value.trim() !== this.savedName;
      if (!typing) this.update(row);
    } catch (e) {
      this.setSaveStatus(`Couldn't save: ${e.message}`, 'error');
    } finally {
      this.nameSaving = false;
      state.generation++;
      if (this.nameAgain) { this.nameAgain = false; this.saveName(); }
    }
  }

  async simPublish(btn) {
    this.setBusy(btn, true);
    try {
      await sim('POST', 'dns/publish', { identity: this.id });
      flash(`DNS records of ${this.id} published in the SES simulator. Checking now…`);
      await this.refresh();
    } catch (e) {
      this.message(`Simulator: ${e.message}`, 'error');
    } finally {
      this.setBusy(btn, false);
    }
  }

  async simClick() {
    this.setBusy(this.clickSimBtn, true);
    try {
      await sim('POST', 'click', { identity: this.id });
      flash(`Verification link of ${this.id} clicked in the SES simulator. Checking now…`);
      await this.refresh();
    } catch (e) {
      this.message(`Simulator: ${e.message}`, 'error');
    } finally {
      this.setBusy(this.clickSimBtn, false);
    }
  }
}

function tag(key, label, status, text) {
  const s = STATUS[status] || { text: status || 'Unknown', cls: 'muted', icon: 'dash' };
  return h('span', { class: `tag tag-${s.cls}`, dataset: { tag: key, status: status || '' } },
    h('span', { html: ICONS[s.icon] }),
    label ? h('span', { class: 'tag-label' }, label) : '',
    h('span', { class: 'tag-value' }, text || s.text));
}

function copyButton(text, label) {
  const btn = h('button', { type: 'button', class: 'copy-btn', 'aria-label': label, title: 'Copy to clipboard' },
    h('span', { html: ICONS.copy }), h('span', { class: 'copy-text' }, 'Copy'));
  let timer = 0;
  btn.addEventListener('click', async () => {
    const txt = btn.querySelector('.copy-text');
    clearTimeout(timer);
    try {
      if (!navigator.clipboard || !window.isSecureContext) throw new Error('no clipboard');
      await navigator.clipboard.writeText(text);
      txt.textContent = 'Copied';
      btn.classList.add('copied');
      flash('Copied to clipboard.', 'ok');
    } catch {
      // select the text so that Ctrl+C works
      const code = btn.previousElementSibling;
      const range = document.createRange();
      range.selectNodeContents(code);
      const sel = getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
      txt.textContent = 'Press Ctrl+C';
      flash("Couldn't copy automatically: the text is selected, press Ctrl+C (⌘C on a Mac).", 'error');
    }
    timer = setTimeout(() => { txt.textContent = 'Copy'; btn.classList.remove('copied'); }, 2500);
  });
  return btn;
}

/* ------------------------------------------------------------------ */
/* the Add dialog                                                      */
/* ------------------------------------------------------------------ */

const addDialog = document.getElementById('sd-add-dialog');
const addForm = document.getElementById('sd-add-form');
const identityInput = document.getElementById('sd-identity');
const identityLabel = document.getElementById('sd-identity-label');
const identityError = document.getElementById('sd-identity-error');
const mailFromField = document.getElementById('sd-mailfrom-field');
const mailFromInput = document.getElementById('sd-mailfrom');
const mailFromError = document.getElementById('sd-mailfrom-error');
const mailFromSuffix = document.getElementById('sd-mailfrom-suffix');
const addError = document.getElementById('sd-add-error');
const addSubmit = document.getElementById('sd-add-submit');
const typeHint = document.getElementById('sd-type-hint');

const addType = () => addForm.elements.type.value;

function syncAddType() {
  const email = addType() === 'email';
  identityLabel.textContent = email ? 'Email address' : 'Domain';
  identityInput.placeholder = email ? 'reports@acme.com' : 'acme.com';
  identityInput.type = email ? 'email' : 'text';
  mailFromField.hidden = email;
  mailFromInput.disabled = email;
  addSubmit.textContent = email ? 'Add address' : 'Add domain';
  typeHint.textContent = email
    ? 'Amazon SES emails a one-click verification link to this address; reports can come only from this address. Use this when you cannot change DNS.'
    : 'Verifying the whole domain lets reports come from any address on it. You publish a few DNS records.';
  syncSuffix();
  clearAddErrors();
}

function syncSuffix() {
  const v = identityInput.value.trim().replace(/^.*@/, '');
  mailFromSuffix.textContent = '.' + (v || 'your-domain');
}

function clearAddErrors() {
  for (const [input, el] of [[identityInput, identityError], [mailFromInput, mailFromError]]) {
    el.textContent = '';
    input.removeAttribute('aria-invalid');
  }
  addError.textContent = '';
}

function fieldError(input, el, message) {
  el.textContent = message;
  input.setAttribute('aria-invalid', 'true');
  input.focus();
}

addBtn.addEventListener('click', () => {
  addForm.reset();
  mailFromInput.value = 'pmail';
  syncAddType();
  addDialog.returnValue = '';
  addDialog.showModal();
  identityInput.focus();
});
for (const radio of addForm.elements.type) radio.addEventListener('change', syncAddType);
identityInput.addEventListener('input', () => {
  syncSuffix();
  if (identityInput.getAttribute('aria-invalid')) { identityError.textContent = ''; identityInput.removeAttribute('aria-invalid'); }
});
mailFromInput.addEventListener('input', () => {
  if (mailFromInput.getAttribute('aria-invalid')) { mailFromError.textContent = ''; mailFromInput.removeAttribute('aria-invalid'); }
});
document.getElementById('sd-add-cancel').addEventListener('click', () => addDialog.close('cancel'));
addDialog.addEventListener('close', () => {
  if (addDialog.returnValue !== 'added') addBtn.focus();
});

addForm.addEventListener('submit', async (e) => {
  e.preventDefault();
  clearAddErrors();
  const type = addType();
  const identity = identityInput.value.trim();
  if (!identity) {
    fieldError(identityInput, identityError, type === 'email' ? 'Enter the email address to verify.' : 'Enter the domain to verify, like acme.com.');
    return;
  }
  if (type === 'email' && !/^[^@\s]+@[^@\s]+$/.test(identity)) {
    fieldError(identityInput, identityError, 'Enter a full email address, like reports@acme.com.');
    return;
  }
  if (type === 'domain' && identity.includes('@')) {
    fieldError(identityInput, identityError, 'Enter only the domain (the part after @), or choose "Single email address".');
    return;
  }
  const payload = { identity, type };
  if (type === 'domain') payload.mail_from_subdomain = mailFromInput.value.trim() || 'pmail';

  addSubmit.disabled = true;
  const label = addSubmit.textContent;
  addSubmit.textContent = 'Adding…';
  addForm.setAttribute('aria-busy', 'true');
  state.generation++;
  try {
    const row = await api('POST', '', payload);
    addDialog.close('added');
    flash(type === 'email'
      ? `${row.identity} added. Amazon SES sent it a verification email.`
      : `${row.identity} added. Publish its DNS records to verify it.`, 'ok');
    await load();
    const view = state.rows.get(row.identity);
    if (view) {
      if (view.data.dns_records?.length) view.toggleDns(true);
      view.nameEl.focus();
      view.el.scrollIntoView({ block: 'nearest' });
    } else addBtn.focus();
  } catch (err) {
    if (err.code === 'invalid_subdomain') fieldError(mailFromInput, mailFromError, err.message);
    else if (err.code === 'invalid_identity' || err.code === 'already_exists') fieldError(identityInput, identityError, err.message);
    else if (err.code === 'already_registered') {
      fieldError(identityInput, identityError,
        `${err.message} If it is yours, ask that workspace's admin to remove it, or contact support.`);
    } else addError.textContent = err.message;
    if (err.code === 'plan_required') { addDialog.close(); load(); }
  } finally {
    addSubmit.disabled = false;
    addSubmit.textContent = label;
    addForm.removeAttribute('aria-busy');
    state.generation++;
  }
});

/* ------------------------------------------------------------------ */
/* the Remove dialog                                                   */
/* ------------------------------------------------------------------ */

const removeDialog = document.getElementById('sd-remove-dialog');
const removeForm = document.getElementById('sd-remove-form');
const removeText = document.getElementById('sd-remove-text');
const removeError = document.getElementById('sd-remove-error');
const removeConfirm = document.getElementById('sd-remove-confirm');
let removeTarget = null;

let removeRestart = false;
let removeOpener = null;

function openRemove(view, { restart = false } = {}) {
  removeTarget = view;
  removeRestart = restart;
  removeOpener = document.activeElement;
  const d = view.data;
  const from = state.defaultFrom || "the platform's default sender";
  document.getElementById('sd-remove-title').textContent = restart ? `Start again with ${d.identity}?` : `Remove ${d.identity}?`;
  removeConfirm.textContent = restart ? 'Remove and add again' : 'Remove';
  if (restart) {
    removeText.replaceChildren(
      h('p', {}, `${d.identity} is removed and added again, so that Amazon SES starts verifying it from the beginning` +
        (d.type === 'email' ? ' and sends a new verification email.' : '. It gets new DKIM records: publish those, and delete the old ones.')),
      h('p', {}, 'Until it is verified, reports go out from ', h('strong', {}, from), '.'));
  } else removeText.replaceChildren(
    h('p', {}, `Reports that use ${d.type === 'email' ? 'this address' : 'this domain'} will be sent from `, h('strong', {}, from), ' instead.'),
    h('p', {}, d.origin === 'adopted'
      ? 'It already existed in Amazon SES before it was added here, so it is only released there, not deleted.'
      : 'It is also deleted from Amazon SES. To use it again you will have to add it and verify it again' +
        (d.type === 'email' ? '.' : ' with new DNS records.')));
  removeError.textContent = '';
  removeConfirm.disabled = false;
  removeConfirm.setAttribute('aria-label', restart ? `Remove and add again ${d.identity}` : `Remove ${d.identity}`);
  removeDialog.showModal();
  document.getElementById('sd-remove-cancel').focus();
}

document.getElementById('sd-remove-cancel').addEventListener('click', () => removeDialog.close('cancel'));
removeDialog.addEventListener('close', () => {
  if (removeDialog.returnValue !== 'removed' && removeOpener?.isConnected) removeOpener.focus();
  removeDialog.returnValue = '';
});

removeForm.addEventListener('submit', async (e) => {
  e.preventDefault();
  const view = removeTarget;
  if (!view) return;
  removeConfirm.disabled = true;
  removeError.textContent = '';
  state.generation++;
  if (removeRestart) { await restartIdentity(view); state.generation++; return; }
  try {
    await api('DELETE', idPath(view.id));
    // where focus goes next: the following row, else the previous one, else Add
    const next = view.el.nextElementSibling || view.el.previousElementSibling;
    view.destroy();
    state.rows.delete(view.id);
    removeDialog.close('removed');
    flash(`${view.id} removed. Reports now go out from ${state.defaultFrom || "the platform's default sender"}.`, 'ok');
    await load();
    const target = next && [...state.rows.values()].find((v) => v.el === next);
    (target ? target.nameEl : addBtn.hidden ? card : addBtn).focus();
  } catch (err) {
    removeError.textContent = err.code === 'not_found' ? `${view.id} was already removed.` : err.message;
    removeConfirm.disabled = false;
    if (err.code === 'not_found') load();
  } finally {
    state.generation++;
  }
});

/** "Remove and add again": the documented way to restart a failed verification. */
async function restartIdentity(view) {
  const d = view.data;
  const payload = { identity: d.identity, type: d.type };
  const suffix = '.' + d.identity;
  if (d.type === 'domain' && d.mail_from_domain && d.mail_from_domain.endsWith(suffix)) {
    payload.mail_from_subdomain = d.mail_from_domain.slice(0, -suffix.length);
  }
  try {
    await api('DELETE', idPath(d.identity));
  } catch (err) {
    if (err.code !== 'not_found') {
      removeError.textContent = err.message;
      removeConfirm.disabled = false;
      return;
    }
  }
  try {
    const row = await api('POST', '', payload);
    removeDialog.close('removed');
    flash(d.type === 'email'
      ? `${row.identity} added again. Amazon SES sent a new verification email.`
      : `${row.identity} added again. Publish its new DNS records to verify it.`, 'ok');
  } catch (err) {
    removeDialog.close('removed');
    flash(`${d.identity} was removed, but adding it again failed: ${err.message} Use Add domain to try again.`, 'error');
  }
  await load();
  const again = state.rows.get(d.identity);
  if (again) {
    if (again.data.dns_records?.length) again.toggleDns(true);
    again.nameEl.focus();
  } else addBtn.focus();
}

/* ------------------------------------------------------------------ */
/* sandbox bar                                                         */
/* ------------------------------------------------------------------ */

function getCookie(name) {
  const m = document.cookie.match(new RegExp('(?:^|;\\s*)' + name + '=([^;]*)'));
  return m ? decodeURIComponent(m[1]) : '';
}
// nginx's $cookie_* hands the value over as it is (not URL-decoded), so values
// are stored raw; only characters a cookie cannot hold are percent-encoded.
function setCookie(name, value) {
  const safe = String(value).replace(/[^\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]/g, encodeURIComponent);
  document.cookie = value
    ? `${name}=${safe}; path=/; SameSite=Lax`
    : `${name}=; path=/; max-age=0; SameSite=Lax`;
}

async function detectSandbox() {
  try {
    const res = await fetch(SANDBOX + 'health', { cache: 'no-store' });
    if (!res.ok) return false;
    const data = await res.json().catch(() => null);
    return !!(data && data.ok);
  } catch {
    return false;
  }
}

function initSandboxBar() {
  const bar = document.getElementById('sandbox-bar');
  const form = document.getElementById('sandbox-form');
  const ws = document.getElementById('sb-workspace');
  const role = document.getElementById('sb-role');
  const plan = document.getElementById('sb-plan');
  const trial = document.getElementById('sb-trial');
  ws.value = getCookie('sd_workspace') || 'acme';
  role.value = getCookie('sd_role') || 'admin';
  const p = getCookie('sd_plan') || 'professional';
  if (![...plan.options].some((o) => o.value === p)) plan.append(h('option', { value: p }, p));
  plan.value = p;
  const te = getCookie('sd_trial_ends');
  const t = Number.isFinite(Date.parse(te)) ? Date.parse(te) : Number(te) * 1000;
  trial.value = te ? (t > Date.now() ? 'active' : 'ended') : '';
  bar.hidden = false;
  document.body.classList.add('has-sandbox');

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    setCookie('sd_workspace', ws.value.trim());
    setCookie('sd_role', role.value);
    setCookie('sd_plan', plan.value);
    const day = 86400000;
    setCookie('sd_trial_ends', trial.value === 'active'
      ? new Date(Date.now() + 14 * day).toISOString().replace(/\.\d+Z$/, 'Z')
      : trial.value === 'ended' ? new Date(Date.now() - day).toISOString().replace(/\.\d+Z$/, 'Z') : '');
    flash(`Acting as ${role.value} of workspace "${ws.value.trim() || 'acme'}" on the ${plan.value} plan.`);
    state.mode = 'loading';
    resetRows();
    body.replaceChildren(h('p', { class: 'loading' }, 'Loading sender domains…'));
    load();
  });
}

/* ------------------------------------------------------------------ */
/* start                                                               */
/* ------------------------------------------------------------------ */

async function start() {
  const [isSandbox] = await Promise.all([detectSandbox(), load()]);
  state.sandbox = isSandbox;
  if (isSandbox) {
    initSandboxBar();
    for (const view of state.rows.values()) { view.recordsKey = ''; view.update(view.data); }
  }
  card.dataset.sandboxActive = String(isSandbox);
  document.documentElement.dataset.ready = 'true';
}

start();
