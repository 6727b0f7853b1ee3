/* GisMap layers: our vector tiles (VectorGrid), GeoJSON fetched by URL, popups, search. */
(function (GisMap) {
  'use strict';
  var el = GisMap.el;
  var t = GisMap.t;

  function cfg() { return GisMap.config; }

  function paneFor(layerCfg, cat) {
    if (layerCfg.click === 'stairwell' && layerCfg.kind !== 'tiles') { return 'gis-highlight'; }
    if (cat && cat.geometry === 'point') { return 'gis-points'; }
    if (layerCfg.kind === 'tiles') {
      var amenity = layerCfg.catalog.some(function (id) { return (cfg().catalog[id] || {}).amenity; });
      return amenity ? 'gis-amenities' : 'gis-context';
    }
    return cat ? 'gis-areas' : 'gis-reach';
  }

  function dominantStatus(props) {
    var best = null;
    var most = -1;
    (cfg().statuses || []).forEach(function (s) {
      var n = props['n_' + s.code] || 0;
      if (n > most) { most = n; best = s.code; }
    });
    return best;
  }

  /** The style function of one catalog layer inside a vector tile (with overrides). */
  function tileStyle(catalogId, override) {
    var cat = cfg().catalog[catalogId];
    var st = cat.style;
    return function (props) {
      props.__layer = catalogId;  // lets a click know which layer of a multi-layer tile it hit
      var color = override.color || st.color;
      if (st.color_by && st.colors[props[st.color_by]]) { color = st.colors[props[st.color_by]]; }
      if (cat.geometry === 'point') {
        if (props.count !== undefined && props.id === undefined) {
          var status = dominantStatus(props);
          return {radius: Math.min(4 + Math.sqrt(props.count) * 1.5, 24), fill: true,
                  fillColor: status ? GisMap.statusColor(status) : color, fillOpacity: 1,
                  color: '#ffffff', weight: 1};
        }
        return {radius: override.radius || st.radius, fill: true, fillColor: color,
                fillOpacity: 1, color: '#ffffff', weight: 1};
      }
      if (cat.geometry === 'linestring') {
        return {color: color, weight: override.weight || st.weight, opacity: 0.85};
      }
      return {color: color, weight: override.weight || st.weight, fill: true, fillColor: color,
              fillOpacity: override.fill_opacity !== undefined ? override.fill_opacity : st.fill_opacity};
    };
  }

  GisMap.vectorOptions = function (layerId) {
    var layerCfg = cfg().layers[layerId];
    var styles = {};
    var minzoom = 24;
    layerCfg.catalog.forEach(function (id) {
      styles[id] = tileStyle(id, layerCfg.style || {});
      minzoom = Math.min(minzoom, cfg().catalog[id].minzoom);
    });
    var interactive = layerCfg.click !== 'none';
    return {
      rendererFactory: interactive ? L.svg.tile : L.canvas.tile,
      interactive: interactive,
      vectorTileLayerStyles: styles,
      fetchOptions: GisMap.fetchOptions,
      pane: paneFor(layerCfg, cfg().catalog[layerCfg.catalog[0]]),
      minZoom: Math.max(minzoom, layerCfg.min_zoom || 0),
      maxNativeZoom: 22,
      getFeatureId: function (f) { return f.properties.id; }
    };
  };

  GisMap.bindVector = function (layer, layerId) {
    var layerCfg = cfg().layers[layerId];
    GisMap.vectorLayers.push(layer);
    GisMap.layers[layerId] = layer;
    var drawn = 0;
    layer.on('tileload', function () {
      var root = document.documentElement;
      drawn += 1;
      if (drawn === 1) { root.setAttribute('data-gis-first-tile-' + layerId, String(Math.round(performance.now()))); }
      root.setAttribute('data-gis-tiles-' + layerId, String(drawn));
    });
    if (layerCfg.click === 'none') { return; }
    layer.on('click', function (e) {
      var props = e.layer && e.layer.properties;
      if (!props) { return; }
      if (props.count !== undefined && props.id === undefined) {
        GisMap.openPopup(e.latlng, aggregatePopup(props));
      } else if (layerCfg.click === 'stairwell' && props.__layer === 'stairwells') {
        GisMap.stairwellPopup(props.id, e.latlng);
      } else {
        GisMap.featurePopup(props.__layer, props.id, e.latlng);
      }
    });
  };

  function aggregatePopup(props) {
    var rows = (cfg().statuses || []).filter(function (s) { return props['n_' + s.code]; })
      .map(function (s) {
        return el('tr', {}, [el('th', {}, [swatch(s.color), s.label]),
                             el('td', {text: GisMap.format(props['n_' + s.code])})]);
      });
    return el('div', {class: 'gis-popup'}, [
      el('h4', {text: t('aggregated')}),
      el('p', {text: t('count') + ': ' + GisMap.format(props.count) +
               (props.households !== undefined ? ' · ' + t('households') + ': ' + GisMap.format(props.households) : '')}),
      el('table', {}, rows)]);
  }

  function swatch(color) {
    return el('span', {class: 'gis-swatch', style: 'background:' + color});
  }
  GisMap.swatch = swatch;

  GisMap.openPopup = function (latlng, content) {
    return L.popup({maxWidth: 360}).setLatLng(latlng).setContent(content).openOn(GisMap.map);
  };

  function fieldRows(catalogId, props) {
    var cat = cfg().catalog[catalogId];
    return cat.popup.map(function (pair) {
      var value = props[pair[0]];
      var shown = pair[0] === 'elevator_status' ? [swatch(GisMap.statusColor(value)), GisMap.statusLabel(value)]
        : [GisMap.format(GisMap.codeLabel(catalogId, pair[0], value))];
      return el('tr', {}, [el('th', {text: pair[1]}), el('td', {}, shown)]);
    });
  }

  GisMap.featurePopup = function (catalogId, id, latlng) {
    var cat = cfg().catalog[catalogId];
    var body = el('div', {class: 'gis-popup'}, [el('h4', {text: cat.title}), el('p', {text: t('loading')})]);
    var popup = GisMap.openPopup(latlng, body);
    GisMap.fetchJson(GisMap.url(cfg().urls.item, {layer: catalogId, id: id})).then(function (feature) {
      var props = feature.properties || {};
      body.replaceChildren(el('h4', {text: GisMap.nameOf(props) || cat.title}), el('table', {}, fieldRows(catalogId, props)));
      popup.update();
    }).catch(function (err) { body.replaceChildren(el('p', {class: 'gis-error', text: err.message})); popup.update(); });
  };

  /** Status changes, oldest first: the API's status_history when given, else from the edit log. */
  function statusChanges(history) {
    if (Array.isArray(history.status_history)) {
      return history.status_history.map(function (h) {
        return {at: h.changed_on || h.changed_at, from: h.from_status, to: h.to_status, by: h.changed_by};
      });
    }
    function props(side) { return side ? side.properties || side : {}; }  // stored as features
    return (history.entries || []).filter(function (entry) {
      var after = props(entry.after);
      return after.elevator_status && after.elevator_status !== props(entry.before).elevator_status;
    }).map(function (entry) {
      return {at: entry.at, from: props(entry.before).elevator_status,
              to: props(entry.after).elevator_status, by: entry.username};
    });
  }

  GisMap.stairwellPopup = function (id, latlng) {
    var body = el('div', {class: 'gis-popup gis-stairwell', 'data-stairwell': id}, [el('p', {text: t('loading')})]);
    var popup = GisMap.openPopup(latlng, body);
    var item = GisMap.fetchJson(GisMap.url(cfg().urls.item, {layer: 'stairwells', id: id}));
    var history = GisMap.fetchJson(GisMap.url(cfg().urls.history, {layer: 'stairwells', id: id}))
      .catch(function (err) { return {error: err.message}; });
    Promise.all([item, history]).then(function (both) {
      var props = both[0].properties || {};
      var changes = both[1].error ? null : statusChanges(both[1]);
      var list = changes === null ? el('p', {class: 'gis-error', text: both[1].error})
        : changes.length === 0 ? el('p', {class: 'gis-muted', text: t('no_history')})
        : el('ol', {class: 'gis-history'}, changes.map(function (c) {
          return el('li', {}, [String(c.at || '').slice(0, 10) + ' ',
                               c.from ? GisMap.statusLabel(c.from) + ' → ' : '',
                               swatch(GisMap.statusColor(c.to)), GisMap.statusLabel(c.to),
                               c.by ? ' (' + c.by + ')' : '']);
        }));
      body.replaceChildren(
        el('h4', {text: cfg().catalog.stairwells.title + ' ' + (props.label || id)}),
        el('table', {}, fieldRows('stairwells', props)),
        el('h5', {text: t('history')}), list);
      if (GisMap.stairwellExtras) { GisMap.stairwellExtras(body, id, popup); }  // gismap-consent.js
      body.setAttribute('data-loaded', 'true');
      popup.update();
    }).catch(function (err) {
      body.replaceChildren(el('p', {class: 'gis-error', text: err.message}));
      popup.update();
    });
  };

  /* ---- GeoJSON fetched by URL (small layers; by view bbox when configured) ---- */
  GisMap.geoJsonLayer = function (layerId) {
    var layerCfg = cfg().layers[layerId];
    var catalogId = layerCfg.catalog[0];
    var cat = catalogId ? cfg().catalog[catalogId] : null;
    var pane = paneFor(layerCfg, cat);
    var fallback = {color: '#455a64', fill_opacity: 0.2, weight: 1.5, radius: 6};
    function styleOf(feature) {
      var own = feature && feature.properties && cfg().catalog[feature.properties.__layer];
      var c = own || cat;
      var st = Object.assign({}, c ? c.style : fallback, layerCfg.style || {});
      var color = st.color;
      if (c && st.color_by && st.colors[feature.properties[st.color_by]]) { color = st.colors[feature.properties[st.color_by]]; }
      var point = c && c.geometry === 'point';
      return {color: point && own ? '#ffffff' : color, weight: point && own ? 1 : st.weight,
              fillColor: st.fill_color || color, fillOpacity: point && own ? 1 : st.fill_opacity,
              dashArray: st.dash || null, pane: own && point ? 'gis-points' : pane, radius: st.radius || 6};
    }
    var layer = L.geoJSON(null, {
      pane: pane,
      style: styleOf,
      pointToLayer: function (f, latlng) { return L.circleMarker(latlng, styleOf(f)); },
      onEachFeature: function (feature, sub) {
        bindFeature(layerCfg, (feature.properties || {}).__layer || catalogId, feature, sub);
      }
    });
    var loadedUrl = null;
    var loadedBounds = null;
    function load() {
      var map = GisMap.map;
      if (!map.hasLayer(layer)) { return; }
      if (layerCfg.min_zoom && map.getZoom() < layerCfg.min_zoom) {
        layer.clearLayers(); loadedUrl = null; loadedBounds = null; return;
      }
      var url = layerCfg.url || (layerCfg.urls || []).join(' ');
      var view = map.getBounds();
      if (layerCfg.bbox) {
        if (loadedBounds && loadedBounds.contains(view)) { return; }
        var padded = view.pad(0.3);
        url += (url.indexOf('?') >= 0 ? '&' : '?') + 'bbox=' + [padded.getWest(), padded.getSouth(),
          padded.getEast(), padded.getNorth()].map(function (v) { return v.toFixed(6); }).join(',');
        loadedBounds = padded;
      }
      if (url === loadedUrl) { return; }
      loadedUrl = url;
      var urls = layerCfg.urls || [url];  // a static export: one URL per catalog layer
      Promise.all(urls.map(GisMap.fetchJson)).then(function (answers) {
        if (url !== loadedUrl) { return; }
        layer.clearLayers();
        answers.forEach(function (data, k) {
          if (layerCfg.urls) {
            data.features.forEach(function (f) { f.properties.__layer = layerCfg.catalog[k]; });
          }
          layer.addData(data);
        });
        document.documentElement.setAttribute('data-gis-loaded-' + layerId, String(layer.getLayers().length));
      }).catch(function (err) {
        loadedUrl = null; loadedBounds = null;
        document.documentElement.setAttribute('data-gis-failed-' + layerId, err.message);
      });
    }
    layer.gisReset = function () { loadedUrl = null; loadedBounds = null; load(); };
    layer.on('add', load);
    GisMap.map.on('moveend', load);
    GisMap.dataLayers.push(layer);
    GisMap.layers[layerId] = layer;
    return layer;
  };

  function featureName(feature) {
    return GisMap.nameOf(feature.properties) || (feature.id !== undefined ? '#' + feature.id : '');
  }

  function bindFeature(layerCfg, catalogId, feature, sub) {
    var name = featureName(feature);
    if (name && layerCfg.click !== 'none') {
      sub.bindTooltip(el('span', {text: name}), {sticky: true});
    }
    if (layerCfg.click === 'none') { return; }
    sub.on('click', function (e) {
      var id = feature.id !== undefined ? feature.id : (feature.properties || {}).id;
      var props = feature.properties || {};
      if (layerCfg.click === 'compound') { GisMap.compoundCard(id, name); }
      else if (layerCfg.click === 'stairwell' && (!props.__layer || props.__layer === 'stairwells')) {
        GisMap.stairwellPopup(props.stairwell_id || id, e.latlng);
      } else if (catalogId && cfg().export) {
        GisMap.openPopup(e.latlng, el('div', {class: 'gis-popup'}, [el('h4', {text: name || cfg().catalog[catalogId].title}),
          el('table', {}, fieldRows(catalogId, props))]));
      } else if (catalogId) { GisMap.featurePopup(catalogId, id, e.latlng); }
      else { GisMap.openPopup(e.latlng, propertiesTable(feature.properties || {})); }
    });
  }

  function propertiesTable(props) {
    return el('table', {class: 'gis-popup'}, Object.keys(props).map(function (key) {
      return el('tr', {}, [el('th', {text: key}), el('td', {text: GisMap.format(props[key])})]);
    }));
  }
  GisMap.propertiesTable = propertiesTable;

  /* ---- search: compounds, communities, grids, buildings (with their compound), pinyin ---- */
  GisMap.searchControl = function () {
    var Search = L.Control.extend({
      options: {position: 'topleft'},
      onAdd: function () {
        var results = el('ul', {class: 'gis-search-results'});
        var timer = null;
        var input = el('input', {type: 'search', placeholder: t('search'), 'aria-label': t('search'),
          oninput: function () { clearTimeout(timer); timer = setTimeout(function () { run(input.value, results); }, 300); }});
        var box = el('div', {class: 'gis-search leaflet-bar'}, [input, results]);
        L.DomEvent.disableClickPropagation(box);
        L.DomEvent.disableScrollPropagation(box);
        return box;
      }
    });
    return new Search();
  };

  function run(text, results) {
    text = text.trim();
    results.replaceChildren();
    if (!text) { return; }
    var url = cfg().urls.search + '?q=' + encodeURIComponent(text.slice(0, 60)) + '&layers=' + cfg().search.join(',');
    GisMap.fetchJson(url).then(function (answer) {
      var hits = answer.hits || [];
      results.replaceChildren();
      if (!hits.length) { results.appendChild(el('li', {class: 'gis-muted', text: t('no_results')})); }
      hits.forEach(function (hit) {
        var where = hit.compound ? ' · ' + GisMap.nameOf(hit.compound) : '';
        var title = hit.layer_title[cfg().lang] || hit.layer;
        results.appendChild(el('li', {'data-layer': hit.layer, 'data-id': hit.id}, [el('button', {type: 'button',
          onclick: function () { GisMap.goTo(hit); results.replaceChildren(); }},
          [GisMap.nameOf(hit) || hit.code || ('#' + hit.id), el('small', {text: where + ' · ' + title})])]));
      });
    }).catch(function (err) { results.replaceChildren(el('li', {class: 'gis-error', text: err.message})); });
  }

  /** Show a found place: fit its bounds; a compound opens its card. */
  GisMap.goTo = function (hit) {
    var b = hit.bbox;
    GisMap.map.fitBounds([[b[1], b[0]], [b[3], b[2]]], {maxZoom: 18, animate: false});
    if (hit.layer === 'compounds') { GisMap.compoundCard(hit.id, GisMap.nameOf(hit)); }
  };
})(window.GisMap);
