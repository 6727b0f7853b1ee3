/* When an answer refused for now (503, 429) may be asked for again, by its Retry-After (delay
 * seconds or an HTTP date): ms since the epoch, 0 without one; ten minutes on at most, so that a
 * hostile or mistaken header never stops a page for good. Loaded before the scripts that retry
 * (vectorgrid-compat.js, field/outbox.js). */
(function (global) {
  'use strict';
  var MAX_MS = 600000;
  global.retryAfterAt = function (response) {
    var said = (response && response.headers && response.headers.get('Retry-After')) || '';
    var ms = /^\s*\d+\s*$/.test(said) ? parseInt(said, 10) * 1000 : Date.parse(said) - Date.now();
    return ms > 0 ? Date.now() + Math.min(ms, MAX_MS) : 0;
  };
})(window);
