/* "Download my grid": before a day in dead zones (stairwells, basements, lift shafts), fetch the
 * grid's vector tiles for the configured zooms and its data into the service worker's cache, so
 * the page opens and every zoom draws with the network off. Progress and size are shown; the
 * download can be stopped and done again to refresh. Basemaps are not fetched: the page says why
 * (OpenStreetMap's tile policy forbids bulk downloading; maps/field.yaml `bulk_download`). */
(function (global) {
  'use strict';

  var CACHE = 'gis-field-v1';  // the service worker's cache (sw.js): it answers from it offline
  var PARALLEL = 4;
  var running = null;  // {controller, done, total, bytes, failed}

  var el = function () { return FieldMap.el.apply(null, arguments); };
  var t = function (key) { return FieldMap.t(key); };
  function fill(text, values) {
    return Object.keys(values).reduce(function (s, k) { return s.split('{' + k + '}').join(String(values[k])); }, text);
  }

  /** "1.4 MB" / "820 KB". */
  function size(bytes) {
    if (bytes >= 1e6) { return (bytes / 1e6).toFixed(1) + ' MB'; }
    return Math.max(1, Math.round(bytes / 1e3)) + ' KB';
  }

  function manifestKey() {
    var cfg = FieldMap.config;
    return 'gis-field-download:' + cfg.user.username + ':' + cfg.grid.id;
  }
  function manifest() {
    try { return JSON.parse(global.localStorage.getItem(manifestKey()) || 'null'); } catch (e) { return null; }
  }

  var MARGIN = 2;  // tiles around the grid at every zoom: a phone's screen reaches past its edge

  /** Every tile URL of a template covering the grid's bounds (and MARGIN tiles around) at
   * zooms lo..hi (256 px tiles). */
  function tileUrls(template, bounds, lo, hi) {
    var urls = [];
    var box = L.latLngBounds(bounds);
    for (var z = lo; z <= hi; z++) {
      var nw = L.CRS.EPSG3857.latLngToPoint(box.getNorthWest(), z).divideBy(256).floor().subtract([MARGIN, MARGIN]);
      var se = L.CRS.EPSG3857.latLngToPoint(box.getSouthEast(), z).divideBy(256).floor().add([MARGIN, MARGIN]);
      for (var x = nw.x; x <= se.x; x++) {
        for (var y = nw.y; y <= se.y; y++) {
          urls.push(template.replace('{z}', z).replace('{x}', x).replace('{y}', y));
        }
      }
    }
    return urls;
  }

  /** What the download fetches: the page and its data, issue photos, the tiles of every zoom. */
  function plan() {
    var cfg = FieldMap.config;
    var zooms = cfg.offline.zooms;
    var urls = FieldMap.offlineUrls();
    var issues = FieldMap.layers.issues;
    if (issues) {
      issues.eachLayer(function (m) {
        var f = m.feature;
        if (f && f.properties.photo_path) { urls.push(cfg.urls.photo.replace('{id}', encodeURIComponent(f.id))); }
      });
    }
    Object.keys(cfg.layers).forEach(function (id) {
      if (cfg.layers[id].kind === 'tiles') { urls = urls.concat(tileUrls(cfg.layers[id].url, cfg.grid.bounds, zooms[0], zooms[1])); }
    });
    return urls.filter(function (u, i) { return urls.indexOf(u) === i; });
  }

  /** The basemap shown now, and whether its terms allow downloading it. */
  function basemap() {
    var offline = FieldMap.config.offline;
    var id = FieldMap.basemap || offline.default_basemap;
    return offline.basemaps.filter(function (b) { return b.id === id; })[0];
  }

  function fetchOne(cache, url, state) {
    return fetch(url, {credentials: 'same-origin', cache: 'no-cache', signal: state.controller.signal})
      .then(function (response) {
        if (!response.ok || response.redirected) { throw new Error(String(response.status)); }
        return response.clone().blob().then(function (blob) {
          return cache.put(url, response).then(function () { state.bytes += blob.size; });
        });
      })
      .catch(function (err) { if (!state.controller.signal.aborted) { state.failed.push(url); } throw err; })
      .then(function () { state.done += 1; render(); }, function () { render(); });
  }

  function start() {
    if (running) { return; }
    var urls = plan();
    var state = {controller: new AbortController(), done: 0, total: urls.length, bytes: 0, failed: []};
    running = state;
    FieldMap.mark('download', 'running');
    render();
    caches.open(CACHE).then(function (cache) {
      var next = 0;
      function worker() {
        if (state.controller.signal.aborted || next >= urls.length) { return Promise.resolve(); }
        var url = urls[next++];
        return fetchOne(cache, url, state).then(worker);
      }
      var lanes = [];
      for (var i = 0; i < PARALLEL; i++) { lanes.push(worker()); }
      return Promise.all(lanes);
    }).then(function () {
      var stopped = state.controller.signal.aborted;
      if (!stopped) {
        global.localStorage.setItem(manifestKey(), JSON.stringify({
          at: new Date().toISOString(), files: state.done, bytes: state.bytes, failed: state.failed.length,
          zooms: FieldMap.config.offline.zooms}));
      }
      running = null;
      FieldMap.mark('download', stopped ? 'cancelled' : (state.failed.length ? 'incomplete' : 'done'));
      render(state);
    });
  }

  function stop() {
    if (running) { running.controller.abort(); }
  }

  /* ---- the sheet: what is downloaded, progress, size, stop / refresh, the basemap's terms ---- */
  var view = null;
  function render(last) {
    if (!view || document.getElementById('sheet').getAttribute('data-view') !== 'offline') { return; }
    var state = running || last;
    var saved = manifest();
    var zooms = FieldMap.config.offline.zooms;
    view.scope.textContent = fill(t('dl_scope'), {from: zooms[0], to: zooms[1], n: plan().length});
    view.status.textContent = saved
      ? fill(t('dl_done'), {when: new Date(saved.at).toLocaleString(FieldMap.config.lang === 'zh' ? 'zh-CN' : 'en-GB',
          {month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hour12: false}),
          n: saved.files, size: size(saved.bytes)})
      : t('dl_none');
    view.status.setAttribute('data-bytes', saved ? saved.bytes : 0);
    view.bar.hidden = !state;
    if (state) {
      view.bar.max = state.total;
      view.bar.value = state.done;
      var stopped = !running && state.controller.signal.aborted;
      view.progress.textContent = fill(t(stopped ? 'dl_cancelled' : 'dl_progress'),
        {done: state.done, n: state.total, size: size(state.bytes)}) +
        (state.failed.length ? ' · ' + fill(t('dl_failed'), {n: state.failed.length}) : '');
      view.progress.setAttribute('data-done', state.done);
      view.progress.setAttribute('data-total', state.total);
    } else {
      view.progress.textContent = '';
    }
    view.start.hidden = !!running;
    view.start.textContent = t(saved ? 'dl_refresh' : 'dl_start');
    view.stop.hidden = !running;
    var base = basemap();
    view.basemap.textContent = !base || base.kind === 'blank' ? t('dl_basemap_blank')
      : fill(t(base.bulk_download ? 'dl_basemap_yes' : 'dl_basemap_no'), {name: base.title});
    view.basemap.setAttribute('data-allowed', base && base.bulk_download ? 'true' : 'false');
  }

  function open() {
    view = {
      scope: el('p', {id: 'dl-scope', class: 'meta'}),
      status: el('p', {id: 'dl-status'}),
      bar: el('progress', {id: 'dl-bar', hidden: true}),
      progress: el('p', {id: 'dl-progress', class: 'meta', 'aria-live': 'polite'}),
      start: el('button', {type: 'button', id: 'dl-start', class: 'primary', onclick: start}),
      stop: el('button', {type: 'button', id: 'dl-stop', text: t('dl_stop'), onclick: stop}),
      basemap: el('p', {id: 'dl-basemap', class: 'hint'})
    };
    FieldMap.showSheet(t('dl_title'), [view.status, view.scope, view.bar, view.progress,
      el('div', {class: 'actions'}, [view.start, view.stop]), view.basemap], 'offline');
    render();
  }

  global.FieldDownload = {open: open, start: start, stop: stop, tileUrls: tileUrls, plan: plan};
})(window);
