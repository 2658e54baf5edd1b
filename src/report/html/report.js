(() => {
'use strict';
const t0 = performance.now();
const $ = (id) => document.getElementById(id);
const tbody = $('rows');
const table = $('matrix');
const countEl = $('count');
const toolbar = $('toolbar');
function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}
function hidden(e) { e.setAttribute('aria-hidden', 'true'); return e; }
let D;
try {
  D = JSON.parse($('data').textContent);
} catch (e) {
  const td = tbody.querySelector('td');
  if (td) td.textContent = 'The embedded data could not be read: ' + e.message;
  return;
}
const tJson = performance.now();
const SEV = ['ok', 'info', 'warn', 'fail'];
const ICON = ['\u2713', '\u2139', '\u26A0', '\u2716'];
const CH = ['new', 'changed', 'fixed', 'gone', 'unchanged'];
const CH_ICON = { new: '\u25B2', changed: '\u21BB', fixed: '\u2713', gone: '\u2205', unchanged: '\u00B7' };
const CH_RANK = { new: 0, changed: 1, fixed: 2, gone: 3, unchanged: 4 };
const PHASE = { dns: 0, tcp: 1, rdp: 2, tls: 3, cert: 4, nla: 5 };
const PHASE_NAME = { dns: 'DNS', tcp: 'TCP', rdp: 'RDP', tls: 'TLS', cert: 'certificate', nla: 'NLA', host: 'host' };
const EXP = ['expired', '7', '30', '90'];
const rows = Array.isArray(D.rows) ? D.rows : [];
const cols = Array.isArray(D.cols) ? D.cols : [];
const codes = D.codes || {};
const fields = D.fields || [];
const extras = D.extras || [];
const nCols = Math.max(1, cols.length);
const S = Array.isArray(D.strings) ? D.strings : [];
// Client profiles (id -> name) in table order; a row's r.k holds [id, 0 no / 1 yes / 2 unknown, reason].
const CLIENTS = new Map((Array.isArray(D.clients) ? D.clients : []).filter(Array.isArray).map((c) => [String(c[0]), String(c[1])]));
const CONNECTS = ['no', 'yes', 'unknown'];
const CONNECTS_ICON = ['\u2716', '\u2713', '?'];
// Shared values arrive as indexes into D.strings (see html.rs); resolve them once.
const sv = (v) => (typeof v === 'number' ? (S[v] ?? '') : (v ?? ''));
const OVERSCAN = 12;
const fmt = (n) => n.toLocaleString('en-US');

// What the first paint needs, per row: resolved cells and a natural-order host key.
const natKey = (s) => String(s).toLowerCase().replace(/\d+/g, (m) => m.padStart(12, '0'));
for (const r of rows) {
  r.x = Array.isArray(r.x) ? r.x : [];
  r.c = Array.isArray(r.c) ? r.c : [];
  r.f = Array.isArray(r.f) ? r.f : [];
  r.d = Array.isArray(r.d) ? r.d : [];
  r.k = Array.isArray(r.k) ? r.k.filter((k) => Array.isArray(k) && typeof k[0] === 'string') : [];
  for (const c of r.c) { c[1] = sv(c[1]); if (c.length > 2) c[2] = sv(c[2]); }
  r.hk = natKey(r.h);
}
const tParsed = performance.now();
// The rest (details, one lower-case search string) is built in idle slices after the first
// paint, or at once when a search or an expanded row needs it first.
function indexRow(r) {
  if (r.q !== undefined) return;
  for (const f of r.f) { f[3] = sv(f[3]); f[4] = sv(f[4]); }
  for (const d of r.d) d[1] = sv(d[1]);
  for (const k of r.k) k[2] = sv(k[2]);
  const parts = [r.h, r.a, r.si || '', r.ow || '', r.v, r.ch || '', r.fs || ''];
  for (const x of r.x) parts.push(x);
  for (const c of r.c) parts.push(c[1]);
  for (const f of r.f) parts.push(f[0], f[3]);
  for (const d of r.d) parts.push(d[1]);
  for (const k of r.k) parts.push(k[2]);
  r.q = parts.join('\n').toLowerCase();
}
let indexed = 0;
function indexAll() { for (; indexed < rows.length; indexed++) indexRow(rows[indexed]); }
function indexSlice() {
  const end = performance.now() + 8;
  for (; indexed < rows.length && performance.now() < end; indexed++) indexRow(rows[indexed]);
  if (indexed < rows.length) setTimeout(indexSlice, 0);
  else window.rdpsweep.timings.indexedMs = performance.now() - t0;
}

// Sorting: `cmp` is the column's order (flipped by direction), `then` breaks ties in a fixed way.
const str = (a, b) => (a < b ? -1 : a > b ? 1 : 0);
const lower = (v) => String(v || '').toLowerCase();
const SORTS = {
  change: { first: 1, cmp: (a, b) => (CH_RANK[a.ch] ?? 9) - (CH_RANK[b.ch] ?? 9) },
  host: { first: 1, cmp: (a, b) => str(a.hk, b.hk) },
  addr: { first: 1, cmp: (a, b) => str(a.ak, b.ak) },
  verdict: { first: -1, cmp: (a, b) => a.s - b.s, then: (a, b) => str(a.v, b.v) },
  site: { first: 1, cmp: (a, b) => str(lower(a.si), lower(b.si)) },
  owner: { first: 1, cmp: (a, b) => str(lower(a.ow), lower(b.ow)) },
};
for (const [id, k] of Object.entries(PHASE)) {
  SORTS[id] = {
    first: -1,
    cmp: (a, b) => ((a.c[k] || [-1])[0] - (b.c[k] || [-1])[0]),
    then: (a, b) => str((a.c[k] || [0, ''])[1], (b.c[k] || [0, ''])[1]),
  };
}
extras.forEach((_, j) => { SORTS['x' + j] = { first: 1, cmp: (a, b) => str(lower(a.x[j]), lower(b.x[j])) }; });
const tiebreak = (a, b) => (b.s - a.s) || str(a.hk, b.hk) || str(a.ak, b.ak) || (a.p - b.p);
const DEFAULT_SORT = D.baseline ? 'change' : 'verdict';

const state = { q: '', sev: new Set(), ch: new Set(), verdict: '', code: '', site: '', owner: '', exp: '', client: '',
  sort: DEFAULT_SORT, dir: SORTS[DEFAULT_SORT].first };

// ---- URL fragment <-> state, so a reload (or a shared link) keeps the view
function readHash() {
  let p;
  try { p = new URLSearchParams(location.hash.replace(/^#/, '')); } catch (e) { p = new URLSearchParams(); }
  state.q = p.get('q') || '';
  state.sev = new Set((p.get('sev') || '').split(',').filter((s) => SEV.includes(s)));
  state.ch = new Set((p.get('change') || '').split(',').filter((s) => CH.includes(s)));
  state.verdict = p.get('verdict') || '';
  state.code = p.get('code') || '';
  state.site = p.get('site') || '';
  state.owner = p.get('owner') || '';
  state.client = p.get('client') || '';
  state.exp = EXP.includes(p.get('exp')) ? p.get('exp') : '';
  const s = p.get('sort');
  state.sort = s && Object.prototype.hasOwnProperty.call(SORTS, s) ? s : DEFAULT_SORT;
  const dir = p.get('dir');
  state.dir = dir === 'asc' ? 1 : dir === 'desc' ? -1 : SORTS[state.sort].first;
}
function hashOf() {
  const p = new URLSearchParams();
  if (state.q) p.set('q', state.q);
  if (state.sev.size) p.set('sev', SEV.filter((s) => state.sev.has(s)).reverse().join(','));
  if (state.ch.size) p.set('change', CH.filter((s) => state.ch.has(s)).join(','));
  if (state.verdict) p.set('verdict', state.verdict);
  if (state.code) p.set('code', state.code);
  if (state.site) p.set('site', state.site);
  if (state.owner) p.set('owner', state.owner);
  if (state.client) p.set('client', state.client);
  if (state.exp) p.set('exp', state.exp);
  if (state.sort !== DEFAULT_SORT || state.dir !== SORTS[DEFAULT_SORT].first) {
    p.set('sort', state.sort);
    p.set('dir', state.dir > 0 ? 'asc' : 'desc');
  }
  const h = p.toString();
  return h ? '#' + h : '';
}
let ownHash = null;
function writeHash() {
  const want = hashOf();
  if ((location.hash || '') === want) return;
  ownHash = want;
  try {
    history.replaceState(null, '', location.href.split('#')[0] + want);
  } catch (e) {
    try { location.replace(want || '#'); } catch (e2) { /* the view still works without it */ }
  }
}
window.addEventListener('hashchange', () => {
  if ((location.hash || '') === ownHash) return;
  readHash();
  syncControls();
  apply(true);
});

// ---- controls
const qEl = $('q'), verdictEl = $('f-verdict'), siteEl = $('f-site'), ownerEl = $('f-owner'), expEl = $('f-exp');
const clientEl = $('f-client');
const sevBox = $('f-sev'), chBox = $('f-ch');
function countBy(get) {
  const m = new Map();
  for (const r of rows) { const v = get(r); if (v) m.set(v, (m.get(v) || 0) + 1); }
  return m;
}
function fillSelect(sel, counts, order) {
  if (!sel) return;
  const keys = [...counts.keys()].sort(order || ((a, b) => str(lower(a), lower(b))));
  for (const k of keys) {
    const o = el('option', null, k + ' (' + fmt(counts.get(k)) + ')');
    o.value = k;
    sel.append(o);
  }
  if (!keys.length) sel.closest('label').hidden = true;
}
const verdictSev = new Map();
for (const r of rows) verdictSev.set(r.v, Math.max(verdictSev.get(r.v) ?? -1, r.s));
fillSelect(verdictEl, countBy((r) => r.v), (a, b) => (verdictSev.get(b) - verdictSev.get(a)) || str(a, b));
fillSelect(siteEl, countBy((r) => r.si));
fillSelect(ownerEl, countBy((r) => r.ow));
// "Show hosts where <client> fails": every profile present in the data, in table order.
if (clientEl) {
  const failing = new Map();
  for (const r of rows) for (const k of r.k) failing.set(k[0], (failing.get(k[0]) || 0) + (k[1] === 0 ? 1 : 0));
  const rank = (id) => { const i = [...CLIENTS.keys()].indexOf(id); return i < 0 ? CLIENTS.size : i; };
  const ids = [...failing.keys()].sort((a, b) => (rank(a) - rank(b)) || str(a, b));
  for (const id of ids) {
    const o = el('option', null, (CLIENTS.get(id) || id) + ' (' + fmt(failing.get(id)) + ')');
    o.value = id;
    clientEl.append(o);
  }
  if (!ids.length) clientEl.closest('label').hidden = true;
}
function chip(box, cls, value, icon, label, n, key) {
  const b = el('button', 'chip ' + cls);
  b.type = 'button';
  b.dataset.value = value;
  b.setAttribute('aria-pressed', 'false');
  b.append(hidden(el('span', 'ic', icon)), ' ' + label + ' ', el('span', 'n', fmt(n)));
  b.addEventListener('click', () => {
    const set = state[key];
    if (set.has(value)) set.delete(value); else set.add(value);
    syncControls();
    apply(false);
  });
  box.append(b);
}
const sevCounts = [0, 0, 0, 0];
for (const r of rows) if (!r.g && sevCounts[r.s] !== undefined) sevCounts[r.s]++;
if (sevBox) for (const s of [3, 2, 1, 0]) chip(sevBox, 's-' + SEV[s], SEV[s], ICON[s], SEV[s], sevCounts[s], 'sev');
if (chBox) {
  const cc = countBy((r) => r.ch);
  for (const c of CH) chip(chBox, 'c-any c-' + c, c, CH_ICON[c], c, cc.get(c) || 0, 'ch');
}
// The code filter ("show hosts" in the causes panel) is shown as a removable chip.
const codeChip = el('button', 'chip c-any');
codeChip.type = 'button';
codeChip.hidden = true;
codeChip.setAttribute('aria-pressed', 'true');
codeChip.addEventListener('click', () => { state.code = ''; syncControls(); apply(false); });
toolbar.insertBefore(codeChip, $('reset'));

function ensureOption(sel, v) {
  if (!sel || !v) return;
  if (![...sel.options].some((o) => o.value === v)) { const o = el('option', null, v); o.value = v; sel.append(o); }
}
function syncControls() {
  if (qEl && qEl.value !== state.q) qEl.value = state.q;
  ensureOption(verdictEl, state.verdict); ensureOption(siteEl, state.site); ensureOption(ownerEl, state.owner);
  ensureOption(clientEl, state.client);
  if (clientEl) clientEl.value = state.client;
  if (verdictEl) verdictEl.value = state.verdict;
  if (siteEl) siteEl.value = state.site;
  if (ownerEl) ownerEl.value = state.owner;
  if (expEl) expEl.value = state.exp;
  for (const b of sevBox ? sevBox.querySelectorAll('button') : []) b.setAttribute('aria-pressed', String(state.sev.has(b.dataset.value)));
  for (const b of chBox ? chBox.querySelectorAll('button') : []) b.setAttribute('aria-pressed', String(state.ch.has(b.dataset.value)));
  codeChip.hidden = !state.code;
  codeChip.textContent = state.code ? 'finding: ' + state.code + ' \u2715' : '';
  codeChip.setAttribute('aria-label', 'Remove the filter on finding ' + state.code);
}
let qTimer = 0;
if (qEl) {
  qEl.addEventListener('input', () => {
    clearTimeout(qTimer);
    qTimer = setTimeout(() => { state.q = qEl.value; apply(false); }, 150);
  });
  qEl.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter') { clearTimeout(qTimer); state.q = qEl.value; apply(false); }
    if (ev.key === 'Escape' && qEl.value) { qEl.value = ''; clearTimeout(qTimer); state.q = ''; apply(false); }
  });
}
for (const [sel, key] of [[verdictEl, 'verdict'], [siteEl, 'site'], [ownerEl, 'owner'], [expEl, 'exp'], [clientEl, 'client']]) {
  if (sel) sel.addEventListener('change', () => { state[key] = sel.value; apply(false); });
}
$('reset').addEventListener('click', () => {
  state.q = ''; state.sev.clear(); state.ch.clear(); state.verdict = ''; state.code = '';
  state.site = ''; state.owner = ''; state.exp = ''; state.client = '';
  syncControls();
  apply(false);
});
document.addEventListener('keydown', (ev) => {
  if (ev.key === '/' && qEl && document.activeElement !== qEl && !/^(INPUT|SELECT|TEXTAREA)$/.test(ev.target.tagName)) {
    ev.preventDefault();
    qEl.focus();
  }
});
// Header shortcuts: severity cards, change counts, expiry tiles, verdicts and causes.
function focusMatrix() {
  syncControls();
  apply(false);
  $('h-matrix').scrollIntoView({ block: 'start' });
}
function only(set, v) { const was = set.size === 1 && set.has(v); set.clear(); if (!was) set.add(v); }
// A card may stand for several row severities (healthy hosts: ok and info rows).
function onlyAll(set, vs) { const was = set.size === vs.length && vs.every((v) => set.has(v)); set.clear(); if (!was) for (const v of vs) set.add(v); }
for (const b of document.querySelectorAll('.card[data-sev]')) b.addEventListener('click', () => { onlyAll(state.sev, b.dataset.sev.split(',')); focusMatrix(); });
for (const b of document.querySelectorAll('.chg[data-ch]')) b.addEventListener('click', () => { only(state.ch, b.dataset.ch); focusMatrix(); });
for (const b of document.querySelectorAll('.tile[data-exp]')) b.addEventListener('click', () => { state.exp = state.exp === b.dataset.exp ? '' : b.dataset.exp; focusMatrix(); });
for (const b of document.querySelectorAll('[data-verdict]')) b.addEventListener('click', () => { state.verdict = b.dataset.verdict; focusMatrix(); });
for (const b of document.querySelectorAll('[data-code]')) b.addEventListener('click', () => { state.code = b.dataset.code; focusMatrix(); });

// ---- filter + sort
let sortedAll = null, sortedBy = '';
function sortAll() {
  const key = state.sort + ':' + state.dir;
  if (sortedAll && sortedBy === key) return;
  const spec = SORTS[state.sort] || SORTS[DEFAULT_SORT];
  const dir = state.dir;
  const idx = rows.map((_, i) => i);
  idx.sort((i, j) => {
    const a = rows[i], b = rows[j];
    return dir * spec.cmp(a, b) || (spec.then ? spec.then(a, b) : 0) || tiebreak(a, b);
  });
  sortedAll = idx;
  sortedBy = key;
}
function pass(r, terms) {
  if (state.sev.size && !state.sev.has(SEV[r.s])) return false;
  if (state.ch.size && !state.ch.has(r.ch)) return false;
  if (state.verdict && r.v !== state.verdict) return false;
  if (state.code && !r.f.some((f) => f[0] === state.code)) return false;
  if (state.site && (r.si || '') !== state.site) return false;
  if (state.owner && (r.ow || '') !== state.owner) return false;
  if (state.client && !r.k.some((k) => k[0] === state.client && k[1] === 0)) return false;
  if (state.exp) {
    if (typeof r.e !== 'number') return false;
    if (state.exp === 'expired' ? r.e >= 0 : (r.e < 0 || r.e > Number(state.exp))) return false;
  }
  for (const t of terms) if (!r.q.includes(t)) return false;
  return true;
}
let view = [];
const expanded = new Set();
const extraH = new Map();
let expPos = [];
let H = 30;
function reindex() {
  expPos = [];
  if (!expanded.size) return;
  for (let p = 0; p < view.length; p++) if (expanded.has(view[p])) expPos.push(p);
}
function apply(fromHash) {
  const t = performance.now();
  sortAll();
  const terms = state.q.toLowerCase().split(/\s+/).filter(Boolean);
  if (terms.length) indexAll();
  const out = [];
  for (const i of sortedAll) if (pass(rows[i], terms)) out.push(i);
  view = out;
  reindex();
  countEl.textContent = view.length === rows.length
    ? fmt(rows.length) + ' rows'
    : 'Showing ' + fmt(view.length) + ' of ' + fmt(rows.length) + ' rows';
  for (const th of table.tHead.rows[0].cells) {
    if (th.dataset.col === state.sort) th.setAttribute('aria-sort', state.dir > 0 ? 'ascending' : 'descending');
    else th.removeAttribute('aria-sort');
  }
  if (!fromHash) writeHash();
  render(true);
  const ms = performance.now() - t;
  window.rdpsweep.lastApplyMs = ms;
  document.dispatchEvent(new CustomEvent('rdpsweep:applied', { detail: { shown: view.length, ms } }));
}
for (const th of table.tHead.rows[0].cells) {
  const id = th.dataset.col;
  const b = th.querySelector('button');
  if (!b || !SORTS[id]) continue;
  b.addEventListener('click', () => {
    if (state.sort === id) state.dir = -state.dir;
    else { state.sort = id; state.dir = SORTS[id].first; }
    apply(false);
  });
}

// ---- windowed rendering: only rows near the viewport exist in the DOM
const heightOf = (p) => extraH.get(view[p]) || 260;
function offset(pos) {
  let y = pos * H;
  for (const p of expPos) { if (p >= pos) break; y += heightOf(p); }
  return y;
}
function posAt(y) {
  let lo = 0, hi = Math.max(0, view.length - 1);
  while (lo < hi) { const mid = (lo + hi + 1) >> 1; if (offset(mid) <= y) lo = mid; else hi = mid - 1; }
  return lo;
}
function spacer(h) {
  const tr = el('tr', 'spacer');
  hidden(tr);
  const td = el('td');
  td.colSpan = nCols;
  td.style.height = h + 'px';
  tr.append(td);
  return tr;
}
function textCell(v, cls) {
  const td = el('td', cls, v || '');
  if (v) td.title = v;
  return td;
}
function sevCell(cls, sev, text, title) {
  const ok = sev >= 0 && sev <= 3;
  const td = el('td', cls + (ok ? ' s-' + SEV[sev] : ' s-na'));
  if (ok) td.append(hidden(el('span', 'ic', ICON[sev])), el('span', 'sr', SEV[sev] + ': '));
  td.append(text || (ok ? '' : '\u2014'));
  td.title = title || text || (ok ? SEV[sev] : 'not reached');
  return td;
}
function cell(id, r, i) {
  switch (id) {
    case 'change': {
      const td = el('td', 'chg-cell c-' + (CH.includes(r.ch) ? r.ch : 'unchanged'));
      // Unchanged rows stay quiet so the changes stand out; the word is still there for readers.
      if (r.ch === 'unchanged') td.append(hidden(el('span', 'ic', CH_ICON.unchanged)), el('span', 'sr', 'unchanged'));
      else td.append(hidden(el('span', 'ic', CH_ICON[r.ch] || '')), r.ch || '');
      td.title = r.fs ? (r.ch || '') + ' \u2014 failing since ' + r.fs : (r.ch || '');
      return td;
    }
    case 'host': {
      const td = el('td', 'host');
      const b = el('button', 'x');
      b.type = 'button';
      b.setAttribute('aria-expanded', expanded.has(i) ? 'true' : 'false');
      b.setAttribute('aria-label', 'Details for ' + r.h + (r.a ? ' ' + r.a : ''));
      b.append(hidden(el('span', null, '\u25B8')));
      td.append(b, r.h);
      if (r.p !== 3389) td.append(el('span', 'muted', ':' + r.p));
      td.title = r.h + (r.p !== 3389 ? ':' + r.p : '');
      return td;
    }
    case 'addr': return sevlessAddr(r);
    case 'verdict': {
      const info = codes[r.v];
      const first = r.f[0];
      const detail = first ? sv(first[3]) : '';
      return sevCell('verdict', r.s, r.v, (info ? info[2] : r.v) + (detail ? ' \u2014 ' + detail : ''));
    }
    case 'site': return textCell(r.si);
    case 'owner': return textCell(r.ow);
    default:
      if (Object.prototype.hasOwnProperty.call(PHASE, id)) {
        const c = r.c[PHASE[id]] || [-1, ''];
        return sevCell('ph', c[0], c[1], c[2]);
      }
      if (id.charAt(0) === 'x') return textCell(r.x[Number(id.slice(1))]);
      return el('td');
  }
}
function sevlessAddr(r) {
  const td = el('td', 'addr', r.a || '\u2014');
  td.title = r.a || 'no address';
  return td;
}
function rowEl(i, p) {
  const r = rows[i];
  const tr = el('tr', r.g ? 'r gone' : 'r');
  tr.dataset.i = String(i);
  tr.setAttribute('aria-rowindex', String(p + 2));
  for (const c of cols) tr.append(cell(c.id, r, i));
  return tr;
}
function detailEl(i) {
  const r = rows[i];
  indexRow(r);
  const tr = el('tr', 'dt');
  tr.dataset.i = String(i);
  const td = el('td');
  td.colSpan = nCols;
  const box = el('div', 'details');
  const fs = el('section', 'findings');
  fs.append(el('h4', null, 'Findings'));
  const ul = el('ul');
  for (const f of r.f) {
    const sev = SEV[f[1]] ? f[1] : 0;
    const info = codes[f[0]];
    const li = el('li', 's-' + SEV[sev]);
    const head = el('div');
    head.append(hidden(el('span', 'ic', ICON[sev])), el('span', 'sr', SEV[sev] + ': '), el('span', 'code', f[0]),
      el('span', 'ph', PHASE_NAME[f[2]] || f[2]));
    if (info && f[0] !== 'ok') head.append(el('span', 'sum', ' \u2014 ' + info[2]));
    li.append(head);
    if (f[3]) li.append(el('div', 'det', f[3]));
    const rem = f[4] || (info ? info[3] : '');
    if (rem && f[0] !== 'ok') { const d = el('div', 'rem'); d.append(el('span', 'fixlbl', 'Fix: '), rem); li.append(d); }
    ul.append(li);
  }
  fs.append(ul);
  box.append(fs);
  if (r.k.length) box.append(clientMatrix(r));
  const section = (title, pairs) => {
    const s = el('section');
    s.append(el('h4', null, title));
    const dl = el('dl');
    for (const [k, v] of pairs) dl.append(el('dt', null, k), el('dd', /thumbprint/i.test(k) ? 'mono' : null, v));
    s.append(dl);
    box.append(s);
  };
  if (r.ch) {
    const pairs = [['Change', r.ch]];
    if (r.fs) pairs.push(['Failing since', r.fs]);
    if (r.g) pairs.push(['Note', 'in the baseline but not scanned now; facts are from the baseline']);
    section('Since the baseline', pairs);
  }
  // Sections in first-seen order; the target's own fields come from the row itself.
  const order = ['Target'];
  const bySec = { Target: [['Host', r.h], ['Port', String(r.p)], ['Address', r.a || '\u2014']] };
  if (r.si) bySec.Target.push(['Site', r.si]);
  if (r.ow) bySec.Target.push(['Owner', r.ow]);
  for (const d of r.d) {
    const f = fields[d[0]] || ['Other', '?'];
    if (!bySec[f[0]]) { bySec[f[0]] = []; order.push(f[0]); }
    bySec[f[0]].push([f[1], d[1]]);
  }
  for (const name of order) section(name, bySec[name]);
  if (extras.length) section('Inventory', extras.map((name, j) => [name, r.x[j] || '']).filter((p) => p[1]));
  td.append(box);
  tr.append(td);
  return tr;
}
// This host x every client profile: yes / no / unknown, the deciding fact as the tooltip.
function clientMatrix(r) {
  const s = el('section', 'clients');
  s.append(el('h4', null, 'Clients'));
  const t = el('table', 'cm');
  t.append(el('caption', 'sr', 'Which client profiles can connect to this host (docs/clients.md)'));
  const head = el('tr');
  head.append(el('th', null, 'Host'));
  for (const k of r.k) {
    const th = el('th', null, k[0]);
    th.scope = 'col';
    th.title = CLIENTS.get(k[0]) || k[0];
    head.append(th);
  }
  const body = el('tr');
  const rh = el('th', null, r.h);
  rh.scope = 'row';
  body.append(rh);
  for (const k of r.k) {
    const c = CONNECTS[k[1]] ? k[1] : 2;
    const td = el('td', 'cv cv-' + CONNECTS[c]);
    td.dataset.profile = k[0];
    td.dataset.connects = CONNECTS[c];
    td.append(hidden(el('span', 'ic', CONNECTS_ICON[c])), ' ' + CONNECTS[c]);
    td.title = (CLIENTS.get(k[0]) || k[0]) + ': ' + (k[2] || CONNECTS[c]);
    body.append(td);
  }
  const thead = el('thead');
  thead.append(head);
  const tb = el('tbody');
  tb.append(body);
  t.append(thead, tb);
  s.append(t);
  return s;
}
let printing = false, curFirst = -1, curLast = -1, pending = false;
function render(force) {
  const n = view.length;
  let first = 0, last = n - 1;
  if (!printing && n > 0) {
    const top = tbody.getBoundingClientRect().top;
    const sticky = toolbar.offsetHeight + table.tHead.offsetHeight;
    const visTop = Math.max(0, sticky - top);
    const visBot = Math.max(0, window.innerHeight - top);
    first = Math.max(0, posAt(visTop) - OVERSCAN);
    last = Math.min(n - 1, posAt(visBot) + OVERSCAN);
  }
  if (!force && first === curFirst && last === curLast) return;
  curFirst = first;
  curLast = last;
  // Keep keyboard focus on the same row's control across re-renders.
  const active = document.activeElement;
  let focusRow = null;
  if (active && active !== document.body && tbody.contains(active)) {
    const tr = active.closest('tr');
    if (tr) focusRow = tr.dataset.i;
  }
  const frag = document.createDocumentFragment();
  if (n === 0) {
    const tr = el('tr');
    const td = el('td', 'empty', rows.length ? 'No row matches these filters.' : 'No rows: nothing was scanned.');
    td.colSpan = nCols;
    tr.append(td);
    frag.append(tr);
  } else {
    if (first > 0) frag.append(spacer(offset(first)));
    for (let p = first; p <= last; p++) {
      const i = view[p];
      frag.append(rowEl(i, p));
      if (expanded.has(i)) frag.append(detailEl(i));
    }
    const rest = offset(n) - offset(last + 1);
    if (rest > 0) frag.append(spacer(rest));
  }
  tbody.replaceChildren(frag);
  table.setAttribute('aria-rowcount', String(n + 1));
  table.dataset.shown = String(n);
  if (focusRow !== null) {
    const b = tbody.querySelector('tr.r[data-i="' + Number(focusRow) + '"] button.x');
    if (b) b.focus({ preventScroll: true });
  }
  if (!printing) measure();
}
function measure() {
  let changed = false;
  const r = tbody.querySelector('tr.r');
  if (r) {
    const h = r.getBoundingClientRect().height;
    if (h > 0 && Math.abs(h - H) > 0.5) { H = h; changed = true; }
  }
  for (const d of tbody.querySelectorAll('tr.dt')) {
    const h = d.getBoundingClientRect().height;
    const i = Number(d.dataset.i);
    if (h > 0 && Math.abs((extraH.get(i) || 0) - h) > 0.5) { extraH.set(i, h); changed = true; }
  }
  if (changed) schedule(true);
}
let forceNext = false;
function schedule(force) {
  forceNext = forceNext || !!force;
  if (pending) return;
  pending = true;
  requestAnimationFrame(() => { pending = false; const f = forceNext; forceNext = false; render(f); });
}
function toggle(i) {
  if (expanded.has(i)) expanded.delete(i); else expanded.add(i);
  reindex();
  render(true);
}
tbody.addEventListener('click', (ev) => {
  const t = ev.target;
  const tr = t.closest && t.closest('tr');
  if (!tr || !tr.classList.contains('r')) return;
  // A click that ends a text selection is for copying, not for expanding.
  if (!t.closest('button.x') && String(window.getSelection() || '').length) return;
  toggle(Number(tr.dataset.i));
});
function syncToolbarHeight() {
  document.documentElement.style.setProperty('--toolbar-h', toolbar.offsetHeight + 'px');
}
window.addEventListener('scroll', () => schedule(false), { passive: true });
window.addEventListener('resize', () => { syncToolbarHeight(); schedule(true); });
if (window.ResizeObserver) new ResizeObserver(syncToolbarHeight).observe(toolbar);
window.addEventListener('beforeprint', () => {
  printing = true;
  const parts = [];
  if (state.sev.size) parts.push('severity ' + [...state.sev].join('/'));
  if (state.ch.size) parts.push('change ' + [...state.ch].join('/'));
  for (const k of ['verdict', 'code', 'site', 'owner', 'exp', 'client']) if (state[k]) parts.push(k + ' ' + state[k]);
  if (state.q) parts.push('search \u201C' + state.q + '\u201D');
  $('printnote').textContent = fmt(view.length) + ' of ' + fmt(rows.length) + ' rows' + (parts.length ? '; filtered by ' + parts.join(', ') : '');
  render(true);
});
window.addEventListener('afterprint', () => { printing = false; render(true); });

window.rdpsweep = { total: rows.length, get shown() { return view.length; }, timings: {} };
readHash();
syncControls();
syncToolbarHeight();
apply(true);
const tReady = performance.now();
window.rdpsweep.timings = { jsonMs: tJson - t0, indexMs: tParsed - tJson, firstRenderMs: tReady - tParsed, scriptMs: tReady - t0 };
setTimeout(indexSlice, 0);
performance.mark('rdpsweep-ready');
document.documentElement.dataset.ready = '1';
})();
