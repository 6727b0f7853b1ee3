/* GisMap share: the address follows the view (#map=zoom/lat/lon&layers=a,b&sel=compounds:5),
 * opening such an address restores it, and a button copies the address to share. */
(function (GisMap) {
  'use strict';
  var el = GisMap.el;
  var t = GisMap.t;

  function cfg() { return GisMap.config; }

  /** The overlays on the map, by id (the choropleth too). */
  function shownLayers() {
    return Object.keys(GisMap.layers).filter(function (id) { return GisMap.map.hasLayer(GisMap.layers[id]); }).sort();
  }

  /** This view as an address fragment. */
  GisMap.viewHash = function () {
    var map = GisMap.map;
    var c = map.getCenter();
    var parts = ['map=' + map.getZoom() + '/' + c.lat.toFixed(6) + '/' + c.lng.toFixed(6),
                 'layers=' + shownLayers().map(encodeURIComponent).join(',')];
    if (GisMap.selection) { parts.push('sel=' + encodeURIComponent(GisMap.selection)); }
    return '#' + parts.join('&');
  };

  function write() {
    var hash = GisMap.viewHash();
    if (hash !== global().location.hash) { history.replaceState(null, '', global().location.pathname + global().location.search + hash); }
  }
  function global() { return window; }

  /** What to select (e.g. 'compounds:5'); written into the address. */
  GisMap.select = function (value) { GisMap.selection = value || null; write(); };

  function param(name) {
    var match = new RegExp('(?:^#|&)' + name + '=([^&]*)').exec(global().location.hash || '');
    return match ? decodeURIComponent(match[1]) : null;
  }

  /** Restore the overlays and the selection of the address (the view itself: GisMap.init). */
  function restore() {
    var layers = param('layers');
    if (layers !== null) {
      var wanted = layers ? layers.split(',') : [];
      Object.keys(GisMap.layers).forEach(function (id) {
        var on = wanted.indexOf(id) >= 0;
        if (on && !GisMap.map.hasLayer(GisMap.layers[id])) { GisMap.map.addLayer(GisMap.layers[id]); }
        if (!on && GisMap.map.hasLayer(GisMap.layers[id])) { GisMap.map.removeLayer(GisMap.layers[id]); }
      });
    }
    var sel = /^compounds:(\d+)$/.exec(param('sel') || '');
    if (sel) { GisMap.compoundCard(Number(sel[1])); }
  }

  var ShareControl = L.Control.extend({
    options: {position: 'topleft'},
    onAdd: function () {
      var status = el('span', {class: 'gis-share-status', 'aria-live': 'polite'});
      var address = el('input', {type: 'text', readonly: true, class: 'gis-share-address', 'aria-label': t('share'),
                                 style: 'display:none'});
      var button = el('button', {type: 'button', class: 'gis-share', text: t('share'), title: t('share_hint'),
        onclick: function () {
          write();
          var href = global().location.href;
          address.value = href;
          var copied = navigator.clipboard && navigator.clipboard.writeText ? navigator.clipboard.writeText(href)
            : Promise.reject(new Error('no clipboard'));
          copied.then(function () { status.textContent = t('share_copied'); address.style.display = 'none'; })
            .catch(function () {  // no clipboard (plain http): show it selected to copy by hand
              address.style.display = ''; address.select(); status.textContent = t('share_select');
            });
        }});
      var box = el('div', {class: 'gis-panel gis-share-box leaflet-bar'}, [button, status, address]);
      L.DomEvent.disableClickPropagation(box);
      return box;
    }
  });

  /** Keep the address in step with the view, restore it once every layer exists, add the button. */
  GisMap.followView = function (map) {
    setTimeout(function () {  // after the page's script has made and added its layers
      restore();
      map.on('moveend zoomend layeradd layerremove', function () { setTimeout(write, 0); });
      write();
      global().document.documentElement.setAttribute('data-gis-view-restored', 'true');
    }, 0);
    if (cfg().controls.indexOf('share') >= 0) { map.addControl(new ShareControl()); }
  };
})(window.GisMap);
