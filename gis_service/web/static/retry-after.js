/* Asking again for what the server refused for now (503, 429) or could not be reached for:
 * after a wait that doubles, and never before the time a refusal's Retry-After named. Loaded
 * before the scripts that retry (vectorgrid-compat.js, field/outbox.js). */
(function (global) {
  'use strict';
  var MAX_MS = 600000;
  /** When an answer refused for now may be asked for again, by its Retry-After (delay seconds
   * or an HTTP date): ms since the epoch, 0 without one; ten minutes on at most, so that a
   * hostile or mistaken header never stops a page for good. */
  global.retryAfterAt = function (response) {
    var said = (response && response.headers && response.headers.get('Retry-After')) || '';
    var ms = /^\s*\d+\s*$/.test(said) ? parseInt(said, 10) * 1000 : Date.parse(said) - Date.now();
    return ms > 0 ? Date.now() + Math.min(ms, MAX_MS) : 0;
  };
  /** Calls `run` once again after a failure: `later()` sets it after the wait (firstMs,
   * doubling up to maxMs), never before a time `notBefore(at)` was told; a later such time
   * moves a wait already set. */
  global.RetryClock = function (run, firstMs, maxMs) {
    var timer = null, at = 0, waitMs = firstMs, until = 0;
    function on(when) {
      clearTimeout(timer);
      at = when;
      timer = setTimeout(function () { timer = null; run(); }, Math.max(0, when - Date.now()));
    }
    return {
      /** A refusal's Retry-After time (ms since the epoch; 0: none). */
      notBefore: function (when) { until = Math.max(until, when || 0); },
      /** Whether the server's time has not come yet. */
      held: function () { return Date.now() < until; },
      later: function () {
        if (timer) {
          if (until > at) { on(until); }  // a Retry-After later than the wait set
          return;
        }
        on(Math.max(Date.now() + waitMs, until));
        waitMs = Math.min(waitMs * 2, maxMs);
      },
      /** Run at the server's time, unless a wait is set already. */
      atTheirTime: function () { if (!timer) { on(until); } },
      /** The next wait is the first again (a success, or the browser back online). */
      reset: function () { waitMs = firstMs; },
      cancel: function () { clearTimeout(timer); timer = null; }
    };
  };
})(window);
