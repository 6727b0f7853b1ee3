/* GisMap core: configuration, sign-in (session cookie or bearer token), fetching, safe DOM building, basemaps.
 * Every text that comes from data is put into the page with textContent, never as HTML. */
(function (global) {
  'use strict';

  var TOKEN_KEY = 'gis-service-token';
  // metric only: the scale bar Folium adds shows no feet or miles
  if (global.L && L.Control.Scale) { L.Control.Scale.mergeOptions({imperial: false}); }
  var GisMap = {config: null, map: null, layers: {}, vectorLayers: [], dataLayers: []};
  var headers = {};
  // One object handed to every VectorGrid as fetchOptions: signing in updates it in place.
  GisMap.fetchOptions = {headers: headers, credentials: 'same-origin'};

  /** An element with attributes and children; strings become text nodes (never HTML). */
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      var value = attrs[key];
      if (value === null || value === undefined || value === false) { return; }
      if (key === 'text') { node.textContent = String(value); }
      else if (key === 'class') { node.className = value; }
      else if (key.slice(0, 2) === 'on') { node.addEventListener(key.slice(2), value); }
      else if (key === 'style') { node.setAttribute('style', value); }
      else { node.setAttribute(key, value === true ? '' : String(value)); }
    });
    (children || []).forEach(function (child) {
      if (child === null || child === undefined) { return; }
      node.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)));
    });
    return node;
  }
  GisMap.el = el;

  var NARROW = global.matchMedia('(max-width: 600px)');
  var foldables = [];
  /** A panel that folds to its title on a phone-size screen (gismap.css hides the rest there),
   * so that legends leave the map visible; a tap or Enter on the title opens it (folding the
   * others, which it would cover) or folds it. Returns `mark`, to call again when the panel's
   * children are replaced. */
  GisMap.foldable = function (box) {
    function mark() {
      var title = box.querySelector(':scope > h4');
      if (!title) { return; }
      var folded = NARROW.matches && !box.classList.contains('gis-open');
      if (NARROW.matches) { title.setAttribute('role', 'button'); title.setAttribute('tabindex', '0'); }
      else { title.removeAttribute('role'); title.removeAttribute('tabindex'); }
      title.setAttribute('aria-expanded', folded ? 'false' : 'true');
    }
    function toggle(event) {
      if (!NARROW.matches || event.target.parentNode !== box || event.target.tagName !== 'H4') { return; }
      if (event.type === 'keydown' && event.key !== 'Enter' && event.key !== ' ') { return; }
      event.preventDefault();
      var opening = !box.classList.contains('gis-open');
      foldables = foldables.filter(function (other) { return other.box.isConnected; });
      foldables.forEach(function (other) {
        other.box.classList.toggle('gis-open', other.box === box && opening);
        other.mark();
      });
    }
    foldables.push({box: box, mark: mark});
    box.classList.add('gis-foldable');
    box.addEventListener('click', toggle);
    box.addEventListener('keydown', toggle);
    NARROW.addEventListener('change', mark);
    mark();
    return mark;
  };

  GisMap.t = function (key) {
    return (GisMap.config && GisMap.config.strings[key]) || key;
  };

  /** A URL template with {name} parts filled (values URL-encoded). */
  GisMap.url = function (template, values) {
    return template.replace(/\{(\w+)\}/g, function (all, name) {
      return name in values ? encodeURIComponent(values[name]) : all;
    });
  };

  GisMap.format = function (value, kind) {
    if (value === null || value === undefined || value === '' ||
        (typeof value === 'number' && !isFinite(value))) { return '–'; }
    if (typeof value === 'boolean') { return value ? '✓' : '✗'; }
    if (typeof value !== 'number') { return String(value); }
    if (kind === 'percent') { return (value * 100).toFixed(1) + '\u00a0%'; }  // never wrapped
    if (kind === 'ratio') { return value.toFixed(3); }
    if (kind === 'count') { return Math.round(value).toLocaleString(GisMap.config.lang === 'zh' ? 'zh-CN' : 'en'); }
    if (Number.isInteger(value) && Math.abs(value) < 10000) { return String(value); }  // years stay 1980
    if (Number.isInteger(value)) { return value.toLocaleString(GisMap.config.lang === 'zh' ? 'zh-CN' : 'en'); }
    return value.toFixed(2);
  };

  /** The label of a coded value of a catalog layer's field (the value itself when not coded). */
  GisMap.codeLabel = function (catalogId, field, value) {
    var cat = GisMap.config.catalog[catalogId];
    var labels = cat && cat.enums && cat.enums[field];
    return labels && value !== null && value !== undefined && labels[value] !== undefined ? labels[value] : value;
  };

  /** An API refusal in the page's language: by its status; an English page keeps the API's words. */
  GisMap.problemMessage = function (status, problem) {
    var own = GisMap.config && GisMap.config.strings['error_' + status];
    var general = GisMap.t(status >= 500 ? 'error_5xx' : 'error_4xx');
    if (GisMap.config && GisMap.config.lang !== 'zh' && (problem.detail || problem.title)) {
      return problem.detail || problem.title;
    }
    return (own || general) + ' (' + status + ')';
  };

  /** A feature's name as a person reads it: its English form on an English page when it has one. */
  GisMap.nameOf = function (props) {
    props = props || {};
    var english = GisMap.config && GisMap.config.lang === 'en' && props.name_en;
    return english || props.name || props.label || props.code || '';
  };

  GisMap.statusLabel = function (code) {
    var found = (GisMap.config.statuses || []).filter(function (s) { return s.code === code; })[0];
    return found ? found.label : code;
  };

  GisMap.statusColor = function (code) {
    var found = (GisMap.config.statuses || []).filter(function (s) { return s.code === code; })[0];
    return found ? found.color : '#607d8b';
  };

  /* ---- sign-in ---- */
  GisMap.token = function () { return headers.Authorization ? headers.Authorization.slice(7) : null; };

  GisMap.setToken = function (token) {
    token = (token || '').trim();
    if (token) {
      headers.Authorization = 'Bearer ' + token;
      try { sessionStorage.setItem(TOKEN_KEY, token); } catch (e) { /* storage refused */ }
    } else {
      delete headers.Authorization;
      try { sessionStorage.removeItem(TOKEN_KEY); } catch (e) { /* storage refused */ }
    }
    if (GisMap.signIn) { GisMap.signIn.refresh(); }
    GisMap.vectorLayers.forEach(function (layer) { if (layer._map) { layer.redraw(); } });
    GisMap.dataLayers.forEach(function (layer) { layer.gisReset(); });
  };

  /** The token from a #token= fragment (then removed from the address), else this tab's. */
  function tokenFromPage() {
    var hash = global.location.hash || '';
    var match = /(?:^#|&)token=([^&]+)/.exec(hash);
    if (match) {
      var rest = hash.slice(1).split('&').filter(function (p) { return p.indexOf('token=') !== 0; });
      history.replaceState(null, '', global.location.pathname + global.location.search +
                           (rest.length ? '#' + rest.join('&') : ''));
      return decodeURIComponent(match[1]);
    }
    try { return sessionStorage.getItem(TOKEN_KEY); } catch (e) { return null; }
  }

  /** A #map=zoom/lat/lon fragment: open the map there (shareable views). */
  function viewFromPage(map) {
    var match = /(?:^#|&)map=(\d+)\/(-?[\d.]+)\/(-?[\d.]+)/.exec(global.location.hash || '');
    if (match) { map.setView([Number(match[2]), Number(match[3])], Number(match[1]), {animate: false}); }
  }

  /** JSON from our API with the user's token; rejects with a readable message. */
  GisMap.fetchJson = function (url) {
    var inlined = GisMap.config && GisMap.config.data;
    if (inlined) {  // a static export: everything it shows is in the page
      return url in inlined ? Promise.resolve(JSON.parse(JSON.stringify(inlined[url])))
        : Promise.reject(new Error(GisMap.t('no_data')));
    }
    var request = {headers: Object.assign({Accept: 'application/geo+json, application/json'}, headers),
                   credentials: 'same-origin'};
    return fetch(url, request).catch(function () {
      throw new Error(GisMap.t('error_offline'));
    }).then(function (response) {
      if (response.status === 401 && GisMap.signIn) { GisMap.signIn.open(); }
      if (!response.ok) {
        return response.json().catch(function () { return {}; }).then(function (problem) {
          var error = new Error(GisMap.problemMessage(response.status, problem));
          error.status = response.status;
          throw error;
        });
      }
      return response.json();
    });
  };

  /** The sign-in page, coming back to this view (its fragment too) afterwards. */
  GisMap.goSignIn = function () {
    var here = global.location.pathname + global.location.search + global.location.hash;
    global.location.replace('/login?lang=' + GisMap.config.lang + '&next=' + encodeURIComponent(here));
  };

  function csrfCookie() {
    var found = document.cookie.split('; ').filter(function (c) { return c.indexOf('gis_csrf=') === 0; })[0];
    return found ? decodeURIComponent(found.slice(9)) : '';
  }
  /** Headers a write needs: the token, or with the session cookie its CSRF header. */
  GisMap.writeHeaders = function () {
    return Object.assign({'X-CSRF-Token': csrfCookie()}, headers);
  };

  /** A text with {name} parts filled from values (the page's strings are templates). */
  GisMap.fill = function (text, values) {
    return text.replace(/\{(\w+)\}/g, function (all, name) { return name in values ? String(values[name]) : all; });
  };

  /** POST JSON to our API (token, and the CSRF cookie's value for a session); the answer and its status. */
  GisMap.postJson = function (url, body) {
    var sent = Object.assign({'Content-Type': 'application/json', Accept: 'application/json'}, GisMap.writeHeaders());
    return fetch(url, {method: 'POST', headers: sent, credentials: 'same-origin', body: JSON.stringify(body)})
      .catch(function () { throw new Error(GisMap.t('error_offline')); })
      .then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (answer) {
          return {status: response.status, body: answer};
        });
      });
  };

  /* The signed-in user: a bearer token of this tab (#token=, for scripts and tests), else the
   * session cookie of the one sign-in (every tab); anonymous visitors go to the sign-in page. */
  var SignIn = L.Control.extend({
    options: {position: 'topright'},
    onAdd: function () {
      this.status = el('span', {class: 'gis-signin-status'});
      this.link = el('a', {class: 'gis-signin-link', href: '#', text: GisMap.t('sign_in'),
                           onclick: function (ev) { ev.preventDefault(); GisMap.goSignIn(); }});
      this.out = el('button', {type: 'button', class: 'gis-signout', text: GisMap.t('sign_out'),
                               onclick: function () { GisMap.signOut(); }});
      this.box = el('div', {class: 'gis-signin leaflet-bar'}, [this.status, this.link, this.out]);
      L.DomEvent.disableClickPropagation(this.box);
      L.DomEvent.disableScrollPropagation(this.box);
      this.refresh();
      return this.box;
    },
    refresh: function () {
      var name = GisMap.user && GisMap.user.username;
      var signed = !!(GisMap.token() || name);
      this.status.textContent = name ? GisMap.t('signed_in') + ': ' + name
        : (signed ? GisMap.t('signed_in') : GisMap.t('need_sign_in'));
      this.link.style.display = signed ? 'none' : '';
      this.out.style.display = signed ? '' : 'none';
    },
    open: function () { GisMap.goSignIn(); }
  });

  /** Sign out: forget this tab's token, or end the session (every tab) and go to sign in. */
  GisMap.signOut = function () {
    if (GisMap.token()) { GisMap.setToken(null); return; }
    fetch('/session/logout', {method: 'POST', headers: GisMap.writeHeaders(), credentials: 'same-origin'})
      .then(function () { GisMap.user = null; GisMap.goSignIn(); });
  };

  /** Who the session cookie names (none: to the sign-in page when the view needs a user). */
  function checkSession(required) {
    fetch('/session', {headers: {Accept: 'application/json'}, credentials: 'same-origin'})
      .then(function (response) {
        if (response.status === 401) {
          if (required) { GisMap.goSignIn(); }
          return null;
        }
        return response.ok ? response.json() : null;
      })
      .then(function (user) {
        GisMap.user = user;
        if (GisMap.signIn) { GisMap.signIn.refresh(); }
        if (user) { global.document.documentElement.setAttribute('data-gis-user', user.username); }
      })
      .catch(function () { /* offline: the page shows what it can */ });
  }

  /* ---- basemaps: the blank one is the offline fallback ---- */
  GisMap.blankBasemap = function () {
    return L.layerGroup();
  };

  GisMap.registerBasemaps = function (layers, blankId) {
    var map = GisMap.map;
    Object.keys(layers).forEach(function (id) {
      var layer = layers[id];
      if (id === blankId || !layer.on) { return; }
      var loaded = 0;
      var failed = 0;
      layer.on('tileload', function () { loaded += 1; });
      layer.on('tileerror', function () {
        failed += 1;
        if (failed === 4 && loaded === 0 && map.hasLayer(layer) && layers[blankId]) {
          map.removeLayer(layer);
          map.addLayer(layers[blankId]);
          map.attributionControl.addAttribution(GisMap.t('basemap_failed'));
        }
      });
    });
  };

  var PANES = {'gis-choropleth': 435, 'gis-context': 410, 'gis-amenities': 420,
               'gis-reach': 425, 'gis-areas': 430, 'gis-points': 450, 'gis-highlight': 460};

  GisMap.init = function (map, config) {
    GisMap.map = map;
    GisMap.config = config;
    Object.keys(PANES).forEach(function (name) {
      map.createPane(name).style.zIndex = PANES[name];
    });
    var start = config.initial_view;
    if (start) { map.setMinZoom(start.min_zoom); map.setMaxZoom(start.max_zoom); }
    map.attributionControl.setPrefix(false);
    if (config.fit_bounds) { map.fitBounds(config.fit_bounds, {maxZoom: 18, animate: false}); }
    viewFromPage(map);
    var token = tokenFromPage();
    if (token) { headers.Authorization = 'Bearer ' + token; }
    var needsUser = config.controls.indexOf('sign_in') >= 0;
    if (needsUser) {
      GisMap.signIn = new SignIn();
      map.addControl(GisMap.signIn);
    }
    if (!token && !config.data) { checkSession(needsUser); }
    if (config.controls.indexOf('search') >= 0 && GisMap.searchControl) {
      map.addControl(GisMap.searchControl());
    }
    if (config.controls.indexOf('scenarios') >= 0 && GisMap.scenarioControl) {
      GisMap.scenarios = GisMap.scenarioControl();
      map.addControl(GisMap.scenarios);
    }
    var stairwells = Object.keys(config.layers).some(function (id) {
      return config.layers[id].catalog.indexOf('stairwells') >= 0;
    });
    if (stairwells && GisMap.statusLegend) { map.addControl(GisMap.statusLegend()); }
    if (config.controls.indexOf('legend') >= 0 && GisMap.layerLegend) {
      map.whenReady(function () { map.addControl(GisMap.layerLegend()); });
    }
    if (GisMap.followView && !config.export) { GisMap.followView(map); }
    global.document.documentElement.setAttribute('data-gis-ready', 'init');
  };

  global.GisMap = GisMap;
})(window);
