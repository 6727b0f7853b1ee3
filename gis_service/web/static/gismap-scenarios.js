/* GisMap scenarios: choose a stored scenario, swipe baseline against scenario, indicator deltas. */
(function (GisMap) {
  'use strict';
  var el = GisMap.el;
  var t = GisMap.t;
  var SHARE_BREAKS = [0.2, 0.4, 0.6, 0.8];
  var RAMP = ['#f7fcf5', '#c7e9c0', '#74c476', '#238b45', '#00441b'];

  function cfg() { return GisMap.config; }
  function isShare(indicator) { return indicator.indexOf('share') >= 0; }
  function label(indicator) { return (cfg().indicators || {})[indicator] || indicator; }
  /** Shares as percentages, supply per household with 3 decimals, spaces and households whole. */
  function formatOf(indicator) {
    if (isShare(indicator)) { return 'percent'; }
    if (/_ratio$/.test(indicator)) { return 'ratio'; }
    if (/_(shortage|households_short)$/.test(indicator)) { return 'count'; }
    return 'number';
  }
  function fmt(indicator, value) { return GisMap.format(value, formatOf(indicator)); }

  function scale(indicator, rows) {
    if (isShare(indicator)) { return {breaks: SHARE_BREAKS, colors: RAMP}; }
    var values = [];
    rows.forEach(function (r) { [r.baseline, r.scenario].forEach(function (v) { if (typeof v === 'number' && isFinite(v)) { values.push(v); } }); });
    var lo = Math.min.apply(null, values.concat([0]));
    var hi = Math.max.apply(null, values.concat([lo + 1e-9]));
    var step = (hi - lo) / RAMP.length;
    return {breaks: [1, 2, 3, 4].map(function (k) { return lo + k * step; }), colors: RAMP};
  }

  /* ---- the swipe: two panes clipped left and right of a slider ---- */
  function Swipe(map) {
    var left = map.getPane('gis-swipe-left') || map.createPane('gis-swipe-left');
    var right = map.getPane('gis-swipe-right') || map.createPane('gis-swipe-right');
    left.style.zIndex = 436; right.style.zIndex = 437;
    var range = el('input', {type: 'range', min: 0, max: 1000, value: 500, 'aria-label': t('swipe'), title: t('swipe')});
    var line = el('div', {class: 'gis-swipe-line'});
    var labels = [el('div', {class: 'gis-swipe-label', text: t('baseline')}), el('div', {class: 'gis-swipe-label', text: t('scenario')})];
    var bar = el('div', {class: 'gis-swipe'}, [range]);
    ['mousedown', 'touchstart', 'pointerdown', 'click', 'dblclick'].forEach(function (name) {
      range.addEventListener(name, function (ev) { ev.stopPropagation(); });
    });
    function clip() {
      var nw = map.containerPointToLayerPoint([0, 0]);
      var se = map.containerPointToLayerPoint(map.getSize());
      var x = map.getSize().x * range.value / 1000;
      left.style.clip = 'rect(' + [nw.y, nw.x + x, se.y, nw.x].join('px,') + 'px)';
      right.style.clip = 'rect(' + [nw.y, se.x, se.y, nw.x + x].join('px,') + 'px)';
      line.style.left = x + 'px';
      labels[0].style.left = Math.max(4, x - 90) + 'px';
      labels[1].style.left = (x + 8) + 'px';
    }
    this.show = function () {
      var box = map.getContainer();
      [bar, line].concat(labels).forEach(function (node) { box.appendChild(node); });
      range.addEventListener('input', clip);
      map.on('move resize zoomend', clip);
      clip();
    };
    this.hide = function () {
      [bar, line].concat(labels).forEach(function (node) { if (node.parentNode) { node.parentNode.removeChild(node); } });
      map.off('move resize zoomend', clip);
      left.style.clip = ''; right.style.clip = '';
    };
  }

  GisMap.scenarioControl = function () {
    var Control = L.Control.extend({
      options: {position: 'topright'},
      onAdd: function (map) {
        var self = this;
        this.map = map;
        this.swipe = new Swipe(map);
        this.layers = [];
        this.choose = el('select', {'aria-label': t('choose_scenario'), onchange: function () { self.load(self.choose.value); }},
          [el('option', {value: '', text: t('choose_scenario')})]);
        this.indicator = el('select', {'aria-label': t('indicator'), onchange: function () { self.draw(); }});
        this.body = el('div', {class: 'gis-scenario-body'});
        this.panel = el('div', {style: 'display:none'}, [this.choose, this.indicator, this.body]);
        var toggle = el('button', {type: 'button', class: 'gis-scenario-toggle', text: t('scenarios'), onclick: function () {
          var open = self.panel.style.display === 'none';
          self.panel.style.display = open ? '' : 'none';
          if (open) { self.list(); } else { self.clear(); }
        }});
        var box = el('div', {class: 'gis-panel gis-scenarios'}, [toggle, this.panel]);
        L.DomEvent.disableClickPropagation(box);
        L.DomEvent.disableScrollPropagation(box);
        return box;
      },
      list: function () {
        var self = this;
        return GisMap.fetchJson(cfg().urls.scenarios).then(function (items) {
          var options = (items || []).map(function (s) { return el('option', {value: s.id, text: s.name}); });
          self.choose.replaceChildren.apply(self.choose, [el('option', {value: '', text: t('choose_scenario')})].concat(options));
        }).catch(function (err) { self.body.replaceChildren(el('p', {class: 'gis-error', text: err.message})); });
      },
      /** Open the panel on one scenario: its figures and the swipe. */
      open: function (id) {
        var self = this;
        this.panel.style.display = '';
        return this.list().then(function () { self.choose.value = String(id); self.load(String(id)); });
      },
      clear: function () {
        var map = this.map;
        this.layers.forEach(function (layer) { map.removeLayer(layer); });
        this.layers = [];
        this.swipe.hide();
      },
      load: function (id) {
        var self = this;
        this.clear();
        this.body.replaceChildren();
        if (!id) { return; }
        this.body.appendChild(el('p', {class: 'gis-muted', text: t('loading')}));
        var base = GisMap.url(cfg().urls.scenario, {id: id});
        var whole = GisMap.fetchJson(base + '?level=district');
        var parts = GisMap.fetchJson(base + '?level=compound&changed_only=true');
        Promise.all([whole, parts]).then(function (both) {
          self.scenario = both[0];
          self.rows = both[1].evaluation.rows;
          var names = [];
          both[0].evaluation.rows.concat(self.rows).forEach(function (r) { if (names.indexOf(r.indicator) < 0) { names.push(r.indicator); } });
          var keep = self.indicator.value || 'elevator_share_stairwells';
          self.indicator.replaceChildren.apply(self.indicator, names.map(function (n) { return el('option', {value: n, text: label(n)}); }));
          if (names.indexOf(keep) >= 0) { self.indicator.value = keep; }
          self.summary(both[0]);
          return self.shapes(self.rows);
        }).then(function () { self.draw(); }).catch(function (err) {
          self.body.replaceChildren(el('p', {class: 'gis-error', text: err.message}));
        });
      },
      summary: function (scenario) {
        var rows = scenario.evaluation.rows;
        var changed = rows.filter(function (r) { return Math.abs(r.delta || 0) > 1e-12; });
        var district = (changed[0] || rows[0] || {}).district_id;
        var mine = rows.filter(function (r) { return r.district_id === district; });
        var table = el('table', {class: 'gis-deltas'}, [el('tr', {}, [el('th', {}), el('th', {text: t('baseline')}),
          el('th', {text: t('scenario')}), el('th', {text: t('delta')})])].concat(mine.map(function (r) {
          var sign = (r.delta || 0) > 1e-12 ? 'gis-delta-up' : (r.delta || 0) < -1e-12 ? 'gis-delta-down' : '';
          return el('tr', {'data-indicator': r.indicator, 'data-baseline': r.baseline, 'data-scenario': r.scenario, 'data-delta': r.delta}, [
            el('th', {text: label(r.indicator)}), el('td', {text: fmt(r.indicator, r.baseline)}),
            el('td', {text: fmt(r.indicator, r.scenario)}),
            el('td', {class: sign, text: ((r.delta || 0) > 0 ? '+' : '') + fmt(r.indicator, r.delta)})]);
        })));
        this.body.replaceChildren.apply(this.body, [el('h4', {text: scenario.name}),
          scenario.description ? el('p', {class: 'gis-muted', text: scenario.description}) : null, table,
          el('p', {class: 'gis-muted', text: t('swipe')})].filter(Boolean));
        this.body.setAttribute('data-scenario', scenario.id);
      },
      shapes: function (rows) {
        var self = this;
        var ids = [];
        rows.forEach(function (r) { if (ids.indexOf(r.compound_id) < 0 && ids.length < 100) { ids.push(r.compound_id); } });
        return Promise.all(ids.map(function (id) {
          return GisMap.fetchJson(GisMap.url(cfg().urls.item, {layer: 'compounds', id: id})).catch(function () { return null; });
        })).then(function (features) { self.features = features.filter(Boolean); });
      },
      draw: function () {
        var self = this;
        var map = this.map;
        this.clear();
        if (!this.rows || !this.features || !this.features.length) { return; }
        var indicator = this.indicator.value;
        var rows = this.rows.filter(function (r) { return r.indicator === indicator; });
        var byId = {};
        rows.forEach(function (r) { byId[String(r.compound_id)] = r; });
        var sc = scale(indicator, rows);
        ['baseline', 'scenario'].forEach(function (side, k) {
          var pane = k === 0 ? 'gis-swipe-left' : 'gis-swipe-right';
          var layer = L.geoJSON({type: 'FeatureCollection', features: self.features}, {
            pane: pane,
            style: function (f) {
              var r = byId[String(f.id)];
              // no row: the scenario leaves this indicator unchanged there
              return {pane: pane, color: '#212121', weight: 2, fillOpacity: r ? 0.8 : 0.1,
                      fillColor: r ? GisMap.colorOf(sc, r[side]) : '#9e9e9e'};
            },
            onEachFeature: function (f, sub) {
              var r = byId[String(f.id)];
              sub.bindTooltip(el('div', {}, [el('strong', {text: (f.properties || {}).name || ''}), el('br'),
                r ? t(side) + ': ' + fmt(indicator, r[side]) : t('unchanged')]), {sticky: true});
            }
          }).addTo(map);
          self.layers.push(layer);
        });
        map.fitBounds(this.layers[0].getBounds(), {maxZoom: 17, padding: [40, 40]});
        this.swipe.show();
      }
    });
    return new Control();
  };
})(window.GisMap);
