import { FHIR_R4_RESOURCE_TYPES, WILDCARD_EXCLUDED_FHIR_TYPES } from '../scopes/resource-types.js';

/**
 * The pages' only static assets, served by the app (no CDN, no bundler). The script is progressive
 * enhancement: every page works without it (forms post, previews render server-side).
 */
export const PORTAL_CSS = `
:root { --fg:#1b1f24; --muted:#57606a; --line:#d0d7de; --bg:#fff; --accent:#0b5cad; --bad:#a40e26; --ok:#1a7f37; --warn:#7d5300; }
* { box-sizing: border-box; }
[hidden] { display:none !important; }
html { -webkit-text-size-adjust:100%; }
body { margin:0; font: 16px/1.5 system-ui, sans-serif; color:var(--fg); background:#f6f8fa; }
.skip { position:absolute; left:-999px; } .skip:focus { left:8px; top:8px; background:#fff; padding:4px; z-index:10; }
.visually-hidden { position:absolute; width:1px; height:1px; margin:-1px; padding:0; border:0; overflow:hidden; clip:rect(0 0 0 0); white-space:nowrap; }
header.top { display:flex; gap:.5rem 1.5rem; align-items:center; padding:.5rem 1.5rem; background:#24292f; color:#fff; flex-wrap:wrap; }
header.top a, header.top .link { color:#fff; }
header.top nav ul { list-style:none; display:flex; gap:1rem; margin:0; padding:0; }
header.top a[aria-current=page] { font-weight:700; text-decoration:underline; text-underline-offset:.3em; }
.brand { font-weight:700; }
.signout { margin-left:auto; display:flex; gap:.75rem; align-items:center; flex-wrap:wrap; }
main { max-width:1200px; margin:1.5rem auto; background:var(--bg); padding:1.5rem 2rem; border:1px solid var(--line); border-radius:6px; }
main > *, section, fieldset, details, .grid2 > * { min-width:0; }
h1 { margin-top:0; font-size:1.6rem; overflow-wrap:anywhere; }
h2 { font-size:1.25rem; margin:1.5rem 0 .5rem; }
/* Tables scroll inside their own box, never the page. */
.table-wrap { overflow-x:auto; margin:1rem 0; max-width:100%; position:relative; }
table { border-collapse:collapse; width:100%; }
caption { text-align:left; font-weight:600; padding:.25rem 0; }
th, td { border-bottom:1px solid var(--line); padding:.4rem .5rem; text-align:left; vertical-align:top; }
td code.id, td .nowrap, td time { white-space:nowrap; }
.badge { display:inline-block; padding:0 .5rem; border-radius:1rem; font-size:.85rem; font-weight:600; border:1px solid; white-space:nowrap; }
.badge-draft { color:var(--muted); } .badge-under_review { color:var(--warn); } .badge-active { color:var(--ok); } .badge-rejected { color:var(--bad); }
.badge-warn { color:var(--bad); background:#ffebe9; } .badge-info { color:var(--accent); }
.notice { border-left:4px solid var(--accent); background:#ddf4ff; padding:.5rem 1rem; margin:1rem 0; }
.error-box { border-left:4px solid var(--bad); background:#ffebe9; padding:.5rem 1rem; margin:1rem 0; }
.error-box:focus { outline:3px solid var(--bad); outline-offset:2px; }
.error-box a { color:var(--bad); font-weight:600; }
.warning-box { border-left:4px solid var(--warn); background:#fff8c5; padding:.5rem 1rem; margin:1rem 0; }
.field-error { color:var(--bad); margin:.2rem 0 .6rem; font-weight:600; }
.hint { color:var(--muted); margin:.2rem 0 .6rem; font-size:.92rem; } .hint.warning { color:var(--warn); }
label { display:block; font-weight:600; margin-top:.6rem; }
.choice { display:flex; gap:.5rem; align-items:flex-start; flex-wrap:wrap; margin:.5rem 0; }
.choice > label { margin:0; font-weight:600; }
.choice > .hint { flex-basis:100%; margin-left:2rem; }
.choice label, .op label, .inline label { font-weight:400; }
.ops, fieldset.inline .options { display:flex; flex-wrap:wrap; gap:.25rem 1.25rem; margin:.5rem 0; }
fieldset.inline > label { display:inline; margin:0 1rem 0 .4rem; font-weight:400; }
fieldset.inline > input { vertical-align:middle; }
.op, .radio { display:inline-flex; align-items:center; gap:.4rem; min-height:2rem; }
.op label, .radio label { display:inline; margin:0; }
input[type=checkbox], input[type=radio] { width:1.5rem; height:1.5rem; margin:0; accent-color:var(--accent); flex:none; }
input:not([type=radio]):not([type=checkbox]), textarea, select { width:100%; max-width:40rem; padding:.45rem; font:inherit; border:1px solid #8c959f; border-radius:4px; min-height:2.25rem; }
input[aria-invalid=true], textarea[aria-invalid=true], select[aria-invalid=true] { border:2px solid var(--bad); }
fieldset { border:1px solid var(--line); border-radius:6px; margin:1rem 0; padding:.5rem 1rem 1rem; }
fieldset.inline, fieldset.rule { border-style:dashed; }
fieldset.rule { display:grid; grid-template-columns: minmax(0,1fr) auto; gap:0 1rem; align-items:end; }
fieldset.rule > * { grid-column:1; } fieldset.rule > .remove-row { grid-column:2; grid-row:1 / span 3; align-self:start; margin-top:.6rem; }
legend { font-weight:700; padding:0 .25rem; }
.buttons { display:flex; gap:.75rem; margin:1rem 0; flex-wrap:wrap; align-items:center; }
.buttons form { margin:0; }
button, .button { font:inherit; padding:.4rem 1rem; min-height:2.25rem; border-radius:4px; border:1px solid var(--accent); background:#fff; color:var(--accent); cursor:pointer; text-decoration:none; display:inline-block; line-height:1.4; }
button.primary, .button.primary { background:var(--accent); color:#fff; }
button.danger, .button.danger { border-color:var(--bad); background:var(--bad); color:#fff; }
button.small, .button.small { padding:.15rem .6rem; min-height:1.75rem; font-size:.9rem; }
.danger-link { color:var(--bad); border-color:var(--bad); }
button.link { border:none; background:none; padding:0; min-height:1.5rem; text-decoration:underline; color:var(--accent); }
header.top button.link { color:#fff; }
button:disabled { opacity:.55; cursor:not-allowed; }
/* The implicit submission target (Enter in a text field): the form's real submit, not "Add a row". */
.default-submit { position:absolute; left:-9999px; width:1px; height:1px; overflow:hidden; }
code, pre { font-family: ui-monospace, monospace; font-size:.9rem; }
code { overflow-wrap:anywhere; }
.table-wrap:focus-visible, pre:focus-visible { outline:3px solid var(--accent); }
pre { background:#f6f8fa; padding:.75rem; overflow:auto; border:1px solid var(--line); border-radius:4px; max-width:100%; }
pre code { overflow-wrap:normal; }
.secret { font-size:1.05rem; background:#fff8c5; padding:.5rem; border:1px solid var(--warn); font-family:ui-monospace, monospace; }
dl.constants { display:grid; grid-template-columns: max-content minmax(0,1fr); gap:.35rem 1rem; }
dl.constants dt { font-weight:600; } dl.constants dd { margin:0; overflow-wrap:anywhere; }
.copyable { display:flex; gap:.5rem; align-items:baseline; flex-wrap:wrap; }
.copy { padding:.05rem .5rem; min-height:1.6rem; font-size:.85rem; }
.ok { color:var(--ok); } .bad, li.error { color:var(--bad); } li.warning { color:var(--warn); }
.risk-high { color:var(--bad); font-weight:600; } .risk-medium { color:var(--warn); font-weight:600; } .risk-low { color:var(--muted); }
ul.scopes { list-style:none; padding:0; display:flex; flex-wrap:wrap; gap:.5rem; margin:.25rem 0; } ul.scopes li { background:#eaeef2; padding:0 .5rem; border-radius:4px; }
ul.scopes li.added { background:#dafbe1; } ul.scopes li.removed { background:#ffebe9; text-decoration:line-through; }
nav.tabs ul { list-style:none; padding:0; display:flex; gap:.25rem; flex-wrap:wrap; border-bottom:2px solid var(--line); margin:1rem 0; }
nav.tabs a { display:inline-block; padding:.4rem .9rem; text-decoration:none; border:1px solid transparent; border-bottom:none; border-radius:4px 4px 0 0; }
nav.tabs a[aria-current=page] { border-color:var(--line); background:var(--bg); font-weight:700; color:var(--fg); box-shadow:0 2px 0 var(--bg); position:relative; }
.grid2 { display:grid; grid-template-columns: minmax(0,1fr) minmax(0,1fr); gap:1rem; }
.diff del { color:var(--bad); } .diff ins { color:var(--ok); text-decoration:none; }
table.diff { table-layout:fixed; } table.diff th:first-child { width:9rem; }
.presets { display:flex; flex-wrap:wrap; gap:.5rem; list-style:none; padding:0; margin:.5rem 0; }
.presets li { margin:0; }
details > summary { cursor:pointer; padding:.25rem 0; min-height:1.5rem; }
.decision { border:2px solid var(--accent); border-radius:6px; padding:.75rem 1rem; margin:1rem 0; background:#f6fbff; }
.decision h2 { margin-top:0; }
.decision .summary { margin:.25rem 0 .75rem; }
.decision form { margin:.5rem 0; }
.review-top { display:grid; grid-template-columns: minmax(0,3fr) minmax(0,2fr); gap:1rem; align-items:start; }
.search { display:flex; gap:.5rem 1rem; flex-wrap:wrap; align-items:end; }
.search > div { flex:1 1 12rem; } .search label { margin-top:0; }
.status-line { display:flex; gap:.5rem; align-items:center; flex-wrap:wrap; }
/* Lists become stacked rows below 900 px: each cell on its own line, labelled by its column. */
@media (max-width: 900px) {
  table.stack thead { position:absolute; width:1px; height:1px; overflow:hidden; clip:rect(0 0 0 0); }
  table.stack, table.stack tbody, table.stack tr, table.stack td { display:block; width:100%; }
  table.stack tr { border-bottom:1px solid var(--line); padding:.5rem 0; }
  table.stack td { border:none; padding:.1rem 0; }
  table.stack td[data-label]::before { content: attr(data-label) ": "; font-weight:600; color:var(--muted); }
  table.stack td code.id { white-space:normal; }
}
@media (max-width: 720px) {
  main { margin:0; border:none; border-radius:0; padding:1rem; }
  header.top { padding:.5rem 1rem; }
  .signout { margin-left:0; }
  .grid2, .review-top { grid-template-columns: minmax(0,1fr); }
  dl.constants { grid-template-columns: minmax(0,1fr); }
  dl.constants dd { margin-bottom:.5rem; }
  fieldset { padding:.5rem .6rem .75rem; }
}
`;

