/* GisMap China basemaps: Tianditu (CGCS2000, drawn as it comes: within a few centimetres of
 * WGS84 at map scales) with its annotation layer, and GCJ-02 vendor tiles (e.g. AutoNavi).
 *
 * Which side moves: our data stays WGS84 and is never shifted. A GCJ-02 tile grid is drawn
 * where it belongs: the tiles wanted are those around the view's centre in GCJ-02, and each
 * tile is placed where its north-west corner, a GCJ-02 position, lies in WGS84 (inverted by
 * iteration to well under a centimetre). The offset (a few hundred metres) changes by far less
 * than a metre across one tile, so features line up with the tiles to about a metre. */
(function (GisMap) {
  'use strict';

  var A = 6378245.0;                    // the Krasovsky ellipsoid GCJ-02 is defined on
  var EE = 0.00669342162296594323;

  function offsetLat(x, y) {
    var r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
    r += (20.0 * Math.sin(6.0 * x * Math.PI) + 20.0 * Math.sin(2.0 * x * Math.PI)) * 2.0 / 3.0;
    r += (20.0 * Math.sin(y * Math.PI) + 40.0 * Math.sin(y / 3.0 * Math.PI)) * 2.0 / 3.0;
    r += (160.0 * Math.sin(y / 12.0 * Math.PI) + 320.0 * Math.sin(y * Math.PI / 30.0)) * 2.0 / 3.0;
    return r;
  }

  function offsetLng(x, y) {
    var r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
    r += (20.0 * Math.sin(6.0 * x * Math.PI) + 20.0 * Math.sin(2.0 * x * Math.PI)) * 2.0 / 3.0;
    r += (20.0 * Math.sin(x * Math.PI) + 40.0 * Math.sin(x / 3.0 * Math.PI)) * 2.0 / 3.0;
    r += (150.0 * Math.sin(x / 12.0 * Math.PI) + 300.0 * Math.sin(x / 30.0 * Math.PI)) * 2.0 / 3.0;
    return r;
  }

  /** Outside mainland China's box GCJ-02 equals WGS84. */
  function outside(lng, lat) { return lng < 72.004 || lng > 137.8347 || lat < 0.8293 || lat > 55.8271; }

  /** A WGS84 position in GCJ-02, as [lng, lat]. */
  GisMap.wgsToGcj = function (lng, lat) {
    if (outside(lng, lat)) { return [lng, lat]; }
    var dLat = offsetLat(lng - 105.0, lat - 35.0);
    var dLng = offsetLng(lng - 105.0, lat - 35.0);
    var rad = lat / 180.0 * Math.PI;
    var magic = 1 - EE * Math.sin(rad) * Math.sin(rad);
    var sqrtMagic = Math.sqrt(magic);
    dLat = (dLat * 180.0) / ((A * (1 - EE)) / (magic * sqrtMagic) * Math.PI);
    dLng = (dLng * 180.0) / (A / sqrtMagic * Math.cos(rad) * Math.PI);
    return [lng + dLng, lat + dLat];
  };

  /** A GCJ-02 position in WGS84, as [lng, lat] (fixed-point iteration on wgsToGcj). */
  GisMap.gcjToWgs = function (lng, lat) {
    var w = [lng, lat];
    for (var i = 0; i < 10; i += 1) {
      var g = GisMap.wgsToGcj(w[0], w[1]);
      var dx = g[0] - lng;
      var dy = g[1] - lat;
      w = [w[0] - dx, w[1] - dy];
      if (Math.abs(dx) < 1e-10 && Math.abs(dy) < 1e-10) { break; }
    }
    return w;
  };

  /** A tile layer whose grid is in GCJ-02, drawn aligned with WGS84 data. */
  var GcjTileLayer = L.TileLayer.extend({
    _getTiledPixelBounds: function (center) {
      var map = this._map;
      var zoom = map._animatingZoom ? Math.max(map._animateToZoom, map.getZoom()) : map.getZoom();
      var scale = map.getZoomScale(zoom, this._tileZoom);
      var gcj = GisMap.wgsToGcj(center.lng, center.lat);
      var pixelCenter = map.project(L.latLng(gcj[1], gcj[0]), this._tileZoom).floor();
      var halfSize = map.getSize().divideBy(scale * 2);
      return L.bounds(pixelCenter.subtract(halfSize), pixelCenter.add(halfSize));
    },
    _getTilePos: function (coords) {
      var corner = this._map.unproject(coords.scaleBy(this.getTileSize()), coords.z);  // GCJ-02
      var wgs = GisMap.gcjToWgs(corner.lng, corner.lat);
      return this._map.project(L.latLng(wgs[1], wgs[0]), coords.z).subtract(this._level.origin).round();
    }
  });

  /** A Tianditu basemap (tiles and annotation) or a GCJ-02 one; tile events on the whole. */
  GisMap.chinaBasemap = function (spec) {
    var options = {subdomains: spec.subdomains, maxZoom: spec.max_zoom, maxNativeZoom: spec.max_zoom,
                   attribution: spec.attribution};
    var Kind = spec.kind === 'gcj02' ? GcjTileLayer : L.TileLayer;
    var tiles = spec.urls.map(function (url, k) {
      return new Kind(url, k === 0 ? options : Object.assign({}, options, {attribution: ''}));
    });
    if (tiles.length === 1) { return tiles[0]; }
    var group = L.layerGroup(tiles);
    ['tileload', 'tileerror'].forEach(function (name) {
      tiles[0].on(name, function (e) { group.fire(name, e); });
    });
    return group;
  };
})(window.GisMap);
