/* The field list: the grid's stairwells by distance, named with their compound, narrowed by a
 * filter (not visited, needs follow-up, someone objects) and a search. The filter is the map's
 * too: a stairwell left out of the list is taken off the map, and both follow every saved edit. */
(function (global) {
  'use strict';

  var el = function () { return FieldMap.el.apply(null, arguments); };
  var t = function (key) { return FieldMap.t(key); };
  /** What each filter keeps; 'all' keeps everything. */
  var FILTERS = {
    all: function () { return true; },
    not_visited: function (p) { return p.survey_status === 'not_visited'; },
    follow_up: function (p) { return p.survey_status === 'follow_up'; },
    objecting: function (p) { return (p.consent_object || 0) > 0; }
  };
  var chosen = {filter: 'all', query: ''};

  function metres(a, b) {
    var r = 6371008.8, rad = Math.PI / 180;
    var dLat = (b.lat - a.lat) * rad, dLng = (b.lng - a.lng) * rad;
    var h = Math.sin(dLat / 2) * Math.sin(dLat / 2) +
      Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLng / 2) * Math.sin(dLng / 2);
    return 2 * r * Math.asin(Math.sqrt(h));
  }

  /** Whether a stairwell passes the chosen filter and search (compound, building, unit, notes). */
  function matches(f) {
    if (!FILTERS[chosen.filter](f.properties)) { return false; }
    var q = chosen.query.trim().toLowerCase();
    if (!q) { return true; }
    return (FieldMap.name(f) + ' ' + (f.properties.notes || '')).toLowerCase().indexOf(q) >= 0;
  }

  /** Put on the map exactly the stairwells the list keeps. */
  function syncMap() {
    var layer = FieldMap.layers.stairwells;
    if (!layer) { return; }
    Object.keys(FieldMap.features).forEach(function (id) {
      var marker = FieldMap.markers[id];
      if (!marker) { return; }
      var keep = matches(FieldMap.features[id]);
      if (keep && !layer.hasLayer(marker)) { layer.addLayer(marker); }
      if (!keep && layer.hasLayer(marker)) { layer.removeLayer(marker); }
    });
    document.documentElement.setAttribute('data-field-filter', chosen.filter);
    FieldClusters.update();
  }

  function row(item) {
    var f = item.f, p = f.properties;
    var survey = FieldMap.surveyInfo(p.survey_status);
    var c = f.geometry.coordinates;
    return el('li', {}, [el('button', {type: 'button', class: 'stairwell-row', 'data-id': f.id,
      'data-grid': p.grid_id, 'data-distance': Math.round(item.d), onclick: function () {
        FieldMap.map.setView([c[1], c[0]], 19);
        FieldForms.openSurvey(f);
      }}, [el('span', {class: 'dot', style: 'background:' + survey.color}),
      el('span', {class: 'text'}, [
        el('span', {class: 'name', text: FieldMap.unitName(f)}),
        el('span', {class: 'compound', text: FieldMap.compoundName(f)}),
        el('span', {class: 'meta', text: survey.label + ' · ' + FieldMap.statusInfo(p.elevator_status).label +
          (p.consent_object ? ' · ' + t('objecting_n').replace('{n}', p.consent_object) : '')})]),
      el('span', {class: 'dist', text: Math.round(item.d) + ' m'})])]);
  }

  function rows(list) {
    var from = FieldMap.position || FieldMap.map.getCenter();
    var kept = Object.keys(FieldMap.features).map(function (id) { return FieldMap.features[id]; })
      .filter(matches).map(function (f) {
        var c = f.geometry.coordinates;
        return {f: f, d: metres(from, L.latLng(c[1], c[0]))};
      }).sort(function (a, b) { return a.d - b.d; });
    list.replaceChildren.apply(list, kept.map(row));
    list.setAttribute('data-count', String(kept.length));
    var count = document.getElementById('list-count');
    if (count) {
      count.textContent = t('shown').replace('{n}', kept.length)
        .replace('{total}', Object.keys(FieldMap.features).length);
    }
  }

  /** A filter's chip: a survey status by its label (layers/stairwells.yaml), else its own text. */
  function label(key) {
    return FILTERS[key] && key in {not_visited: 1, follow_up: 1} ? FieldMap.surveyInfo(key).label : t('filter_' + key);
  }

  function show() {
    var list = el('ol', {id: 'stairwell-list'});
    var chips = el('div', {id: 'list-filters', class: 'filters', role: 'radiogroup'}, Object.keys(FILTERS).map(function (key) {
      return el('button', {type: 'button', class: 'filter', role: 'radio', 'data-filter': key,
        'aria-checked': String(chosen.filter === key), text: label(key), onclick: function (ev) {
          chosen.filter = key;
          chips.querySelectorAll('.filter').forEach(function (b) { b.setAttribute('aria-checked', String(b === ev.currentTarget)); });
          rows(list); syncMap();
        }});
    }));
    var search = el('input', {id: 'list-search', type: 'search', value: chosen.query, placeholder: t('search'),
      'aria-label': t('search'), oninput: function () { chosen.query = search.value; rows(list); syncMap(); }});
    var note = el('p', {class: 'hint', text: FieldMap.position ? '' : t('no_position')});
    FieldMap.showSheet(t('list') + ' · ' + (FieldMap.position ? t('distance_here') : t('distance_centre')),
      [el('div', {class: 'list-tools'}, [search, chips, el('p', {id: 'list-count', class: 'meta'})]), note, list], 'list');
    rows(list);
    syncMap();
  }

  /** After an edit (saved or queued) changes a stairwell: the open list and the map follow. */
  function refresh() {
    var list = document.getElementById('stairwell-list');
    var sheet = document.getElementById('sheet');
    if (list && sheet && !sheet.hidden && sheet.getAttribute('data-view') === 'list') { rows(list); }
    syncMap();
  }

  global.FieldList = {show: show, refresh: refresh, matches: matches, metres: metres};
})(window);