/** The tab icon (also answers /favicon.ico, which browsers ask for on their own). */
export const FAVICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#0b5cad"/><path d="M9 8h8a6 6 0 0 1 0 12h-4v5H9z M13 12v4h4a2 2 0 0 0 0-4z" fill="#fff" fill-rule="evenodd"/></svg>`;

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

  // The same suggestion as ui/views/plain-language.ts didYouMean.
  function distance(a, b) {
    var row = []; for (var k = 0; k <= b.length; k++) row.push(k);
    for (var i = 1; i <= a.length; i++) {
      var previous = row[0]; row[0] = i;
      for (var j = 1; j <= b.length; j++) {
        var current = row[j];
        row[j] = Math.min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
        previous = current;
      }
    }
    return row[b.length];
  }
  function didYouMean(input) {
    var lower = input.toLowerCase(), best = null, bestScore = Infinity;
    for (var i = 0; i < KNOWN.length; i++) {
      if (KNOWN[i].toLowerCase() === lower) return KNOWN[i];
      var score = distance(lower, KNOWN[i].toLowerCase());
      if (score < bestScore) { best = KNOWN[i]; bestScore = score; }
    }
    return best && bestScore <= Math.max(2, Math.floor(input.length / 4)) ? best : null;
  }

  function sorted(letters) { return ORDER.split('').filter(function (l) { return letters.indexOf(l) >= 0; }).join(''); }

  function buildScopes(version, rows) {
    var merged = {}, order = [], errors = [], notes = [];
    rows.forEach(function (row, i) {
      if (!row.resource && row.letters.length === 0) return;
      if (!row.resource) { errors.push('Rule ' + (i + 1) + ': choose a resource type or *.'); return; }
      if (row.resource !== '*' && KNOWN.indexOf(row.resource) < 0) { var guess = didYouMean(row.resource); errors.push('Rule ' + (i + 1) + ': ' + row.resource + ' is not a FHIR R4 resource type.' + (guess ? ' Did you mean ' + guess + '?' : '')); return; }
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
    copy.id = 'rule-' + next;
    var removeButton = copy.querySelector('[data-remove-row]');
    if (removeButton) { removeButton.value = 'remove-row-' + next; removeButton.hidden = false; bindRemove(form, removeButton); }
    var own = last.querySelector('[data-remove-row]'); if (own) own.hidden = false;
    last.parentNode.appendChild(copy);
    var first = copy.querySelector('input[list]');
    if (first) first.focus();
  }

  /** Removes a row in place (the server skips the gap in the numbering); the last one is only cleared. */
  function bindRemove(form, button) {
    button.addEventListener('click', function (event) {
      event.preventDefault();
      var row = button.closest('[data-rule]');
      var rows = form.querySelectorAll('[data-rule]');
      if (rows.length <= 1) {
        row.querySelectorAll('input').forEach(function (input) { if (input.type === 'checkbox') input.checked = false; else input.value = ''; });
      } else {
        var index = Array.prototype.indexOf.call(rows, row);
        row.remove();
        var left = form.querySelectorAll('[data-rule]');
        left.forEach(function (fs, i) { var legend = fs.querySelector('legend'); if (legend) legend.textContent = 'Scope rule ' + (i + 1); });
        var focusRow = left[Math.min(index, left.length - 1)];
        var target = focusRow && focusRow.querySelector('input[list]');
        if (target) target.focus();
      }
      renderPreview(form);
      announce('Scope rule removed.');
    });
  }

  var liveRegion = null;
  function announce(text) {
    if (!liveRegion) {
      liveRegion = el('div', '', 'visually-hidden');
      liveRegion.setAttribute('role', 'status');
      document.body.appendChild(liveRegion);
    }
    liveRegion.textContent = text;
  }

  function bindCopy(root) {
    root.querySelectorAll('[data-copy-target]').forEach(function (button) {
      button.hidden = false;
      button.addEventListener('click', function () {
        var source = document.getElementById(button.getAttribute('data-copy-target'));
        var statusId = button.getAttribute('data-copy-status');
        var status = statusId ? document.getElementById(statusId) : null;
        var value = source ? (source.value !== undefined ? source.value : source.textContent) : '';
        var say = function (text) { if (status) status.textContent = text; else announce(text); };
        navigator.clipboard.writeText(value).then(function () {
          say('Copied to the clipboard.');
          if (!status) { var label = button.textContent; button.textContent = 'Copied'; setTimeout(function () { button.textContent = label; }, 1500); }
        }, function () {
          say('Copying failed: select the text and copy it by hand.');
        });
      });
    });
  }

  /**
   * A page waiting on background work (main[data-wait-url]) fetches itself every 2 s and swaps in
   * the new page when what it shows of that work changed. Without JavaScript a <noscript> meta
   * refresh reloads it instead (ui/views/layout.ts).
   */
  function watch() {
    var main = document.getElementById('main');
    if (!main || !main.getAttribute('data-wait-url')) return;
    var url = main.getAttribute('data-wait-url');
    var state = main.getAttribute('data-wait-state');
    setTimeout(function poll() {
      fetch(url, { headers: { 'X-Refresh': 'poll' }, credentials: 'same-origin', cache: 'no-store' })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (text) {
          if (text === null) { setTimeout(poll, 5000); return; }
          var next = new DOMParser().parseFromString(text, 'text/html');
          var fresh = next.getElementById('main');
          if (!fresh) return;
          var nextState = fresh.getAttribute('data-wait-state');
          var busy = document.activeElement && main.contains(document.activeElement) &&
            /^(TEXTAREA|INPUT|SELECT)$/.test(document.activeElement.tagName) && document.activeElement.value;
          if (nextState !== state && !busy) {
            main.innerHTML = fresh.innerHTML;
            ['data-wait-url', 'data-wait-state'].forEach(function (name) {
              if (fresh.hasAttribute(name)) main.setAttribute(name, fresh.getAttribute(name)); else main.removeAttribute(name);
            });
            document.title = next.title;
            bindCopy(main);
            var h1 = main.querySelector('h1');
            announce('Updated: ' + (h1 ? h1.textContent.replace(/\s+/g, ' ').trim() : document.title));
            state = nextState;
            url = fresh.getAttribute('data-wait-url') || url;
          }
          if (fresh.getAttribute('data-wait-url')) setTimeout(poll, 2000);
        }, function () { setTimeout(poll, 5000); });
    }, 2000);
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
    if (form) form.querySelectorAll('[data-remove-row]').forEach(function (button) { bindRemove(form, button); });
    bindCopy(document);
    watch();
    // A POST's answer page (the assertion checker's) is shown at the address a reload should open.
    var canonical = document.querySelector('[data-canonical-url]');
    if (canonical && window.history.replaceState) window.history.replaceState(null, '', canonical.getAttribute('data-canonical-url'));
  });
})();
`;
}
