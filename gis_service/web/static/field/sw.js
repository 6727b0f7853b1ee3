/* Service worker of the field page (served at /field/sw.js, scope /field): after the first
 * visit the page, its scripts and styles, the grid's data and the map tiles it has shown open
 * offline. Data is network-first (fresh when the network answers, cached otherwise); scripts and
 * styles are cache-first. Writes are never touched here: the page's outbox sends them. */
'use strict';

var CACHE = 'gis-field-v1';
var NETWORK_WAIT_MS = 6000;
var DATA = /^\/(collections\/|tiles\/|field\/rules|field\/households|issues\/\d+\/photo)/;

self.addEventListener('install', function () { self.skipWaiting(); });
self.addEventListener('activate', function (event) { event.waitUntil(self.clients.claim()); });

function keep(request, response) {
  if (response && response.ok && !response.redirected && response.type === 'basic') {
    var copy = response.clone();
    caches.open(CACHE).then(function (cache) { return cache.put(request, copy); });
  }
  return response;
}

function cached(request) {
  return caches.open(CACHE).then(function (cache) {
    return cache.match(request, {ignoreVary: true}).then(function (hit) {
      if (hit || request.mode !== 'navigate') { return hit; }
      return cache.match(new URL(request.url).pathname, {ignoreVary: true, ignoreSearch: true});
    });
  });
}

function networkFirst(request) {
  return new Promise(function (resolve, reject) {
    var settled = false;
    var timer = setTimeout(function () {
      cached(request).then(function (hit) { if (hit && !settled) { settled = true; resolve(hit); } });
    }, NETWORK_WAIT_MS);
    fetch(request).then(function (response) {
      clearTimeout(timer);
      keep(request, response);
      if (!settled) { settled = true; resolve(response); }
    }, function (error) {
      clearTimeout(timer);
      cached(request).then(function (hit) {
        if (settled) { return; }
        settled = true;
        return hit ? resolve(hit) : reject(error);
      });
    });
  });
}

function cacheFirst(request) {
  return cached(request).then(function (hit) {
    return hit || fetch(request).then(function (response) { return keep(request, response); });
  });
}

self.addEventListener('fetch', function (event) {
  var request = event.request;
  if (request.method !== 'GET') { return; }
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  if (url.pathname.indexOf('/static/') === 0) { event.respondWith(cacheFirst(request)); return; }
  if (request.mode === 'navigate' && url.pathname === '/field') { event.respondWith(networkFirst(request)); return; }
  if (DATA.test(url.pathname)) { event.respondWith(networkFirst(request)); }
});

function precache(urls) {
  return caches.open(CACHE).then(function (cache) {
    return Promise.all(urls.map(function (url) {
      return fetch(url, {credentials: 'same-origin', cache: 'no-cache'}).then(function (response) {
        if (response.ok && !response.redirected) { return cache.put(url, response).then(function () { return 1; }); }
        return 0;
      }, function () { return 0; });
    }));
  }).then(function (done) {
    return forgetOtherVersions(urls).then(function () { return done.reduce(function (a, b) { return a + b; }, 0); });
  });
}

/** Static files are named by their content (?v=): the versions the page no longer names go. */
function forgetOtherVersions(urls) {
  var named = {};
  urls.forEach(function (url) {
    var u = new URL(url, self.location.origin);
    if (u.pathname.indexOf('/static/') === 0) { named[u.pathname] = u.search; }
  });
  return caches.open(CACHE).then(function (cache) {
    return cache.keys().then(function (requests) {
      return Promise.all(requests.map(function (request) {
        var u = new URL(request.url);
        var wanted = named[u.pathname];
        return wanted !== undefined && wanted !== u.search ? cache.delete(request) : false;
      }));
    });
  });
}

self.addEventListener('message', function (event) {
  var data = event.data || {};
  if (data.type === 'precache') {
    event.waitUntil(precache(data.urls || []).then(function (count) {
      if (event.source) { event.source.postMessage({type: 'precached', count: count}); }
    }));
  } else if (data.type === 'clear') {
    event.waitUntil(caches.delete(CACHE));
  }
});
