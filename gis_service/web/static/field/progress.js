/* Supervisor page: survey progress per grid (table and cumulative chart), the issue ledger,
 * and open issues a planner can resolve (PATCH through the features API with If-Match). */
(function (global) {
  'use strict';
  var cfg = null;
  function t(k) { return cfg.strings[k] || k; }
  function el(tag, attrs, children) {
    var n = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === 'text') { n.textContent = String(attrs[k]); }
      else if (k.slice(0, 2) === 'on') { n.addEventListener(k.slice(2), attrs[k]); }
      else if (attrs[k] !== null && attrs[k] !== undefined) { n.setAttribute(k, String(attrs[k])); }
    });
    (children || []).forEach(function (c) { n.appendChild(typeof c === 'object' ? c : document.createTextNode(String(c))); });
    return n;
  }
  function pct(v) { return v === null || v === undefined ? '–' : (v * 100).toFixed(1) + ' %'; }
  function json(url, options) {
    return fetch(url, Object.assign({credentials: 'same-origin', headers: {Accept: 'application/json'}}, options || {}))
      .then(function (r) { if (!r.ok) { throw new Error(url + ': ' + r.status); } return r; });
  }
  function table(head, rows, id) {
    return el('table', {id: id}, [el('thead', {}, [el('tr', {}, head.map(function (h) { return el('th', {text: h}); }))]),
      el('tbody', {}, rows.map(function (r) {
        return el('tr', {'data-grid': r[0].grid}, r.map(function (c) { return el('td', {text: c.text === undefined ? c : c.text}); }));
      }))]);
  }
  function chart(grids) {
    var ns = 'http://www.w3.org/2000/svg';
    var svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('viewBox', '0 0 720 240');
    svg.setAttribute('id', 'progress-chart');
    var days = [];
    grids.forEach(function (g) { g.series.forEach(function (p) { days.push(Date.parse(p.date)); }); });
    if (!days.length) { return el('p', {text: t('none')}); }
    var lo = Math.min.apply(null, days), hi = Math.max.apply(null, days.concat([lo + 86400000]));
    var share = function (g, p) { return g.stairwells ? p.stairwells_surveyed / g.stairwells : 0; };
    var top = Math.max.apply(null, [0.05].concat(grids.map(function (g) {
      return Math.max.apply(null, [0].concat(g.series.map(function (p) { return share(g, p); })));
    })));
    var label = function (x, y, text, anchor) {
      var node = document.createElementNS(ns, 'text');
      node.setAttribute('x', x); node.setAttribute('y', y); node.setAttribute('font-size', '12');
      node.setAttribute('text-anchor', anchor || 'start');
      node.textContent = text;
      svg.appendChild(node);
    };
    label(20, 236, new Date(lo).toISOString().slice(0, 10));
    label(700, 236, new Date(hi).toISOString().slice(0, 10), 'end');
    label(22, 14, t('surveyed') + ' % (0 – ' + pct(top) + ')');
    grids.forEach(function (g, i) {
      if (!g.series.length) { return; }
      var pts = g.series.map(function (p) {
        return (20 + 680 * (Date.parse(p.date) - lo) / (hi - lo)).toFixed(1) + ',' + (220 - 200 * share(g, p) / top).toFixed(1);
      });
      var line = document.createElementNS(ns, 'polyline');
      line.setAttribute('points', pts.join(' '));
      line.setAttribute('fill', 'none');
      line.setAttribute('stroke', 'hsl(' + (i * 47 % 360) + ',65%,45%)');
      line.setAttribute('stroke-width', '2');
      var title = document.createElementNS(ns, 'title');
      title.textContent = g.name;
      line.appendChild(title);
      svg.appendChild(line);
    });
    return svg;
  }
  function resolveIssue(issue, button) {
    var csrf = (new RegExp('(?:^|; )' + cfg.csrf.cookie + '=([^;]*)').exec(document.cookie) || [])[1] || '';
    var headers = {'Content-Type': 'application/merge-patch+json', 'If-Match': '"' + issue.properties.version + '"'};
    headers[cfg.csrf.header] = decodeURIComponent(csrf);
    button.disabled = true;
    fetch('/collections/issues/items/' + issue.id, {method: 'PATCH', credentials: 'same-origin', headers: headers,
      body: JSON.stringify({type: 'Feature', properties: {status: 'resolved', resolved_at: new Date().toISOString()}})})
      .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return load(); })
      .catch(function (err) { button.disabled = false; button.textContent = t('resolve') + ' (' + err.message + ')'; });
  }
  function load() {
    var root = document.getElementById('progress');
    return Promise.all([json('/field/progress').then(function (r) { return r.json(); }),
                        json('/issues/ledger').then(function (r) { return r.json(); }),
                        json('/collections/issues/items?status=open&limit=500').then(function (r) { return r.json(); })])
      .then(function (parts) {
        var prog = parts[0], ledger = parts[1], open = parts[2].features || [];
        var rows = prog.grids.map(function (g) {
          return [{text: g.name, grid: g.grid_id}, g.surveyed + ' / ' + g.stairwells, pct(g.surveyed_share),
                  g.households_reached + ' / ' + g.households, g.last_surveyed_on || '–'];
        });
        var lrows = ledger.grids.map(function (g) {
          return [{text: g.name, grid: g.grid_id}, g.open, g.assigned, g.resolved, pct(g.resolution_rate)];
        });
        lrows.push([{text: t('total'), grid: 'total'}, ledger.total.open, ledger.total.assigned, ledger.total.resolved,
                    pct(ledger.total.resolution_rate)]);
        var issues = open.map(function (f) {
          var button = el('button', {type: 'button', class: 'resolve', 'data-id': f.id, text: t('resolve')});
          button.addEventListener('click', function () { resolveIssue(f, button); });
          var p = f.properties;
          return el('div', {class: 'issue', 'data-id': f.id}, [el('b', {text: cfg.categories[p.category] || p.category}), el('span', {text: p.note || ''}),
            el('span', {class: 'meta', text: t('grid') + ' ' + p.grid_id + ' · ' + (p.reported_at || '').slice(0, 10)}),
            p.photo_path ? el('a', {href: '/issues/' + f.id + '/photo', text: t('photo_link')}) : el('span'),
            cfg.role === 'planner' || cfg.role === 'admin' ? button : el('span')]);
        });
        root.replaceChildren(el('h1', {text: t('progress')}),
          table([t('grid'), t('surveyed'), '%', t('reached'), ''], rows, 'progress-table'),
          el('h2', {text: t('over_time')}), chart(prog.grids),
          el('h2', {text: t('ledger')}),
          table([t('grid'), t('open'), t('assigned'), t('resolved'), t('rate')], lrows, 'ledger-table'),
          el('h2', {text: t('open_issues')}), el('div', {id: 'open-issues'}, issues.length ? issues : [el('p', {text: t('none')})]));
        document.documentElement.setAttribute('data-progress-ready', 'true');
      })
      .catch(function (err) { root.replaceChildren(el('p', {text: err.message})); });
  }
  global.FieldProgress = {init: function (config) { cfg = config; load(); }};
})(window);
