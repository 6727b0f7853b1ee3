/* Leaflet.VectorGrid 1.3 as our pages need it (loaded right after it, on every page that draws
 * vector tiles): what Leaflet >= 1.8 dropped, given back; and a tile that cannot be fetched or
 * read (offline, the server unreachable) drawn empty with a warning in the console, not thrown
 * as an uncaught error, and asked for again (that tile alone) when the browser is back online
 * (and, while it says it is online, after a wait that doubles). A tile the server refuses for
 * now (5xx, 429: busy, restarting, a gateway's error) is missed alike, and not asked for again
 * before the time its Retry-After says (seconds or a date; ten minutes at most); one it refuses
 * for good (another 4xx) VectorGrid draws empty, as a tile with no data. */
(function (global) {
  'use strict';
  var L = global.L;
  if (!L || !L.VectorGrid || L.VectorGrid.prototype._gisCompat) { return; }
  if (!L.DomEvent.fakeStop) {
    L.DomEvent.fakeStop = function (e) { e._stopped = true; };
  }
  var create = L.VectorGrid.prototype._createLayer;
  L.VectorGrid.prototype._createLayer = function (feat, pxPerExtent) {
    var layer = create.call(this, feat, pxPerExtent);
    // Its point symbols have no latlng: let Leaflet place events by the mouse position.
    if (layer && feat.type === 1) { layer.getLatLng = null; }
    return layer;
  };
  L.VectorGrid.prototype._gisCompat = true;

  var missed = [];  // [layer, tile key] of each tile that could not be fetched
  /** Ask again for the missed tiles only (still in view): each is dropped, and the layer's
   * update adds what its view lacks; the tiles it drew stay. */
  function redrawMissed() {
    var layers = [];
    missed.splice(0).forEach(function (miss) {
      var layer = miss[0];
      if (!layer._map) { return; }
      if (layer._tiles[miss[1]]) { layer._removeTile(miss[1]); }
      if (layers.indexOf(layer) < 0) { layers.push(layer); }
    });
    layers.forEach(function (layer) { layer._update(); });
  }
  /** Tiles missed while the browser says it is online (the server unreachable, or the network
   * not back yet when the online event came) are asked for again after a wait that doubles to
   * 60 s, never before a refusal's Retry-After (retry-after.js). */
  var clock = global.RetryClock(redrawMissed, 2000, 60000);
  function retryLater() {
    if (global.navigator.onLine) { clock.later(); }  // offline: the online event redraws
  }
  /** fetch, failing for an answer the server may give otherwise later (VectorGrid would draw it
   * as an empty tile for good). */
  function refusingForNow(fetch) {
    return function (input, init) {
      return fetch.call(global, input, init).then(function (response) {
        if (response.status >= 500 || response.status === 429) {
          clock.notBefore(global.retryAfterAt(response));
          throw new Error('the server did not give the tile now (' + response.status + ')');
        }
        return response;
      });
    };
  }
  var fetchTile = L.VectorGrid.Protobuf.prototype._getVectorTilePromise;
  L.VectorGrid.Protobuf.prototype._getVectorTilePromise = function (coords) {
    var layer = this, fetch = global.fetch, asked;
    global.fetch = refusingForNow(fetch);  // VectorGrid calls fetch at once, in this call
    try { asked = fetchTile.call(this, coords); } finally { global.fetch = fetch; }
    return asked.catch(function (err) {
      if (global.console) { console.warn('vector tile ' + coords.z + '/' + coords.x + '/' + coords.y + ' not drawn:', err); }
      missed.push([layer, layer._tileCoordsToKey(coords)]);
      retryLater();
      return {layers: []};  // as a tile the server has no data for
    });
  };
  global.addEventListener('online', function () {
    clock.cancel();
    clock.reset();
    if (clock.held()) { retryLater(); } else { redrawMissed(); }
  });
})(window);
