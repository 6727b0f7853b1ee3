/* GisMap legends: the elevator pipeline, and one entry for every other overlay on the map
 * (its colour by kind with the kinds' labels, else its one colour), kept in step with the
 * layer control. Colours come from the catalog (layers/*.yaml) and maps/*.yaml only. */
(function (GisMap) {
  'use strict';
  var el = GisMap.el;
  var t = GisMap.t;

  function cfg() { return GisMap.config; }

  /** A swatch shaped like the layer's symbol: a dot, a line or an area. */
  function symbol(geometry, style, color) {
    var shape = geometry === 'point' ? 'point' : geometry === 'linestring' ? 'line' : 'area';
    var css = shape === 'line' ? 'border-color:' + color
      : 'background:' + (style.fill_opacity === 0 && shape === 'area' ? 'transparent' : color) +
        ';border-color:' + color;
    if (style.dash) { css += ';border-style:dashed'; }
    return el('span', {class: 'gis-swatch gis-swatch-' + shape, style: css, 'data-color': color});
  }

  /** The rows of one overlay: a row per coded colour (labelled), else one row in its colour. */
  function entryRows(layerCfg) {
    var rows = [];
    layerCfg.catalog.forEach(function (id) {
      var cat = cfg().catalog[id];
      var st = Object.assign({}, cat.style, layerCfg.style || {});
      var coded = cat.style.color_by && Object.keys(cat.style.colors || {}).length && !layerCfg.style.color;
      if (coded) {
        Object.keys(cat.style.colors).forEach(function (code) {
          rows.push(el('div', {class: 'gis-legend-row', 'data-code': code}, [
            symbol(cat.geometry, st, cat.style.colors[code]), GisMap.codeLabel(id, cat.style.color_by, code)]));
        });
        var kinds = Object.keys((cat.enums || {})[cat.style.color_by] || {});
        if (kinds.some(function (k) { return !(k in cat.style.colors); })) {
          rows.push(el('div', {class: 'gis-legend-row', 'data-code': ''}, [symbol(cat.geometry, st, st.color), t('other_kinds')]));
        }
      } else {
        rows.push(el('div', {class: 'gis-legend-row'}, [symbol(cat.geometry, st, st.color),
          layerCfg.catalog.length > 1 ? cat.title : layerCfg.title]));
      }
    });
    if (!layerCfg.catalog.length) {
      var st = layerCfg.style || {};
      var geometry = layerCfg.click === 'stairwell' ? 'point' : 'polygon';
      rows.push(el('div', {class: 'gis-legend-row'}, [symbol(geometry, st, st.color || '#455a64'), layerCfg.title]));
    }
    return rows;
  }

  GisMap.layerLegend = function () {
    var Legend = L.Control.extend({
      options: {position: 'bottomright'},
      onAdd: function (map) {
        var self = this;
        this.box = el('div', {class: 'gis-panel gis-layer-legend'});
        this.mark = GisMap.foldable(this.box);
        L.DomEvent.disableClickPropagation(this.box);
        L.DomEvent.disableScrollPropagation(this.box);
        var timer = null;
        map.on('layeradd layerremove', function () { clearTimeout(timer); timer = setTimeout(function () { self.refresh(); }, 50); });
        this.refresh();
        return this.box;
      },
      refresh: function () {
        var map = this._map;
        var shown = Object.keys(cfg().layers).filter(function (id) {
          var layer = GisMap.layers[id];
          return layer && map.hasLayer(layer) && id !== 'stairwells';
        });
        var entries = shown.map(function (id) {
          var layerCfg = cfg().layers[id];
          return el('div', {class: 'gis-legend-entry', 'data-layer': id}, [el('h5', {text: layerCfg.title})].concat(entryRows(layerCfg)));
        });
        this.box.replaceChildren.apply(this.box, [el('h4', {text: t('legend')})].concat(entries));
        this.box.style.display = entries.length ? '' : 'none';
        this.box.setAttribute('data-layers', shown.join(' '));
        this.mark();
      }
    });
    return new Legend();
  };

  /* ---- the stairwell status legend ---- */
  GisMap.statusLegend = function () {
    var Legend = L.Control.extend({
      options: {position: 'bottomright'},
      onAdd: function () {
        var box = el('div', {class: 'gis-panel gis-status-legend'}, [el('h4', {text: t('status_legend')})].concat(
          (cfg().statuses || []).map(function (s) {
            return el('div', {'data-status': s.code}, [GisMap.swatch(s.color), s.label]);
          })));
        GisMap.foldable(box);
        return box;
      }
    });
    return new Legend();
  };
})(window.GisMap);
