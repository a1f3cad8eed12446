import { FHIR_R4_RESOURCE_TYPES, WILDCARD_EXCLUDED_FHIR_TYPES } from '../scopes/resource-types.js';

/**
 * The pages' only static assets, served by the app (no CDN, no bundler). The script is progressive
 * enhancement: every page works without it (forms post, previews render server-side).
 */
export const PORTAL_CSS = `
:root { --fg:#1b1f24; --muted:#57606a; --line:#d0d7de; --bg:#fff; --accent:#0b5cad; --bad:#a40e26; --ok:#1a7f37; --warn:#9a6700; }
* { box-sizing: border-box; }
[hidden] { display:none !important; }
body { margin:0; font: 16px/1.5 system-ui, sans-serif; color:var(--fg); background:#f6f8fa; }
.skip { position:absolute; left:-999px; } .skip:focus { left:8px; top:8px; background:#fff; padding:4px; }
header.top { display:flex; gap:1.5rem; align-items:center; padding:.5rem 1.5rem; background:#24292f; color:#fff; flex-wrap:wrap; }
header.top a, header.top .link { color:#fff; }
header.top nav ul { list-style:none; display:flex; gap:1rem; margin:0; padding:0; }
header.top a[aria-current=page] { font-weight:700; text-decoration:underline; }
.brand { font-weight:700; }
.signout { margin-left:auto; display:flex; gap:.75rem; align-items:center; }
main { max-width:1100px; margin:1.5rem auto; background:var(--bg); padding:1.5rem 2rem; border:1px solid var(--line); border-radius:6px; }
h1 { margin-top:0; font-size:1.6rem; }
table { border-collapse:collapse; width:100%; margin:1rem 0; }
caption { text-align:left; font-weight:600; padding:.25rem 0; }
th, td { border-bottom:1px solid var(--line); padding:.4rem .5rem; text-align:left; vertical-align:top; }
.badge { display:inline-block; padding:0 .5rem; border-radius:1rem; font-size:.85rem; font-weight:600; border:1px solid; }
.badge-draft { color:var(--muted); } .badge-under_review { color:var(--warn); } .badge-active { color:var(--ok); } .badge-rejected { color:var(--bad); }
.notice { border-left:4px solid var(--accent); background:#ddf4ff; padding:.5rem 1rem; margin:1rem 0; }
.error-box { border-left:4px solid var(--bad); background:#ffebe9; padding:.5rem 1rem; margin:1rem 0; }
.warning-box { border-left:4px solid var(--warn); background:#fff8c5; padding:.5rem 1rem; margin:1rem 0; }
.field-error { color:var(--bad); margin:.2rem 0 .6rem; font-weight:600; }
.hint { color:var(--muted); margin:.2rem 0 .6rem; font-size:.92rem; } .hint.warning { color:var(--warn); }
label { display:block; font-weight:600; margin-top:.6rem; }
.choice label, .op label, .inline label { display:inline; font-weight:400; margin:0 .75rem 0 .25rem; }
input:not([type=radio]):not([type=checkbox]), textarea, select { width:100%; max-width:40rem; padding:.35rem; font:inherit; border:1px solid var(--line); border-radius:4px; }
input[aria-invalid=true], textarea[aria-invalid=true], select[aria-invalid=true] { border-color:var(--bad); }
fieldset { border:1px solid var(--line); border-radius:6px; margin:1rem 0; padding:.5rem 1rem 1rem; }
fieldset.inline, fieldset.rule { border-style:dashed; }
legend { font-weight:700; padding:0 .25rem; }
.buttons { display:flex; gap:.75rem; margin:1rem 0; flex-wrap:wrap; align-items:center; }
button, .button { font:inherit; padding:.4rem 1rem; border-radius:4px; border:1px solid var(--accent); background:#fff; color:var(--accent); cursor:pointer; text-decoration:none; display:inline-block; }
button.primary, .button.primary { background:var(--accent); color:#fff; }
button.danger { border-color:var(--bad); background:var(--bad); color:#fff; }
button.link { border:none; background:none; padding:0; text-decoration:underline; }
button:disabled { opacity:.5; cursor:not-allowed; }
code, pre { font-family: ui-monospace, monospace; font-size:.9rem; }
pre { background:#f6f8fa; padding:.75rem; overflow:auto; border:1px solid var(--line); border-radius:4px; }
.secret { font-size:1.05rem; background:#fff8c5; padding:.5rem; border:1px solid var(--warn); word-break:break-all; }
dl.constants { display:grid; grid-template-columns: max-content 1fr; gap:.25rem 1rem; }
dl.constants dt { font-weight:600; } dl.constants dd { margin:0; word-break:break-all; }
.ok { color:var(--ok); } .bad, li.error { color:var(--bad); } li.warning { color:var(--warn); }
.risk-high { color:var(--bad); font-weight:600; } .risk-medium { color:var(--warn); font-weight:600; } .risk-low { color:var(--muted); }
ul.scopes { list-style:none; padding:0; display:flex; flex-wrap:wrap; gap:.5rem; } ul.scopes li { background:#eaeef2; padding:0 .5rem; border-radius:4px; }
.tabs { list-style:none; padding:0; }
.grid2 { display:grid; grid-template-columns: 1fr 1fr; gap:1rem; }
.diff del { color:var(--bad); } .diff ins { color:var(--ok); text-decoration:none; }
`;

