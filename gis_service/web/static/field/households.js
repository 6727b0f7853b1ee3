/* The stairwell form's household list: floor, door, the vote on the current elevator proposal as
 * a labelled chip, the owner names when the server sends them (staff, the grid's worker). A tap
 * records a visit and a vote (with an optional photo of the signed form, resized here and sent
 * before the vote that names it): a 'patch' edit of the household through the same outbox (its own
 * Idempotency-Key, If-Match on the version seen; merged with a change of other fields made
 * meanwhile, the worker's choice when the vote itself changed), offline too. The grid's list comes from /field/households, kept by the service worker for offline use. */
(function (global) {
  'use strict';

  var LAYER = 'households';
  var CACHE = 'gis-field-v1';  // sw.js's cache
  var doc = null;      // {votes: [{code, label, color}], strings, households: [...]}
  var loading = null;
  var pending = {};    // household id -> its waiting patch (the last one)
  var shown = null;    // the stairwell whose list is open
  var counted = null;  // that stairwell's properties: the counts the database derived from the register
  var DERIVED = ['households', 'elderly_households', 'consent_agree', 'consent_object'];

  function el() { return FieldMap.el.apply(null, arguments); }
  function s(key) { return (doc && doc.strings[key]) || key; }
  function today() { return FieldRules.today(); }

  function load() {
    if (!loading) {
      var cfg = FieldMap.config;
      var url = '/field/households?grid=' + encodeURIComponent(cfg.grid.id) + '&lang=' + cfg.lang;
      loading = fetch(url, {credentials: 'same-origin', headers: {Accept: 'application/json'}})
        .then(function (r) {
          if (!r.ok) { throw new Error(String(r.status)); }
          keep(url, r.clone());
          return r.json();
        })
        .then(function (body) { doc = body; FieldMap.mark('households', body.households.length); return body; })
        .catch(function (err) { loading = null; FieldMap.mark('households', 'failed'); throw err; });
    }
    return loading;
  }

  /** Kept where the service worker (sw.js) looks, so the list opens offline after a reload. */
  function keep(url, response) {
    if (!global.caches) { return; }
    caches.open(CACHE).then(function (cache) { return cache.put(url, response); })
      .then(function () { FieldMap.mark('households-offline', 'ready'); }, function () { /* best effort */ });
  }

  function voteInfo(code) {
    return doc.votes.filter(function (v) { return v.code === code; })[0] || {code: code, label: code, color: '#607d8b'};
  }

  function chip(code) {
    var info = voteInfo(code);
    var node = el('span', {class: 'chip vote-chip', 'data-vote': code, text: info.label});
    node.style.background = info.color;
    return node;
  }

  /** The household as the worker sees it: the server's values with the edit still waiting. */
  function current(h) {
    var op = pending[h.id];
    return op ? Object.assign({}, h, op.patch, {pending: true}) : h;
  }

  function row(h) {
    var now = current(h);
    var owner = now.owner_names ? el('span', {class: 'owner', text: now.owner_names}) : null;
    var visited = now.visited_on ? el('span', {class: 'meta', text: s('visited') + ' ' + now.visited_on}) : null;
    var item = el('li', {class: 'household', 'data-id': h.id, 'data-vote': now.vote, 'data-pending': now.pending ? 'true' : 'false'}, [
      el('span', {class: 'where', text: s('floor').replace('{f}', now.floor) + ' · ' + now.door}), owner, chip(now.vote),
      now.pending ? el('span', {class: 'chip waiting', text: s('waiting')}) : null, proofMark(h, now), visited,
      el('button', {type: 'button', class: 'record-vote', text: s('record'), onclick: function () { recorder(item, h); }})]);
    return item;
  }

  /** The visit-and-vote panel of one household: four vote buttons, the visit day, save. */
  function recorder(item, h) {
    var open = item.querySelector('.vote-panel');
    if (open) { open.remove(); return; }
    var now = current(h);
    var choice = now.vote;
    var buttons = doc.votes.map(function (v) {
      return el('button', {type: 'button', class: 'vote-pick', 'data-vote': v.code, 'aria-pressed': String(v.code === choice), text: v.label,
        onclick: function (ev) {
          choice = v.code;
          buttons.forEach(function (b) { b.setAttribute('aria-pressed', String(b === ev.currentTarget)); });
        }});
    });
    var day = el('input', {type: 'date', name: 'visited_on', value: today()});
    var proof = el('input', {type: 'file', name: 'proof', class: 'proof-photo', accept: 'image/*', capture: 'environment'});
    var error = el('p', {class: 'field-error', 'data-field': 'proof'});
    var panel = el('div', {class: 'vote-panel'}, [
      el('div', {class: 'vote-picks'}, buttons),
      el('label', {class: 'field'}, [el('span', {text: s('visited_on')}), day]),
      el('label', {class: 'field'}, [el('span', {text: s('proof')}), proof]), error,
      el('button', {type: 'button', class: 'primary save-vote', text: s('save'), onclick: function () {
        var patch = {vote: choice, visited_on: day.value || today()};
        FieldForms.shrinkPhoto(proof.files && proof.files[0]).then(function (blob) {
          var photo = blob && {blob: blob, url: FieldMap.config.urls.proof.replace('{id}', String(h.id)), field: 'proof_photo_path'};
          var now = current(h);  // with the edit still waiting, if any: what the worker saw
          var seen = {vote: now.vote, visited_on: now.visited_on, proof_photo_path: now.proof_photo_path};
          return FieldOutbox.addPatch(LAYER, h.id, s('household') + ' ' + h.door, '"' + h.version + '"', patch, photo, seen)
            .then(function () { return refresh(); })
            .then(function () { FieldForms.notice(FieldMap.t('saved')); });
        }, function (err) { error.textContent = s('proof') + ': ' + err.message; });
      }})]);
    item.appendChild(panel);
  }

  /** The vote's proof: on the server (a link), or waiting in the outbox with the vote. */
  function proofMark(h, now) {
    var op = pending[h.id];
    if (op && op.photo) { return el('span', {class: 'chip proof', 'data-proof': 'waiting', text: s('proof_short')}); }
    if (!now.proof_photo_path) { return null; }
    return el('a', {class: 'chip proof', 'data-proof': 'stored', target: '_blank', rel: 'noopener',
                    href: FieldMap.config.urls.proof.replace('{id}', String(h.id)), text: s('proof_short')});
  }

  function render() {
    var box = document.getElementById('households');
    if (!box || !doc) { return; }
    var mine = doc.households.filter(function (h) { return h.stairwell_id === shown; });
    var list = el('ul', {class: 'household-list'}, mine.map(row));
    var head = el('h3', {text: s('households').replace('{n}', mine.length)});
    var note = mine.length ? el('p', {class: 'meta', text: s('proposal_note')}) : el('p', {class: 'meta', text: s('none')});
    box.replaceChildren(head, note, list);
    box.setAttribute('data-count', String(mine.length));
    if (mine.length) { lockDerivedCounts(); }
  }

  /** With a register, the stairwell's counts are the database's sums of it: shown, not asked
   * (nor sent: forms.js leaves read-only counts out of the edit). */
  function lockDerivedCounts() {
    var form = document.getElementById('survey-form');
    if (!form || !counted) { return; }
    var said = form.querySelector('.derived-note');
    if (said) { said.textContent = FieldMap.t(doc ? 'derived' : 'derived_unlisted'); }  // the list came
    DERIVED.forEach(function (name) {
      var input = form.elements[name];
      if (!input || input.readOnly) { return; }
      var value = counted[name];
      input.value = value === null || value === undefined ? '' : String(value);
      input.readOnly = true;
      input.setAttribute('aria-readonly', 'true');
      var box = input.closest('.field');
      var hint = box && box.querySelector('.previous');
      if (hint) { hint.remove(); }
      if (!box) { return; }
      box.classList.add('derived');
      if (name === DERIVED[0]) { box.insertBefore(el('span', {class: 'meta derived-note', text: FieldMap.t(doc ? 'derived' : 'derived_unlisted')}), input.nextSibling); }
    });
  }

  /** Re-read the waiting edits, then redraw the open list. */
  function refresh() {
    return FieldOutbox.all().then(function (ops) {
      pending = {};
      ops.forEach(function (op) { if (op.kind === 'patch' && op.layer === LAYER) { pending[op.feature_id] = op; } });
      render();
    });
  }

  /** Below the stairwell form: its households (the grid's list, loaded once). */
  function attach(stairwell) {
    shown = stairwell.id;
    counted = stairwell.properties;
    if (counted.has_register) { lockDerivedCounts(); }  // the stairwell says so: no list needed
    var box = el('section', {id: 'households', 'data-stairwell': stairwell.id}, [el('p', {class: 'meta', text: '…'})]);
    FieldMap.sheet.body.appendChild(box);
    return load().then(refresh, function () { box.replaceChildren(el('p', {class: 'field-error', text: s('unavailable') === 'unavailable' ? FieldMap.t('offline') : s('unavailable')})); });
  }

  function saved(op, feature, etag) {
    var h = doc && doc.households.filter(function (x) { return x.id === op.feature_id; })[0];
    if (h) {
      ['vote', 'voted_on', 'visited_on', 'recorded_by', 'proof_photo_path'].forEach(function (k) { h[k] = feature.properties[k]; });
      h.version = Number(String(etag).replace(/[^0-9]/g, '')) || h.version;
    }
    refresh();
  }

  /** Their vote (and its proof) taken: the worker's visit is still saved, as a fact of its own
   * (the office's, when only the office changed it); nothing to send when it is theirs already. */
  function takeTheirs(op) {
    var visit = FieldOutbox.merged(op, ['visited_on'], []);
    var theirs = op.theirs || {};
    return FieldOutbox.sameValue(visit.visited_on, theirs.visited_on) ? FieldOutbox.accept(op) : FieldOutbox.resolve(op, visit);
  }

  /** A household's vote changed on the server meanwhile too: keep my vote, or take theirs. */
  function openConflict(op) {
    var theirs = op.theirs || {};
    var pick = function (id, label, action) { return el('button', {type: 'button', id: id, class: 'primary', text: label, onclick: action}); };
    var rows = [el('p', {text: s('conflict_help')}),
      el('p', {class: 'conflict-row', 'data-field': 'vote'}, [el('b', {text: FieldMap.t('mine') + ': '}), chip(op.patch.vote),
        el('b', {text: ' ' + FieldMap.t('theirs') + ': '}), chip(theirs.vote)]),
      el('div', {class: 'actions'}, [
        pick('vote-keep-mine', FieldMap.t('mine'), function () { FieldOutbox.resolve(op, op.patch).then(FieldMap.closeSheet); }),
        pick('vote-take-theirs', FieldMap.t('theirs'), function () { takeTheirs(op).then(FieldMap.closeSheet); })])];
    FieldMap.showSheet(FieldMap.t('conflict') + ' · ' + (op.label || op.feature_id), rows, 'conflict');
  }

  function start() {
    if (!global.FieldMap || !FieldMap.config) { return; }
    FieldOutbox.listen(LAYER, {saved: saved, conflict: FieldForms.conflicted});  // merged, or asked
    load().then(refresh).catch(function () { /* offline and never loaded: the form says so */ });
  }
  if (document.readyState === 'complete') { start(); } else { global.addEventListener('load', start); }

  global.FieldHouseholds = {attach: attach, openConflict: openConflict, refresh: refresh};
})(window);
