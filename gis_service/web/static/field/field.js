/* The field map: one grid on a phone. Layers come from maps/field.yaml (via the page's config);
 * stairwells are coloured by survey status (fill) and elevator status (ring). The page, its
 * scripts and the grid's data are cached by the service worker (sw.js) after the first visit. */
(function (global) {
  'use strict';

  var cfg = null;
  var FieldMap = {map: null, layers: {}, features: {}, markers: {}, position: null, rules: null, buildings: {},
                  compounds: {}};

  function t(key) { return (cfg && cfg.strings[key]) || key; }
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      var v = attrs[k];
      if (v === null || v === undefined || v === false) { return; }
      if (k === 'text') { node.textContent = String(v); }
      else if (k === 'class') { node.className = v; }
      else if (k.slice(0, 2) === 'on') { node.addEventListener(k.slice(2), v); }
      else { node.setAttribute(k, v === true ? '' : String(v)); }
    });
    (children || []).forEach(function (c) {
      if (c !== null && c !== undefined) { node.appendChild(typeof c === 'object' ? c : document.createTextNode(String(c))); }
    });
    return node;
  }
  FieldMap.el = el;
  FieldMap.t = t;
  function mark(name, value) { document.documentElement.setAttribute('data-field-' + name, String(value)); }
  FieldMap.mark = mark;

  function lookup(list, code) { return list.filter(function (s) { return s.code === code; })[0] || {label: code, color: '#607d8b'}; }
  FieldMap.surveyInfo = function (code) { return lookup(cfg.survey, code); };
  FieldMap.statusInfo = function (code) { return lookup(cfg.statuses, code); };
  /** "3栋 · 2单元": stairwell labels repeat from building to building. */
  FieldMap.unitName = function (f) {
    var b = FieldMap.buildings[f.properties.building_id];
    return (b ? b + ' · ' : '') + f.properties.label;
  };
  /** The stairwell's compound ("" until the compounds are loaded). */
  FieldMap.compoundName = function (f) { return FieldMap.compounds[f.properties.compound_id] || ''; };
  /** "水荫南小区 · 3栋 · 2单元": buildings are numbered again in every compound. */
  FieldMap.name = function (f) {
    var c = FieldMap.compoundName(f);
    return (c ? c + ' · ' : '') + FieldMap.unitName(f);
  };

  /* ---- chrome: top bar (grid, pending, network), bottom bar (thumb buttons), bottom sheet ---- */
  function chrome() {
    var pending = el('button', {id: 'pending', type: 'button', class: 'chip', 'data-count': '0', text: t('all_sent'),
                                onclick: function () { FieldForms.openOutbox(); }});
    var net = el('button', {id: 'net', type: 'button', class: 'chip', onclick: function () { FieldDownload.open(); }});
    var out = el('button', {id: 'logout', type: 'button', class: 'chip', text: t('sign_out'), onclick: logout});
    document.body.appendChild(el('header', {id: 'topbar'}, [
      el('strong', {id: 'grid-name', 'data-grid': cfg.grid.id, text: cfg.grid.name}), pending, net, out]));
    document.body.appendChild(el('nav', {id: 'bottombar'}, [
      el('button', {id: 'locate', type: 'button', text: '◎ ' + t('locate'), onclick: locate}),
      el('button', {id: 'list-btn', type: 'button', text: '☰ ' + t('list'), onclick: function () { FieldList.show(); }}),
      el('button', {id: 'report-btn', type: 'button', text: '⚠ ' + t('report'),
                    onclick: function () { FieldForms.openIssue(null); }})]));
    var body = el('div', {class: 'sheet-body'});
    var title = el('h2', {class: 'sheet-title'});
    document.body.appendChild(el('section', {id: 'sheet', hidden: true, 'aria-live': 'polite'}, [
      el('div', {class: 'sheet-head'}, [title, el('button', {type: 'button', class: 'sheet-close',
        'aria-label': t('close'), text: '×', onclick: FieldMap.closeSheet})]), body]));
    FieldMap.sheet = {title: title, body: body};
    function network() {
      net.textContent = navigator.onLine ? t('online') : t('offline');
      net.className = 'chip ' + (navigator.onLine ? 'on' : 'off');
    }
    global.addEventListener('online', function () { network(); FieldOutbox.flush(); });
    global.addEventListener('offline', network);
    network();
  }

  FieldMap.showSheet = function (title, nodes, id) {
    FieldMap.sheet.title.textContent = title;
    FieldMap.sheet.body.replaceChildren.apply(FieldMap.sheet.body, nodes);
    var sheet = document.getElementById('sheet');
    sheet.hidden = false;
    sheet.scrollTop = 0;
    sheet.setAttribute('data-view', id || '');
  };
  FieldMap.closeSheet = function () {
    document.getElementById('sheet').hidden = true;
    if (global.FieldForms) { FieldForms.clearSpot(); }
  };

  function pendingChanged(ops) {
    var chip = document.getElementById('pending');
    if (!chip) { return; }
    chip.setAttribute('data-count', String(ops.length));
    chip.textContent = ops.length ? t('pending').replace('{n}', ops.length) : t('all_sent');
    chip.className = 'chip' + (ops.length ? ' waiting' : '');
    applyPending(ops);
  }

  /* ---- layers ---- */
  FieldMap.blankBasemap = function () { return L.layerGroup(); };

  FieldMap.layer = function (id) {
    var lc = cfg.layers[id];
    if (lc.kind === 'tiles') {
      var styles = {
        buildings: {fill: true, fillColor: '#cfd8dc', fillOpacity: 0.7, color: '#90a4ae', weight: 1},
        streets: {color: '#b0bec5', weight: 2}
      };
      // deeper zooms draw the last downloaded zoom's tiles enlarged (download.js)
      FieldMap.layers[id] = L.vectorGrid.protobuf(lc.url, {vectorTileLayerStyles: styles, interactive: false,
        maxNativeZoom: cfg.offline.zooms[1], fetchOptions: {credentials: 'same-origin'}});
      return FieldMap.layers[id];
    }
    var st = lc.style;
    var layer = L.geoJSON(null, {
      style: function () {
        return {color: st.color, weight: st.weight, fillOpacity: st.fill_opacity, fillColor: st.color};
      },
      pointToLayer: function (feature, latlng) {
        if (id === 'stairwells') { return stairwellMarker(feature, latlng); }
        var color = (st.colors || {})[feature.properties[st.color_by]] || st.color;
        if (id === 'issues') { return FieldMarkers.issueMarker(feature, latlng, color); }
        return L.circleMarker(latlng, {radius: st.radius || 6, color: '#fff', weight: 1, fillColor: color, fillOpacity: 0.9});
      },
      onEachFeature: function (feature, sub) {
        if (id === 'issues') {
          var cat = lookup(cfg.categories, feature.properties.category).label;
          sub.bindPopup(function () { return FieldMarkers.issuePopup(feature, cat); },
            {maxWidth: 260, autoPanPaddingTopLeft: L.point(10, 64)});
        }
      }
    });
    FieldMap.layers[id] = layer;
    load(id, layer);
    return layer;
  };

  /** Drawn only: taps are read from the map (markers.js), each marker reaching 22 px around it. */
  function stairwellMarker(feature, latlng) {
    var marker = L.circleMarker(latlng, {radius: 11, weight: 4, fillOpacity: 0.95, interactive: false,
      className: 'stairwell-marker'});
    FieldMap.markers[feature.id] = marker;
    return marker;
  }

  FieldMap.restyle = function (id) {
    var f = FieldMap.features[id];
    var m = FieldMap.markers[id];
    if (!f || !m) { return; }
    m.setStyle({fillColor: FieldMap.surveyInfo(f.properties.survey_status).color,
                color: FieldMap.statusInfo(f.properties.elevator_status).color,
                dashArray: f.pending ? '4 3' : null});
  };

  function load(id, layer) {
    fetch(cfg.layers[id].url, {credentials: 'same-origin', headers: {Accept: 'application/geo+json'}})
      .then(function (r) {
        if (r.status === 401) { global.location.href = cfg.urls.login + '?next=' + encodeURIComponent(location.pathname + location.search); }
        if (!r.ok) { throw new Error(String(r.status)); }
        return r.json();
      })
      .then(function (data) {
        layer.addData(data);
        if (id === 'stairwells') {
          (data.features || []).forEach(function (f) {
            f.etag = '"' + f.properties.version + '"';
            f.server = Object.assign({}, f.properties);
            FieldMap.features[f.id] = f;
          });
          FieldOutbox.all().then(applyPending).then(function () {
            FieldClusters.update();
            mark('ready', data.features.length);
          });
        }
        mark('loaded-' + id, layer.getLayers().length);
      })
      .catch(function (err) { mark('failed-' + id, err.message); });
  }

  /** Show edits still in the outbox on their stairwells (also after an offline reload). */
  function applyPending(ops) {
    Object.keys(FieldMap.features).forEach(function (id) {
      var f = FieldMap.features[id];
      f.properties = Object.assign({}, f.server);
      f.pending = false;
    });
    ops.forEach(function (op) {
      var f = op.kind === 'survey' && FieldMap.features[op.stairwell_id];
      if (f) { Object.assign(f.properties, op.patch); f.pending = true; }
    });
    Object.keys(FieldMap.features).forEach(FieldMap.restyle);
    if (global.FieldList) { FieldList.refresh(); }
  }

  FieldMap.saved = function (op, feature, etag) {
    if (op.kind === 'survey') {
      var f = FieldMap.features[op.stairwell_id];
      if (f) { f.server = Object.assign({}, feature.properties); f.etag = etag; }
    } else if (FieldMap.layers.issues) {
      FieldMap.layers.issues.addData(feature);
    }
  };

  /* ---- where am I (the list by distance is list.js) ---- */
  var here = null, spread = null;
  /** Whether the last fix is fine enough to place an issue (maps/field.yaml). */
  FieldMap.preciseEnough = function () {
    return FieldMap.accuracy !== null && FieldMap.accuracy <= cfg.issue_max_accuracy_m;
  };
  /** Why the last fix cannot place an issue, in the page's language. */
  FieldMap.coarseText = function () {
    return t('too_coarse').replace('{m}', Math.round(FieldMap.accuracy)).replace('{max}', cfg.issue_max_accuracy_m);
  };
  FieldMap.accuracy = null;
  function locate(then) {
    if (!navigator.geolocation) { return; }
    navigator.geolocation.getCurrentPosition(function (pos) {
      var latlng = L.latLng(pos.coords.latitude, pos.coords.longitude);
      var metres = pos.coords.accuracy;
      FieldMap.position = latlng;
      FieldMap.accuracy = metres;
      var coarse = !FieldMap.preciseEnough();
      if (!spread) {
        spread = L.circle(latlng, {radius: metres, interactive: false, weight: 1, color: '#1e88e5', fillOpacity: 0.12,
                                   className: 'accuracy-circle'}).addTo(FieldMap.map);
        here = L.circleMarker(latlng, {radius: 8, color: '#fff', weight: 3, fillColor: '#1e88e5', fillOpacity: 1,
                                       interactive: false}).addTo(FieldMap.map);
        here.bindTooltip('', {permanent: true, direction: 'right', offset: [10, 0], className: 'accuracy-label'});
      }
      spread.setLatLng(latlng).setRadius(metres);
      spread.setStyle({color: coarse ? '#e65100' : '#1e88e5', fillColor: coarse ? '#ff9800' : '#1e88e5'});
      here.setLatLng(latlng).setTooltipContent(t('accuracy').replace('{m}', Math.round(metres)));
      var label = here.getTooltip().getElement();
      if (label) { label.classList.toggle('coarse', coarse); }
      FieldMap.accuracyCircle = spread;
      if (coarse) { FieldMap.map.fitBounds(spread.getBounds(), {maxZoom: 18, animate: false}); }
      else { FieldMap.map.setView(latlng, Math.max(FieldMap.map.getZoom(), 18), {animate: false}); }
      mark('accuracy', Math.round(metres));
      mark('located', latlng.lat.toFixed(6) + ',' + latlng.lng.toFixed(6));
      if (typeof then === 'function') { then(); }
    }, function () {
      mark('located', 'failed');
      if (typeof then === 'function') { then(); }
    }, {enableHighAccuracy: true, timeout: 10000, maximumAge: 0});
  }
  FieldMap.locate = locate;

  function logout() {
    FieldOutbox.all().then(function (ops) {
      if (ops.length && !global.confirm(t('pending').replace('{n}', ops.length) + '. ' + t('sign_out') + '?')) { return; }
      var h = {}; h[cfg.csrf.header] = (new RegExp('(?:^|; )' + cfg.csrf.cookie + '=([^;]*)').exec(document.cookie) || [])[1] || '';
      fetch(cfg.urls.logout, {method: 'POST', headers: h, credentials: 'same-origin'}).finally(function () {
        Object.keys(global.localStorage).forEach(function (k) {  // downloads and views noted
          if (/^gis-field-(download|view):/.test(k)) { global.localStorage.removeItem(k); }
        });
        if (navigator.serviceWorker && navigator.serviceWorker.controller) {
          navigator.serviceWorker.controller.postMessage({type: 'clear'});
        }
        global.location.href = cfg.urls.login;
      });
    });
  }

  /* ---- offline: the service worker caches the page, its assets and the grid's data ---- */
  function offlineReady() {
    if (!('serviceWorker' in navigator)) { return; }
    navigator.serviceWorker.addEventListener('message', function (ev) {
      if (ev.data && ev.data.type === 'precached') { mark('offline-ready', ev.data.count); }
    });
    navigator.serviceWorker.register(cfg.urls.worker, {scope: cfg.urls.scope}).then(function () {
      return navigator.serviceWorker.ready;
    }).then(function (reg) {
      reg.active.postMessage({type: 'precache', urls: FieldMap.offlineUrls()});
    }).catch(function (err) { mark('offline-ready', 'failed: ' + err.message); });
  }

  /** What the page needs to open offline: itself, its scripts and styles, the grid's data. */
  FieldMap.offlineUrls = function () {
    var urls = [location.pathname + location.search, cfg.urls.rules, cfg.urls.buildings, cfg.urls.compounds];
    document.querySelectorAll('script[src], link[rel=stylesheet][href]').forEach(function (n) {
      urls.push(n.getAttribute('src') || n.getAttribute('href'));
    });
    Object.keys(cfg.layers).forEach(function (id) { if (cfg.layers[id].kind === 'geojson') { urls.push(cfg.layers[id].url); } });
    Array.prototype.forEach.call(document.styleSheets, function (sheet) {  // control icons, sprites
      var rules = [];
      try { rules = sheet.cssRules || []; } catch (e) { return; }
      Array.prototype.forEach.call(rules, function (rule) {
        var found, pattern = /url\("?([^")]+)"?\)/g;
        while ((found = pattern.exec(rule.cssText || ''))) {
          var url = new URL(found[1], sheet.href || location.href);
          if (url.origin === location.origin) { urls.push(url.pathname); }
        }
      });
    });
    if (L.Icon && L.Icon.Default) {  // the issue spot's pin: its images are named in script, not CSS
      var pin = new L.Icon.Default();
      var path = pin.options.imagePath || L.Icon.Default.imagePath || pin._detectIconPath();
      ['iconUrl', 'iconRetinaUrl', 'shadowUrl'].forEach(function (k) {
        urls.push(new URL(path + pin.options[k], location.href).pathname);
      });
    }
    return urls.filter(function (u, i) { return urls.indexOf(u) === i; });
  };

  /** Which basemap is shown (the download fetches it only where its terms allow). */
  function followBasemap(map) {
    FieldMap.basemap = cfg.offline.default_basemap;
    map.on('baselayerchange', function (ev) {
      var found = cfg.offline.basemaps.filter(function (b) { return b.title === ev.name; })[0];
      if (found) { FieldMap.basemap = found.id; mark('basemap', found.id); }
    });
  }

  /* ---- the view survives a reload (also offline): kept per worker and grid ---- */
  function viewKey(config) { return 'gis-field-view:' + config.user.username + ':' + config.grid.id; }
  function restoreView(map, config) {
    var saved = null;
    try { saved = JSON.parse(global.localStorage.getItem(viewKey(config)) || 'null'); } catch (e) { saved = null; }
    if (saved && isFinite(saved.lat) && isFinite(saved.lng) && isFinite(saved.zoom)) {
      map.setView([saved.lat, saved.lng], saved.zoom, {animate: false});
      mark('view', 'restored');
    } else {
      map.fitBounds(config.grid.bounds, {padding: [8, 8]});
    }
    map.on('moveend', function () {
      var c = map.getCenter();
      global.localStorage.setItem(viewKey(config), JSON.stringify({lat: c.lat, lng: c.lng, zoom: map.getZoom()}));
    });
  }

  FieldMap.init = function (map, config) {
    cfg = config;
    FieldMap.map = map;
    FieldMap.config = config;
    restoreView(map, config);
    chrome();
    FieldOutbox.init({user: cfg.user.username, urls: cfg.urls, csrfCookie: cfg.csrf.cookie, csrfHeader: cfg.csrf.header}, {
      changed: pendingChanged, saved: FieldMap.saved,
      conflict: function (op) { FieldForms.conflicted(op); },
      failed: function () { FieldForms.openOutbox(); },
      auth: function () { mark('auth', 'expired'); FieldForms.notice(t('sign_in_again')); }
    }).then(function () { FieldOutbox.flush(); });
    fetch(cfg.urls.buildings, {credentials: 'same-origin'}).then(function (r) { return r.json(); })
      .then(function (data) {
        (data.features || []).forEach(function (b) { FieldMap.buildings[b.id] = b.properties.name; });
      }).catch(function () { /* names are a convenience */ });
    fetch(cfg.urls.compounds, {credentials: 'same-origin'}).then(function (r) { return r.json(); })
      .then(function (data) {
        (data.features || []).forEach(function (c) {
          FieldMap.compounds[c.id] = (cfg.lang === 'en' && c.properties.name_en) || c.properties.name;
        });
        mark('compounds', Object.keys(FieldMap.compounds).length);
      }).catch(function () { mark('compounds', 'failed'); });
    fetch(cfg.urls.rules, {credentials: 'same-origin'}).then(function (r) { return r.json(); })
      .then(function (doc) { FieldMap.rules = doc; mark('rules', 'loaded'); })
      .catch(function () { mark('rules', 'failed'); });
    followBasemap(map);
    map.on('zoomend', FieldClusters.update);
    map.on('click', FieldMarkers.tapped);
    FieldMarkers.legend();
    setInterval(function () { if (navigator.onLine) { FieldOutbox.flush(); } }, 10000);
    offlineReady();
  };

  global.FieldMap = FieldMap;
})(window);