/** Kept in step with scopes/build.ts for the live preview; the server-side preview and the API stay authoritative. */
export function portalScript(): string {
  const excluded = JSON.stringify(WILDCARD_EXCLUDED_FHIR_TYPES);
  const known = JSON.stringify(FHIR_R4_RESOURCE_TYPES);
  return `'use strict';
(function () {
  var LETTER = { create: 'c', read: 'r', update: 'u', delete: 'd', search: 's' };
  var ORDER = 'cruds';
  var EXCLUDED = ${excluded};
  var KNOWN = ${known};
  var V1 = { rs: 'read', cud: 'write', cruds: '*' };

  function sorted(letters) { return ORDER.split('').filter(function (l) { return letters.indexOf(l) >= 0; }).join(''); }

  function buildScopes(version, rows) {
    var merged = {}, order = [], errors = [], notes = [];
    rows.forEach(function (row, i) {
      if (!row.resource && row.letters.length === 0) return;
      if (!row.resource) { errors.push('Rule ' + (i + 1) + ': choose a resource type or *.'); return; }
      if (row.resource !== '*' && KNOWN.indexOf(row.resource) < 0) { errors.push('Rule ' + (i + 1) + ': ' + row.resource + ' is not a FHIR R4 resource type.'); return; }
      if (row.letters.length === 0) { errors.push('Rule ' + (i + 1) + ': choose at least one operation.'); return; }
      var letters = sorted(row.letters.join(''));
      if (version === 'v1' && !V1[letters]) { errors.push('Rule ' + (i + 1) + ': v1 can only say read (read + search), write (create + update + delete) or both; choose v2 for exactly these operations.'); return; }
      if (!merged[row.resource]) { merged[row.resource] = ''; order.push(row.resource); }
      merged[row.resource] = sorted(merged[row.resource] + letters);
    });
    var suffix = function (letters) { return version === 'v1' ? (V1[letters] || letters) : letters; };
    var wildcard = merged['*'];
    var kept = order.filter(function (type) {
      if (type === '*' || !wildcard || EXCLUDED.indexOf(type) >= 0) return true;
      var covered = merged[type].split('').every(function (l) { return wildcard.indexOf(l) >= 0; });
      if (covered) notes.push('system/' + type + '.' + suffix(merged[type]) + ' is dropped: system/*.' + suffix(wildcard) + ' already grants it.');
      return !covered;
    });
    kept.sort(function (a, b) { return a === b ? 0 : a === '*' ? -1 : b === '*' ? 1 : a < b ? -1 : 1; });
    return { strings: kept.map(function (t) { return 'system/' + t + '.' + suffix(merged[t]); }), errors: errors, notes: notes };
  }

  function readRows(form) {
    return Array.prototype.map.call(form.querySelectorAll('[data-rule]'), function (fs) {
      var resource = (fs.querySelector('input[list]') || { value: '' }).value.trim();
      var letters = [];
      Object.keys(LETTER).forEach(function (op) {
        var box = fs.querySelector('input[type=checkbox][name$="-' + op + '"]');
        if (box && box.checked) letters.push(LETTER[op]);
      });
      return { resource: resource, letters: letters };
    });
  }

  function el(tag, text, cls) { var e = document.createElement(tag); if (text) e.textContent = text; if (cls) e.className = cls; return e; }

  function renderPreview(form) {
    var target = document.getElementById('scope-preview');
    if (!target) return;
    var version = (form.querySelector('input[name=version]:checked') || { value: 'v2' }).value;
    var result = buildScopes(version, readRows(form));
    target.textContent = '';
    if (result.errors.length) {
      var ul = el('ul', '', 'preview-errors');
      result.errors.forEach(function (m) { ul.appendChild(el('li', m)); });
      target.appendChild(ul);
    }
    if (result.strings.length) {
      var list = el('ul', '', 'scopes');
      result.strings.forEach(function (s) { var li = el('li'); li.appendChild(el('code', s)); list.appendChild(li); });
      target.appendChild(list);
    } else if (!result.errors.length) {
      target.appendChild(el('p', 'Choose a resource type and operations to see the scope strings.'));
    }
    result.notes.forEach(function (n) { target.appendChild(el('p', n, 'hint')); });
  }

  function addRow(form) {
    var rows = form.querySelectorAll('[data-rule]');
    var last = rows[rows.length - 1];
    if (!last) return;
    var next = rows.length;
    var copy = last.cloneNode(true);
    copy.querySelectorAll('[id],[name],[for],[aria-label]').forEach(function (node) {
      ['id', 'name', 'for'].forEach(function (attr) {
        var v = node.getAttribute(attr);
        if (v) node.setAttribute(attr, v.replace(/^rule-\\d+-/, 'rule-' + next + '-'));
      });
      var label = node.getAttribute('aria-label');
      if (label) node.setAttribute('aria-label', label.replace(/\\d+$/, String(next + 1)));
    });
    copy.querySelectorAll('.field-error').forEach(function (n) { n.remove(); });
    copy.querySelectorAll('input').forEach(function (input) {
      if (input.type === 'checkbox') input.checked = false; else input.value = '';
      input.removeAttribute('aria-invalid'); input.removeAttribute('aria-describedby');
    });
    copy.querySelector('legend').textContent = 'Scope rule ' + (next + 1);
    last.parentNode.appendChild(copy);
    var first = copy.querySelector('input[list]');
    if (first) first.focus();
  }

  function toggleAuth(form) {
    var secret = form.querySelector('input[name=authType][value=client_secret]');
    var box = form.querySelector('[data-auth=jwks_uri]');
    if (secret && box && secret.type === 'radio') box.hidden = secret.checked;
  }

  document.addEventListener('DOMContentLoaded', function () {
    var form = document.querySelector('form.registration');
    if (form) {
      form.addEventListener('input', function () { renderPreview(form); });
      form.addEventListener('change', function () { renderPreview(form); toggleAuth(form); });
      var add = form.querySelector('[data-add-row]');
      if (add) add.addEventListener('click', function (event) { event.preventDefault(); addRow(form); renderPreview(form); });
      renderPreview(form);
      toggleAuth(form);
    }
    document.querySelectorAll('[data-copy-target]').forEach(function (button) {
      button.hidden = false;
      button.addEventListener('click', function () {
        var source = document.getElementById(button.getAttribute('data-copy-target'));
        var status = document.getElementById(button.getAttribute('data-copy-status'));
        var value = source ? (source.value !== undefined ? source.value : source.textContent) : '';
        navigator.clipboard.writeText(value).then(function () {
          if (status) status.textContent = 'Copied to the clipboard.';
        }, function () {
          if (status) status.textContent = 'Copying failed: select the secret and copy it by hand.';
        });
      });
    });
  });
})();
`;
}
