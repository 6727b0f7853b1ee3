/* GisMap panels: the coverage choropleth and its legend, the compound card, scenario comparison. */
(function (GisMap) {
  'use strict';
  var el = GisMap.el;
  var t = GisMap.t;
  var coverage = {};  // level -> promise of the analysis API's GeoJSON

  function cfg() { return GisMap.config; }

  /** The id of an area of the analysis answers: the feature id, else its <level>_id. */
  function areaId(props, level, feature) {
    if (feature && feature.id !== undefined && feature.id !== null) { return String(feature.id); }
    return String(props[level + '_id'] !== undefined ? props[level + '_id'] : props.id);
  }

  /** Join the figures of other answers (rows by <level>_id) into the areas' properties. */
  function joined(data, level) {
    var asks = cfg().choropleth.indicators.filter(function (ind) { return ind.join; }).map(function (ind) {
      return GisMap.fetchJson(GisMap.url(ind.join.url, {level: level})).then(function (answer) {
        var values = {};
        (answer.rows || []).forEach(function (row) {
          var v = row[ind.join.property];
          values[areaId(row, level)] = typeof v === 'number' && ind.join.complement ? 1 - v : v;
        });
        data.features.forEach(function (f) {
          var v = values[areaId(f.properties, level, f)];
          f.properties[ind.property] = v === undefined ? null : v;
        });
      });
    });
    return Promise.all(asks).then(function () { return data; });
  }

  GisMap.coverageData = function (level) {
    if (!coverage[level]) {
      coverage[level] = GisMap.fetchJson(GisMap.url(cfg().choropleth.url, {level: level}))
        .then(function (data) { return joined(data, level); })
        .catch(function (err) { delete coverage[level]; throw err; });
    }
    return coverage[level];
  };
  GisMap.areaId = areaId;

  function indicatorBy(property) {
    return cfg().choropleth.indicators.filter(function (i) { return i.property === property; })[0];
  }

  /** The class of a value: 0 below the first break ... n at or above the last; -1 for none. */
  function classOf(ind, value) {
    if (value === null || value === undefined || typeof value !== 'number' || !isFinite(value)) { return -1; }
    var k = 0;
    while (k < ind.breaks.length && value >= ind.breaks[k]) { k += 1; }
    return k;
  }

  function colorOf(ind, value) {
    var k = classOf(ind, value);
    return k < 0 ? '#bdbdbd' : ind.colors[k];
  }
  GisMap.colorOf = colorOf;

  function rangeLabel(ind, k) {
    var f = function (v) { return GisMap.format(v, ind.format); };
    if (k === 0) { return '< ' + f(ind.breaks[0]); }
    if (k === ind.breaks.length) { return '≥ ' + f(ind.breaks[k - 1]); }
    return f(ind.breaks[k - 1]) + ' – ' + f(ind.breaks[k]);
  }

  function median(sorted) {
    if (!sorted.length) { return null; }
    var mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  }

  function areaName(props) {
    var ch = cfg().choropleth;
    return (cfg().lang === 'en' && props.name_en) || props[ch.name_property] || props.name_en || props.code || '';
  }

  function figuresTable(props) {
    return el('table', {}, cfg().choropleth.indicators.map(function (ind) {
      return el('tr', {'data-indicator': ind.property, 'data-value': props[ind.property]},
        [el('th', {}, [GisMap.swatch(colorOf(ind, props[ind.property])), ind.title]),
         el('td', {text: GisMap.format(props[ind.property], ind.format) +
                         (ind.target_text && ind.format !== 'count' ? ' (' + ind.target_text + ')' : '')})]);
    }));
  }

  /** The target (with its source) and the definitions of a figure, as the legend states them. */
  function explained(ind) {
    var out = [];
    var notes = (ind.definitions || []).map(function (text) { return el('p', {class: 'gis-muted', text: text}); });
    if (ind.target !== null && ind.target !== undefined) {
      out.push(el('p', {class: 'gis-legend-target', 'data-target': ind.target}, [el('strong', {text: ind.target_text})]));
      notes.unshift(el('p', {class: 'gis-muted gis-legend-source', text: t('target_source') + ': ' + ind.target_source}));
    }
    if (notes.length) {
      out.push(el('details', {class: 'gis-legend-definitions'}, [el('summary', {text: t('definitions')})].concat(notes)));
    }
    return out;
  }

  /* ---- choropleth layer + legend ---- */
  GisMap.choroplethLayer = function () {
    var ch = cfg().choropleth;
    var state = {level: ch.levels[0].id, indicator: ch.indicators[0].property};
    var layer = L.geoJSON(null, {
      pane: 'gis-choropleth',
      style: function (f) {
        return {fillColor: colorOf(indicatorBy(state.indicator), f.properties[state.indicator]),
                fillOpacity: 0.7, color: '#424242', weight: 1, pane: 'gis-choropleth'};
      },
      onEachFeature: function (f, sub) {
        sub.bindTooltip(function () {
          return el('div', {class: 'gis-tooltip'}, [el('strong', {text: areaName(f.properties)}), figuresTable(f.properties)]);
        }, {sticky: true});
        if (state.level === 'compound') {
          sub.on('click', function () { GisMap.compoundCard(areaId(f.properties, 'compound', f), areaName(f.properties)); });
        }
      }
    });
    var legend = new (L.Control.extend({
      options: {position: 'bottomleft'},
      onAdd: function () {
        var levels = el('select', {'aria-label': t('level'), onchange: function () { state.level = levels.value; load(); }},
          ch.levels.map(function (lv) { return el('option', {value: lv.id, text: lv.title}); }));
        var indicators = el('select', {'aria-label': t('indicator'), onchange: function () { state.indicator = indicators.value; draw(); }},
          ch.indicators.map(function (ind) { return el('option', {value: ind.property, text: ind.title}); }));
        this.body = el('div', {class: 'gis-legend-body'}, [el('p', {class: 'gis-muted', text: t('loading')})]);
        var box = el('div', {class: 'gis-panel gis-legend'}, [el('h4', {text: ch.title}), levels, indicators, this.body]);
        GisMap.foldable(box);
        L.DomEvent.disableClickPropagation(box);
        L.DomEvent.disableScrollPropagation(box);
        return box;
      }
    }))();
    var current = null;
    var currentLevel = null;

    function draw() {
      if (!current || currentLevel !== state.level) { return; }  // the level's data still loads
      var ind = indicatorBy(state.indicator);
      layer.setStyle(function (f) { return layer.options.style(f); });
      var values = current.features.map(function (f) { return f.properties[ind.property]; })
        .filter(function (v) { return typeof v === 'number' && isFinite(v); }).sort(function (a, b) { return a - b; });
      var counts = ind.colors.map(function () { return 0; });
      values.forEach(function (v) { counts[classOf(ind, v)] += 1; });
      var rows = ind.colors.map(function (color, k) {
        return el('div', {class: 'gis-legend-class', 'data-class': k, 'data-count': counts[k]},
          [GisMap.swatch(color), rangeLabel(ind, k), el('small', {text: ' (' + counts[k] + ')'})]);
      });
      var missing = current.features.length - values.length;
      if (missing) {
        rows.push(el('div', {class: 'gis-legend-class', 'data-class': -1, 'data-count': missing},
          [GisMap.swatch('#bdbdbd'), t('no_data'), el('small', {text: ' (' + missing + ')'})]));
      }
      var stats = el('p', {class: 'gis-legend-stats', 'data-n': values.length,
        'data-min': values.length ? values[0] : '', 'data-median': values.length ? median(values) : '',
        'data-max': values.length ? values[values.length - 1] : ''},
        [t('min') + ' ' + GisMap.format(values[0], ind.format) + ' · ' + t('median') + ' ' +
         GisMap.format(median(values), ind.format) + ' · ' + t('max') + ' ' +
         GisMap.format(values[values.length - 1], ind.format) + ' · ' + values.length + ' ' + t('areas')]);
      legend.body.replaceChildren.apply(legend.body, rows.concat([stats], explained(ind)));
      legend.body.setAttribute('data-level', state.level);
      legend.body.setAttribute('data-indicator', ind.property);
      legend.body.setAttribute('data-ready', 'true');
    }

    function load() {
      var level = state.level;
      legend.body.removeAttribute('data-ready');
      GisMap.coverageData(level).then(function (data) {
        if (level !== state.level) { return; }
        current = data;
        currentLevel = level;
        layer.clearLayers();
        layer.addData(data);
        draw();
      }).catch(function (err) {
        legend.body.replaceChildren(el('p', {class: 'gis-error', text: err.message}));
      });
    }

    layer.on('add', function () { GisMap.map.addControl(legend); load(); });
    layer.on('remove', function () { GisMap.map.removeControl(legend); });
    layer.gisReset = function () { coverage = {}; if (layer._map) { load(); } };
    GisMap.dataLayers.push(layer);
    GisMap.layers.choropleth = layer;
    return layer;
  };

  /* ---- the compound's retrofit batches and what they bring ---- */
  function batchRows(c) {
    var stages = (cfg().catalog.stairwells || {}).codes || {};
    return (c.batches || []).map(function (b) {
      var compare = cfg().controls.indexOf('scenarios') >= 0 && GisMap.scenarios ? el('button', {
        type: 'button', class: 'gis-compare-batch', text: t('compare_batch'),
        onclick: function (ev) { compareBatch(b, ev.target); }}) : null;
      return el('div', {class: 'gis-batch', 'data-batch': b.id, 'data-stage': b.status, 'data-size': b.stairwells}, [
        el('h5', {text: t('batch')}), el('strong', {text: b.name}),
        el('p', {text: GisMap.fill(t('batch_size'), {n: b.stairwells}) + ' · ' + (stages['batch_' + b.status] || b.status)}),
        compare]);
    }).concat((c.batches || []).length ? [el('p', {class: 'gis-projection', 'data-now': c.in_service,
      'data-projected': c.projected_in_service, 'data-total': c.stairwells,
      text: GisMap.fill(t('projection'), {now: c.in_service + '/' + c.stairwells,
                                          then: c.projected_in_service + '/' + c.stairwells})})] : []);
  }

  /** A scenario of one batch (made once; its name is the batch's), opened in the swipe. */
  function compareBatch(batch, button) {
    button.disabled = true;
    var body = {name: batch.name, description: GisMap.fill(t('batch_scenario'), {name: batch.name}),
                interventions: {batches: [batch.id]}};
    GisMap.postJson(cfg().urls.scenarios, body).then(function (answer) {
      if (answer.status === 201) { return answer.body.id; }
      if (answer.status !== 409) { throw new Error(GisMap.problemMessage(answer.status, answer.body)); }
      return GisMap.fetchJson(cfg().urls.scenarios).then(function (items) {  // made before: open it
        return (items || []).filter(function (s) { return s.name === batch.name; })[0].id;
      });
    }).then(function (scenarioId) {
      button.disabled = false;
      GisMap.scenarios.open(scenarioId);
    }).catch(function (err) {
      button.disabled = false;
      button.parentNode.appendChild(el('p', {class: 'gis-error', text: err.message}));
    });
  }

  /* ---- compound indicator card ---- */
  var card = null;

  /** A button opening the compound's PDF report (fetched with the user's token, shown in a new tab). */
  function reportButton(id) {
    var button = el('button', {type: 'button', class: 'gis-report', text: t('report'), onclick: function () {
      var tab = window.open('', '_blank');
      fetch(GisMap.url(cfg().urls.report, {id: id}), GisMap.fetchOptions).then(function (response) {
        if (!response.ok) { throw new Error(t('failed') + ' (' + response.status + ')'); }
        return response.blob();
      }).then(function (pdf) {
        if (tab) { tab.location = URL.createObjectURL(pdf); }
      }).catch(function (err) { if (tab) { tab.close(); } button.textContent = err.message; });
    }});
    return button;
  }
  GisMap.compoundCard = function (id, name) {
    if (!card) {
      card = new (L.Control.extend({
        options: {position: 'bottomleft'},
        onAdd: function () {
          this.box = el('div', {class: 'gis-panel gis-card'});
          L.DomEvent.disableClickPropagation(this.box);
          L.DomEvent.disableScrollPropagation(this.box);
          return this.box;
        }
      }))();
    }
    if (!card._map) { GisMap.map.addControl(card); }
    var counts = el('div', {}, [el('p', {class: 'gis-muted', text: t('loading')})]);
    var figures = el('div');
    card.box.setAttribute('data-compound', id);
    if (GisMap.select) { GisMap.select('compounds:' + id); }
    card.box.replaceChildren(
      el('button', {type: 'button', class: 'gis-close', 'aria-label': t('close'), text: '×',
                    onclick: function () { GisMap.map.removeControl(card); if (GisMap.select) { GisMap.select(null); } }}),
      el('h4', {text: name || ('#' + id)}), el('small', {class: 'gis-muted', text: t('compound_card')}), counts, figures,
      cfg().export ? '' : reportButton(id));
    if (GisMap.compoundExtras) { GisMap.compoundExtras(card.box, id, name); }  // gismap-consent.js
    GisMap.fetchJson(GisMap.url(cfg().urls.compound, {id: id})).then(function (c) {
      var bars = (cfg().statuses || []).filter(function (s) { return (c.by_status || {})[s.code]; }).map(function (s) {
        return el('div', {class: 'gis-bar', 'data-status': s.code}, [GisMap.swatch(s.color), s.label + ' ' + c.by_status[s.code]]);
      });
      if (!name) { card.box.querySelector('h4').textContent = GisMap.nameOf(c) || ('#' + id); }
      counts.replaceChildren.apply(counts, [el('p', {text: t('stairwells') + ' ' + GisMap.format(c.stairwells) + ' · ' +
        t('in_service') + ' ' + GisMap.format(c.in_service) + ' · ' + t('households') + ' ' + GisMap.format(c.households)})]
        .concat(bars, batchRows(c)));
    }).catch(function (err) { counts.replaceChildren(el('p', {class: 'gis-error', text: err.message})); });
    if (cfg().choropleth) {
      GisMap.coverageData('compound').then(function (data) {
        var f = data.features.filter(function (x) {
          return areaId(x.properties, 'compound', x) === String(id);
        })[0];
        if (f) { figures.replaceChildren(figuresTable(f.properties)); }
      }).catch(function () { /* the counts above still show */ });
    }
  };
})(window.GisMap);
