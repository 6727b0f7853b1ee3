/* Below cluster_below_zoom (maps/field.yaml), stairwell markers that would overlap are drawn as
 * one count ("12 梯口"); a tap on it zooms in to its members.
 * Grouped markers stay in their layer (the list's filter decides which are there) but are drawn
 * invisibly and are out of reach of taps (markers.js skips them). */
(function (global) {
  'use strict';

  var group = null;
  function t(key) { return FieldMap.t(key); }
  var MARKER = 26, COUNT = 48;  // px: a stairwell marker's (radius 11, ring 4) and a count's diameter

  /** How close two drawn things may come: a count is wider than a marker. */
  function reach(a, b) {
    return (a.members.length > 1 ? COUNT : MARKER) / 2 + (b.members.length > 1 ? COUNT : MARKER) / 2 + 2;
  }

  /** Groups of the markers on the map such that nothing drawn overlaps: the closest two that
   * would overlap are merged (at their members' mean position) until none do. */
  function groups(map, layer) {
    var found = Object.keys(FieldMap.markers).map(function (id) {
      var m = FieldMap.markers[id];
      return layer.hasLayer(m) ? {members: [m], p: map.latLngToLayerPoint(m.getLatLng())} : null;
    }).filter(Boolean);
    for (;;) {
      var best = null;
      for (var i = 0; i < found.length; i++) {
        for (var j = i + 1; j < found.length; j++) {
          var d = found[i].p.distanceTo(found[j].p);
          if (d < reach(found[i], found[j]) && (!best || d < best.d)) { best = {i: i, j: j, d: d}; }
        }
      }
      if (!best) { return found; }
      var a = found[best.i], b = found[best.j], n = a.members.length + b.members.length;
      a.p = a.p.multiplyBy(a.members.length).add(b.p.multiplyBy(b.members.length)).divideBy(n);
      a.members = a.members.concat(b.members);
      found.splice(best.j, 1);
    }
  }

  function icon(n) {
    return L.divIcon({className: 'cluster-marker', iconSize: [48, 48],
      html: '<b>' + n + '</b><small>' + t('cluster') + '</small>'});
  }

  /** Redraw the groups for the current zoom and filter. */
  function update() {
    var map = FieldMap.map, layer = FieldMap.layers.stairwells;
    if (!map || !layer) { return; }
    if (!group) { group = L.layerGroup().addTo(map); }
    group.clearLayers();
    var on = map.hasLayer(layer) && map.getZoom() < FieldMap.config.cluster_below_zoom;
    var counted = 0;
    (on ? groups(map, layer) : []).forEach(function (found) {
      var members = found.members, grouped = members.length > 1;
      members.forEach(function (m) {
        m.clustered = grouped;
        m.setStyle({opacity: grouped ? 0 : 1, fillOpacity: grouped ? 0 : 0.95});
      });
      if (!grouped) { return; }
      counted += 1;
      var bounds = L.latLngBounds(members.map(function (m) { return m.getLatLng(); }));
      var title = t('cluster_title').replace('{n}', members.length);
      L.marker(map.layerPointToLatLng(found.p), {icon: icon(members.length), title: title, alt: title, keyboard: true,
        zIndexOffset: 500})
        .on('click', function () {
          map.fitBounds(bounds.pad(0.3), {maxZoom: FieldMap.config.cluster_below_zoom, animate: false});
          if (map.getZoom() < FieldMap.config.cluster_below_zoom && bounds.getNorthEast().equals(bounds.getSouthWest())) {
            map.setView(bounds.getCenter(), FieldMap.config.cluster_below_zoom, {animate: false});
          }
        })
        .addTo(group).getElement().setAttribute('data-count', String(members.length));
    });
    if (!on) {
      Object.keys(FieldMap.markers).forEach(function (id) {
        var m = FieldMap.markers[id];
        if (m.clustered) { m.clustered = false; m.setStyle({opacity: 1, fillOpacity: 0.95}); }
      });
    }
    document.documentElement.setAttribute('data-field-clusters', String(counted));
  }

  global.FieldClusters = {update: update};
})(window);
