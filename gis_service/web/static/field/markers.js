/* Markers under the thumb: a tap picks the stairwell within 22 px (a 44 px target), a chooser when
 * several share the spot; issues get their own triangle (above the position dot) with a popup
 * showing category, status, date, note and photo; a legend says what fill and ring mean. */
(function (global) {
  'use strict';

  var el = function () { return FieldMap.el.apply(null, arguments); };
  var t = function (key) { return FieldMap.t(key); };
  var REACH = 22;  // px from a marker's centre that still count as a tap on it

  /** The stairwells on the map within reach of a point on the screen, nearest first. */
  function near(point) {
    var map = FieldMap.map, layer = FieldMap.layers.stairwells;
    if (!layer || !map.hasLayer(layer)) { return []; }
    return Object.keys(FieldMap.markers).map(function (id) {
      var m = FieldMap.markers[id];
      if (!layer.hasLayer(m) || m.clustered) { return null; }  // a group's count zooms in instead
      return {f: FieldMap.features[id], d: map.latLngToContainerPoint(m.getLatLng()).distanceTo(point)};
    }).filter(function (x) { return x && x.f && x.d <= REACH; })
      .sort(function (a, b) { return a.d - b.d; });
  }

  function choose(found) {
    var list = el('ul', {id: 'chooser'}, found.map(function (x) {
      var p = x.f.properties;
      return el('li', {}, [el('button', {type: 'button', class: 'stairwell-row choose-row', 'data-id': x.f.id,
        onclick: function () { FieldForms.openSurvey(x.f); }}, [
        el('span', {class: 'dot', style: 'background:' + FieldMap.surveyInfo(p.survey_status).color +
          ';box-shadow:0 0 0 3px ' + FieldMap.statusInfo(p.elevator_status).color}),
        el('span', {class: 'text'}, [el('span', {class: 'name', text: FieldMap.unitName(x.f)}),
          el('span', {class: 'compound', text: FieldMap.compoundName(x.f)})])])]);
    }));
    FieldMap.showSheet(t('which_stairwell'), [list], 'choose');
  }

  /** A tap on the map: place an issue, open the stairwell under the thumb, or ask which one. */
  function tapped(ev) {
    var found = near(ev.containerPoint);
    var nearest = found.length ? found[0].f : null;
    var at = nearest ? L.latLng(nearest.geometry.coordinates[1], nearest.geometry.coordinates[0]) : ev.latlng;
    if (FieldForms.mapClicked(at, nearest || undefined)) { return; }
    if (found.length === 1) { FieldForms.openSurvey(nearest); }
    else if (found.length > 1) { choose(found); }
  }

  /** An issue: a triangle in its status colour, 44 px to tap, drawn above the position dot. */
  function issueMarker(feature, latlng, color) {
    var icon = L.divIcon({className: 'issue-marker', iconSize: [44, 44], iconAnchor: [22, 30],
      html: el('span', {class: 'issue-symbol', style: 'background:' + color, 'data-id': feature.id}, ['!'])});
    return L.marker(latlng, {icon: icon, zIndexOffset: 1000, title: FieldMap.t('issue')});
  }

  function when(iso) {
    if (!iso) { return ''; }
    var d = new Date(iso);
    return isNaN(d) ? '' : d.toLocaleString(FieldMap.config.lang === 'zh' ? 'zh-CN' : 'en-GB',
      {year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit'});
  }

  function issuePopup(feature, category) {
    var p = feature.properties;
    var photo = p.photo_path ? el('img', {class: 'issue-photo', alt: t('photo_link'),
      src: FieldMap.config.urls.photo.replace('{id}', encodeURIComponent(feature.id))}) : null;
    return el('div', {class: 'issue-popup', 'data-id': feature.id}, [el('b', {text: category}),
      el('div', {class: 'meta', text: t(p.status) + ' · ' + t('reported_at') + ' ' + when(p.reported_at)}),
      p.note ? el('div', {text: p.note}) : null, photo]);
  }

  /** The legend: what a stairwell's fill and ring mean, the issue triangle, the position dot. */
  function legend() {
    var cfg = FieldMap.config;
    var panel = el('div', {id: 'legend', hidden: true}, [
      el('h3', {text: t('legend_fill').replace('{field}', cfg.legend.survey_status)}),
      el('ul', {}, cfg.survey.map(function (s) {
        return el('li', {'data-code': s.code}, [el('span', {class: 'swatch fill', style: 'background:' + s.color}), s.label]);
      })),
      el('h3', {text: t('legend_ring').replace('{field}', cfg.legend.elevator_status)}),
      el('ul', {}, cfg.statuses.map(function (s) {
        return el('li', {'data-code': s.code}, [el('span', {class: 'swatch ring', style: 'border-color:' + s.color}), s.label]);
      })),
      el('ul', {}, [
        el('li', {}, [el('span', {class: 'issue-symbol small', style: 'background:#c62828'}, ['!']), t('issue')]),
        el('li', {}, [el('span', {class: 'swatch here'}), t('my_position')])])]);
    var button = el('button', {id: 'legend-btn', type: 'button', 'aria-expanded': 'false', text: t('legend'),
      onclick: function () {
        panel.hidden = !panel.hidden;
        button.setAttribute('aria-expanded', String(!panel.hidden));
      }});
    var Control = L.Control.extend({onAdd: function () {
      var box = el('div', {class: 'legend-box leaflet-control'}, [button, panel]);
      L.DomEvent.disableClickPropagation(box);
      return box;
    }});
    new Control({position: 'topleft'}).addTo(FieldMap.map);
  }

  global.FieldMarkers = {near: near, tapped: tapped, issueMarker: issueMarker, issuePopup: issuePopup, legend: legend};
})(window);
