/* The outbox: edits wait in IndexedDB (so closing the page loses nothing) and are sent in order,
 * each with its own Idempotency-Key, so a replay after a lost answer never writes twice.
 * A survey is two steps: the visit record (POST /field/surveys), then the stairwell itself
 * (PATCH through the features API with If-Match). A 'patch' edit is that second step alone, on
 * a feature of any layer (a household's visit and vote, its proof photo uploaded first). A 412
 * turns the edit into a conflict, kept with the server's version: the page merges it when the
 * two changed different fields (each edit keeps the values the worker saw), else the worker
 * chooses; a change someone else made is never undone silently, by the merged edit or by the
 * edits waiting behind it. Edits of one feature go in order, each building on the version the one before saved. */
(function (global) {
  'use strict';

  var DB_NAME = 'gis-field';
  var STORE = 'outbox';
  var cfg = null;
  var hooks = {};
  var running = null;
  var again = false;
  // after a failed send: again in 1 s, doubling up to 30 s, reset by a success, never before a
  // refusal's Retry-After (retry-after.js)
  var clock = global.RetryClock(function () { flush(); }, 1000, 30000);

  function uuid() {
    if (global.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var b = crypto.getRandomValues(new Uint8Array(16));
    return Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join('');
  }

  /* ---- IndexedDB in promises ---- */
  var dbPromise = null;
  function db() {
    if (!dbPromise) {
      dbPromise = new Promise(function (resolve, reject) {
        var open = indexedDB.open(DB_NAME, 1);
        open.onupgradeneeded = function () { open.result.createObjectStore(STORE, {keyPath: 'key'}); };
        open.onsuccess = function () { resolve(open.result); };
        open.onerror = function () { reject(open.error); };
      });
    }
    return dbPromise;
  }
  function tx(mode, work) {
    return db().then(function (d) {
      return new Promise(function (resolve, reject) {
        var t = d.transaction(STORE, mode);
        var result = work(t.objectStore(STORE));
        t.oncomplete = function () { resolve(result && 'result' in result ? result.result : undefined); };
        t.onerror = function () { reject(t.error); };
        t.onabort = function () { reject(t.error); };
      });
    });
  }
  function put(op) { return tx('readwrite', function (s) { return s.put(op); }); }
  function get(key) { return tx('readonly', function (s) { return s.get(key); }); }
  function remove(key) { return tx('readwrite', function (s) { return s.delete(key); }); }
  function all() {
    return tx('readonly', function (s) { return s.getAll(); }).then(function (ops) {
      return (ops || []).filter(function (op) { return op.user === cfg.user; })
        .sort(function (a, b) { return a.seq - b.seq; });
    });
  }

  /* ---- HTTP ---- */
  function csrf() {
    var m = new RegExp('(?:^|; )' + cfg.csrfCookie + '=([^;]*)').exec(document.cookie);
    return m ? decodeURIComponent(m[1]) : '';
  }
  /** Not sent now; not before `notBefore` (ms since the epoch) when the server said so. */
  function Offline(notBefore) { this.offline = true; this.notBefore = notBefore || 0; }
  function send(method, url, body, headers) {
    var h = Object.assign({Accept: 'application/geo+json, application/json'}, headers || {});
    if (method !== 'GET') { h[cfg.csrfHeader] = csrf(); }
    if (body !== undefined && !(body instanceof Blob)) {
      h['Content-Type'] = h['Content-Type'] || 'application/json';
      body = JSON.stringify(body);
    }
    return fetch(url, {method: method, headers: h, body: body, credentials: 'same-origin', cache: 'no-store'})
      .catch(function () { throw new Offline(); })
      .then(function (r) {
        if (r.status >= 500 || r.status === 408 || r.status === 429) { throw new Offline(global.retryAfterAt(r)); }
        if (r.status === 401) { state.auth = true; if (hooks.auth) { hooks.auth(); } throw new Offline(); }
        return r;
      });
  }
  function problemText(r) {
    return r.json().catch(function () { return {}; }).then(function (p) {
      var fields = global.FieldRules.refused(global.FieldMap && global.FieldMap.rules, p.errors);
      return fields.length ? fields.join('; ') : (p.detail || p.title || String(r.status));
    });
  }
  function itemUrl(layer, id) {
    return cfg.urls.item.replace('{layer}', layer).replace('{id}', String(id));
  }

  /* ---- one edit, step by step ---- */
  function fail(op, r) {
    return problemText(r).then(function (text) {
      op.state = 'failed';
      op.error = text;
      return put(op).then(function () { if (hooks.failed) { hooks.failed(op); } return 'blocked'; });
    });
  }
  function finish(op) { return remove(op.key).then(function () { return 'done'; }); }

  function patchBody(op) {
    return {type: 'Feature', properties: op.patch};
  }

  /** The edits that go in order, one after the other: those of one feature. */
  function laneOf(op) {
    if (op.kind === 'survey') { return 'stairwell:' + op.stairwell_id; }
    return op.kind === 'patch' ? op.layer + ':' + op.feature_id : op.key;
  }

  /** The next edit of the lane builds on the version just saved: a field it left as the worker
   * saw it takes the saved value (a merge kept someone else's change there: not undone). */
  function rebase(lane, etag, saved) {
    return all().then(function (ops) {
      return Promise.all(ops.filter(function (o) {
        return o.kind !== 'issue' && laneOf(o) === lane && o.base_etag === null;
      }).slice(0, 1).map(function (o) {
        o.base_etag = etag;
        if (o.base_values && saved) {
          Object.keys(o.patch).forEach(function (k) {
            if (sameValue(o.patch[k], o.base_values[k]) && k in saved) { o.patch[k] = saved[k]; }
          });
          o.base_values = Object.assign({}, saved);
        }
        return put(o);
      }));
    });
  }

  /** The callbacks of an edit's page part: a layer's own (households), else the page's. */
  function hooksOf(op) {
    return (op.kind === 'patch' && listeners[op.layer]) || hooks;
  }

  /** A 412: the server's version now, kept beside the edit until the worker chooses. The answer
   * carries it (no second read that a replica or a cache could answer older); one that does not
   * (a proxy's, a server before this) is read again, never retried as it is. */
  function conflictOf(op, url, r) {
    return r.clone().json().catch(function () { return null; }).then(function (problem) {
      var etag = r.headers.get('ETag');
      if (problem && problem.current && etag) { return conflictWith(op, etag, problem.current); }
      return send('GET', url).then(function (fresh) {
        if (!fresh.ok) { return fail(op, fresh); }
        return fresh.json().then(function (feature) { return conflictWith(op, fresh.headers.get('ETag'), feature); });
      });
    });
  }
  function conflictWith(op, etag, feature) {
    op.state = 'conflict';
    op.theirs_etag = etag;
    op.theirs = feature.properties;
    var who = op.kind === 'patch' ? Promise.resolve([]) : changedBy(op);  // stairwells: who and when
    return who.then(function (changes) {
      op.theirs_changes = changes;
      return put(op);
    }).then(function () { var own = hooksOf(op); if (own.conflict) { own.conflict(op); } return 'blocked'; });
  }

  /** PATCH with If-Match and the edit's own Idempotency-Key; then the next edit of the lane. */
  function patchStep(op, url) {
    return send('PATCH', url, patchBody(op), {'If-Match': op.base_etag, 'Idempotency-Key': op.patch_key,
                                              'Content-Type': 'application/merge-patch+json'})
      .then(function (r) {
        if (r.ok) {
          var etag = r.headers.get('ETag');
          return r.json().then(function (feature) {
            return finish(op).then(function () { return rebase(laneOf(op), etag, feature.properties); }).then(function () {
              var own = hooksOf(op);
              if (own.saved) { own.saved(op, feature, etag); }
              return 'done';
            });
          });
        }
        return r.status === 412 ? conflictOf(op, url, r) : fail(op, r);
      });
  }

  function sendPhoto(url, blob) {
    return send('PUT', url, blob, {'Content-Type': blob.type || 'image/jpeg'});
  }

  function stepPatch(op) {
    if (op.base_etag === null) { return Promise.resolve('blocked'); }  // waits for the edit before
    if (op.photo) { return photoFirst(op); }
    return patchStep(op, itemUrl(op.layer, op.feature_id));
  }

  /** An edit with a photo (a vote's proof): the photo is stored first (the same photo sent again
   * lands on the same file), then the edit names it; the edit never leaves without it. */
  function photoFirst(op) {
    return sendPhoto(op.photo_url, op.photo).then(function (r) {
      if (!r.ok) { return fail(op, r); }
      return r.json().then(function (stored) {
        op.patch = Object.assign({}, op.patch);
        op.patch[op.photo_field] = stored[op.photo_field];
        op.photo = null;
        return put(op).then(function () { return stepPatch(op); });
      });
    });
  }

  function stepSurvey(op) {
    if (op.stage === 'survey') {
      if (!navigator.onLine) { return Promise.reject(new Offline()); }  // nothing left the phone
      var record = Object.assign({stairwell_id: op.stairwell_id}, op.values);
      op.tried = true;  // from here the server may have it: no more changing it in place
      return put(op).then(function () { return send('POST', cfg.urls.surveys, record, {'Idempotency-Key': op.survey_key}); }).then(function (r) {
        if (r.status !== 201) { return fail(op, r); }
        op.stage = 'patch';
        return put(op).then(function () { return stepSurvey(op); });
      });
    }
    if (op.base_etag === null) { return Promise.resolve('blocked'); }  // waits for the edit before
    return patchStep(op, itemUrl('stairwells', op.stairwell_id));
  }

  /** Who changed the stairwell since the edit's base version, and when (none when unknown). */
  function changedBy(op) {
    var since = /\d+/.exec(op.base_etag || '');
    if (!since || !cfg.urls.changes) { return Promise.resolve([]); }
    var url = cfg.urls.changes.replace('{id}', String(op.stairwell_id)) + '?since=' + since[0];
    return send('GET', url).then(function (r) {
      return r.ok ? r.json().then(function (body) { return body.changes || []; }) : [];
    }).catch(function () { return []; });
  }

  function stepIssue(op) {
    if (op.stage === 'create') {
      var url = cfg.urls.items.replace('{layer}', 'issues');
      return send('POST', url, op.feature, {'Idempotency-Key': op.key + ':issue'}).then(function (r) {
        if (r.status !== 201) { return fail(op, r); }
        return r.json().then(function (feature) {
          op.issue_id = feature.id;
          op.stage = op.photo ? 'photo' : 'done';
          if (hooks.saved) { hooks.saved(op, feature, r.headers.get('ETag')); }
          return op.stage === 'done' ? finish(op) : put(op).then(function () { return stepIssue(op); });
        });
      });
    }
    return sendPhoto(cfg.urls.photo.replace('{id}', String(op.issue_id)), op.photo).then(function (r) {
      return r.ok ? finish(op) : fail(op, r);
    });
  }

  function flushOnce() {
    return all().then(function (ops) {
      var blocked = {};
      var chain = Promise.resolve();
      var stop = false;
      ops.forEach(function (op) {
        var lane = laneOf(op);
        chain = chain.then(function () { return get(op.key); }).then(function (fresh) {
          if (stop || state.auth || !fresh) { return; }
          op = fresh;
          if (op.state !== 'pending' || blocked[lane] || held[op.key]) { blocked[lane] = true; return; }
          inFlight[op.key] = true;  // set in the same turn as the check: correct/cancel see it
          var done = function () { delete inFlight[op.key]; };
          var step = op.kind === 'survey' ? stepSurvey : (op.kind === 'patch' ? stepPatch : stepIssue);
          return step(op).then(function (outcome) {
            done();
            if (outcome !== 'done') { blocked[lane] = true; }
            clock.reset();
            notify();
          }, function (err) {
            done();
            if (err && err.offline) {
              stop = true;
              clock.notBefore(err.notBefore);
              if (!state.auth) { clock.later(); }
              return;
            }
            throw err;
          });
        });
      });
      return chain;
    });
  }

  function flush() {
    if (clock.held()) {  // the server said when to come back: not before (any caller)
      clock.atTheirTime();
      return Promise.resolve();
    }
    if (running) { again = true; return running; }
    running = (function loop() {
      again = false;
      return flushOnce().then(function () { return again ? loop() : null; });
    })().catch(function (err) { console.error('outbox', err); }).then(function () {
      running = null;
      return notify();
    });
    return running;
  }

  function notify() {
    return all().then(function (ops) { if (hooks.changed) { hooks.changed(ops); } return ops; });
  }

  var seq = 0;
  function add(op) {
    op.key = uuid();
    op.user = cfg.user;
    op.seq = Date.now() * 1000 + (seq++ % 1000);
    op.state = 'pending';
    op.created = new Date().toISOString();
    return put(op).then(notify).then(function () { flush(); return op; });
  }

  /** A survey edit; its base is the version seen, or the edit still waiting before it. */
  function addSurvey(stairwellId, label, baseEtag, baseValues, values, patch) {
    return all().then(function (ops) {
      var waiting = ops.some(function (o) { return o.kind === 'survey' && o.stairwell_id === stairwellId; });
      return add({kind: 'survey', stage: 'survey', stairwell_id: stairwellId, label: label,
                  base_etag: waiting ? null : baseEtag, base_values: baseValues, values: values,
                  patch: patch, survey_key: uuid(), patch_key: uuid()});
    });
  }

  /** An edit of one feature of a layer (e.g. a household's visit and vote), in its lane's order;
   * with `photo` ({blob, url, field}) the photo goes first and the edit sets `field` to it;
   * `baseValues`, the feature's values as the worker saw them, lets a conflict be merged. */
  function addPatch(layer, featureId, label, baseEtag, patch, photo, baseValues) {
    return all().then(function (ops) {
      var waiting = ops.some(function (o) { return o.kind === 'patch' && o.layer === layer && o.feature_id === featureId; });
      var op = {kind: 'patch', layer: layer, feature_id: featureId, label: label,
                base_etag: waiting ? null : baseEtag, patch: patch, patch_key: uuid(),
                base_values: baseValues || null};
      if (photo && photo.blob) { op.photo = photo.blob; op.photo_url = photo.url; op.photo_field = photo.field; }
      return add(op);
    });
  }

  function addIssue(feature, photo) {
    return add({kind: 'issue', stage: 'create', feature: feature, photo: photo || null});
  }

  /** Whether two values read the same (none, null and '' alike; numbers as their text). */
  function sameValue(a, b) {
    var none = function (v) { return v === null || v === undefined || v === ''; };
    return none(a) ? none(b) : !none(b) && String(a) === String(b);
  }

  /** A field of a conflicted edit read three ways (the values the worker saw, the worker's,
   * the server's now): 'mine' when the server's is still the one the worker saw (or already
   * the worker's), 'theirs' when only the server's changed, null when both changed it
   * differently. `typed`: the worker wrote this field anew (a count asked at each visit), so
   * it counts as changed by them even when it is the value they saw. */
  function sideOf(op, key, typed) {
    var mine = op.patch[key], theirs = (op.theirs || {})[key], base = (op.base_values || {})[key];
    if (sameValue(mine, theirs) || sameValue(theirs, base)) { return 'mine'; }
    return sameValue(mine, base) && !typed ? 'theirs' : null;
  }

  /** The values a conflicted edit saves, each field of `keys` from the side sideOf names, or
   * null when a field of `askAbout` (all of them when not given) was changed by both sides:
   * the worker chooses. Another field changed by both keeps the worker's. `typed(k)`: sideOf's
   * typed, per field. */
  function merged(op, keys, askAbout, typed) {
    var chosen = {};
    var both = keys.some(function (k) {
      var side = sideOf(op, k, Boolean(typed && typed(k)));
      chosen[k] = side === 'theirs' ? op.theirs[k] : op.patch[k];
      return side === null && (!askAbout || askAbout.indexOf(k) >= 0);
    });
    return both ? null : chosen;
  }

  /** The worker's choice in a conflict: saved against the version they were shown. */
  function resolve(op, chosen) {
    op.patch = chosen;
    op.base_etag = op.theirs_etag;
    op.base_values = Object.assign({}, op.theirs);  // the version it is now sent against
    op.patch_key = uuid();
    op.state = 'pending';
    delete op.theirs;
    return put(op).then(notify).then(function () { flush(); });
  }

  /** The worker takes the server's version of a conflicted edit as it is: the edit leaves
   * (discard) and the page shows that version. */
  function accept(op) {
    return discard(op).then(function () {
      var own = hooksOf(op);
      if (own.saved) { own.saved(op, {properties: op.theirs}, op.theirs_etag); }
    });
  }

  /** An edit leaves the outbox; the next edit of the feature builds on the version the server
   * is at: the one a conflict showed (rebase: it keeps that version's values of the fields it
   * left alone), else the one this edit was to build on. */
  function discard(op) {
    return remove(op.key).then(function () {
      return rebase(laneOf(op), op.theirs_etag || op.base_etag, op.theirs_etag ? op.theirs : null);
    }).then(notify);
  }

  function retry(op, values, patch) {
    op.state = 'pending';
    op.error = null;
    if (values) {
      op.values = values; op.patch = patch; op.stage = 'survey';
      op.survey_key = uuid(); op.patch_key = uuid(); op.tried = false;
    }
    return put(op).then(notify).then(function () { flush(); });
  }

  /* ---- correcting or cancelling an edit still waiting: only while nothing of it has been sent ---- */
  var held = {}, inFlight = {};
  /** Whether a waiting edit can still change in place (never tried, not being sent now). */
  function editable(op) {
    return op.kind === 'survey' && op.state === 'pending' && op.stage === 'survey' && !op.tried && !inFlight[op.key];
  }
  /** Take an edit out of the sender's hands (the fresh copy), or null when it may be on its way. */
  function hold(op) {
    if (!editable(op) || held[op.key]) { return Promise.resolve(null); }
    held[op.key] = true;  // flushOnce skips it from this turn on
    return get(op.key).then(function (fresh) {
      if (fresh && editable(fresh)) { return fresh; }
      delete held[op.key];
      return null;
    });
  }
  function release(op) { delete held[op.key]; }

  /** Cancel a waiting edit: true when it is gone and was never sent, false when it is on its way. */
  function cancel(op) {
    return hold(op).then(function (fresh) {
      if (!fresh) { return false; }
      return discard(fresh).then(function () { release(fresh); return true; });
    });
  }

  /** Correct a waiting edit in place (sent once, with the new values); when it may already be on
   * its way, the correction is queued behind it instead. True when changed in place. */
  function correct(op, values, patch) {
    return hold(op).then(function (fresh) {
      if (!fresh) {
        var seen = Object.assign({}, op.base_values, op.patch);  // the worker saw the edit before it
        return addSurvey(op.stairwell_id, op.label, null, seen, values, patch).then(function () { return false; });
      }
      fresh.values = values; fresh.patch = patch; fresh.corrected = new Date().toISOString();
      return put(fresh).then(function () { release(fresh); return notify(); })
        .then(function () { flush(); return true; });
    });
  }

  var listeners = {};  // per layer of 'patch' edits: {saved, conflict}
  var state = {auth: false};
  global.FieldOutbox = {
    init: function (config, callbacks) { cfg = config; hooks = callbacks || {}; return notify(); },
    addSurvey: addSurvey, addIssue: addIssue, addPatch: addPatch, sameValue: sameValue, sideOf: sideOf, merged: merged, resolve: resolve, accept: accept, discard: discard, retry: retry,
    listen: function (layer, callbacks) { listeners[layer] = callbacks; },
    editable: editable, cancel: cancel, correct: correct,
    flush: function () { state.auth = false; return flush(); }, all: all, state: state, uuid: uuid
  };
})(window);
