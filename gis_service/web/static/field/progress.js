/* Supervisor page: a map and a labelled chart of survey progress per grid, the cumulative series,
 * the community roll-up, the issue ledger, and unresolved issues with their age, to assign to a
 * grid worker or to resolve with a note (staff). Texts from data go in with textContent only. */
(function (global) {
  'use strict';
  var cfg = null;
  var map = null;
  var SHARE_CLASSES = [[0, '#f1eef6'], [0.2, '#bdc9e1'], [0.4, '#74a9cf'], [0.6, '#2b8cbe'], [0.8, '#045a8d']];
  function t(k) { return cfg.strings[k] || k; }
  function fill(text, values) {
    return text.replace(/\{(\w+)\}/g, function (all, k) { return k in values ? values[k] : all; });
  }
  function el(tag, attrs, children) {
    var n = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === 'text') { n.textContent = String(attrs[k]); }
      else if (k.slice(0, 2) === 'on') { n.addEventListener(k.slice(2), attrs[k]); }
      else if (attrs[k] !== null && attrs[k] !== undefined && attrs[k] !== false) { n.setAttribute(k, String(attrs[k])); }
    });
    (children || []).forEach(function (c) {
      if (c !== null && c !== undefined) { n.appendChild(typeof c === 'object' ? c : document.createTextNode(String(c))); }
    });
    return n;
  }
  function svgEl(tag, attrs, text) {
    var n = document.createElementNS('http://www.w3.org/2000/svg', tag);
    Object.keys(attrs).forEach(function (k) { n.setAttribute(k, String(attrs[k])); });
    if (text !== undefined) { n.textContent = text; }
    return n;
  }
  function pct(v) { return v === null || v === undefined ? '–' : (v * 100).toFixed(1) + '\u00a0%'; }  // never wrapped from its number
  function shareColor(v) {
    var colour = SHARE_CLASSES[0][1];
    SHARE_CLASSES.forEach(function (c) { if (v !== null && v >= c[0]) { colour = c[1]; } });
    return colour;
  }
  function csrf() {
    var m = new RegExp('(?:^|; )' + cfg.csrf.cookie + '=([^;]*)').exec(document.cookie);
    return m ? decodeURIComponent(m[1]) : '';
  }
  function json(url, options) {
    var o = Object.assign({credentials: 'same-origin', headers: {Accept: 'application/json'}}, options || {});
    return fetch(url, o).then(function (r) {
      if (!r.ok) {
        return r.json().catch(function () { return {}; }).then(function (p) {
          var e = new Error(t('failed') + ' (' + r.status + ')' + (p.detail ? ': ' + p.detail : ''));
          e.status = r.status;
          throw e;
        });
      }
      return r.json();
    });
  }
  function post(url, body) {
    var headers = {'Content-Type': 'application/json', Accept: 'application/json'};
    headers[cfg.csrf.header] = csrf();
    return json(url, {method: 'POST', headers: headers, body: JSON.stringify(body)});
  }
  /** A table in its own sideways-scrolling box: on a phone it scrolls, not the page. */
  function table(head, rows, id) {
    return el('div', {class: 'table-scroll'}, [el('table', {id: id}, [el('thead', {}, [el('tr', {}, head.map(function (h) { return el('th', {text: h}); }))]),
      el('tbody', {}, rows.map(function (r) {
        return el('tr', {'data-grid': r[0].grid, 'data-community': r[0].community}, r.map(function (c) {
          return el('td', {text: c !== null && typeof c === 'object' ? c.text : c});
        }));
      }))])]);
  }
  /** One labelled bar per grid: its name, the share surveyed and the counts. */
  function gridChart(grids) {
    var row = 26, width = 720;
    var svg = svgEl('svg', {viewBox: '0 0 ' + width + ' ' + (grids.length * row + 30), id: 'grid-chart',
                            role: 'img', 'aria-label': t('per_grid')});
    svg.appendChild(svgEl('text', {x: 200, y: 14, 'font-size': 12}, t('share_legend') + ' (0 – 100 %)'));
    grids.forEach(function (g, i) {
      var y = 22 + i * row;
      var share = g.surveyed_share || 0;
      svg.appendChild(svgEl('text', {x: 192, y: y + 15, 'font-size': 12, 'text-anchor': 'end'}, g.name));
      svg.appendChild(svgEl('rect', {x: 200, y: y + 3, width: 360, height: 16, fill: '#eceff1'}));
      var bar = svgEl('rect', {x: 200, y: y + 3, width: (360 * share).toFixed(1), height: 16,
                               fill: '#2b8cbe', 'data-grid': g.grid_id});
      bar.appendChild(svgEl('title', {}, g.name + ': ' + pct(g.surveyed_share)));
      svg.appendChild(bar);
      svg.appendChild(svgEl('text', {x: 568, y: y + 15, 'font-size': 12, class: 'bar-label', 'data-grid': g.grid_id},
        pct(g.surveyed_share) + ' (' + g.surveyed + '/' + g.stairwells + ')'));
    });
    return svg;
  }
  /** The cumulative share surveyed per grid over time, with a legend naming each line. */
  function seriesChart(grids) {
    var days = [];
    grids.forEach(function (g) { g.series.forEach(function (p) { days.push(Date.parse(p.date)); }); });
    if (!days.length) { return el('p', {text: t('none')}); }
    var lo = Math.min.apply(null, days), hi = Math.max.apply(null, days.concat([lo + 86400000]));
    var shown = grids.filter(function (g) { return g.series.length; });
    var svg = svgEl('svg', {viewBox: '0 0 720 ' + (250 + 18 * Math.ceil(shown.length / 4)), id: 'progress-chart',
                            role: 'img', 'aria-label': t('over_time')});
    var share = function (g, p) { return g.stairwells ? p.stairwells_surveyed / g.stairwells : 0; };
    svg.appendChild(svgEl('text', {x: 20, y: 236, 'font-size': 12}, new Date(lo).toISOString().slice(0, 10)));
    svg.appendChild(svgEl('text', {x: 700, y: 236, 'font-size': 12, 'text-anchor': 'end'}, new Date(hi).toISOString().slice(0, 10)));
    svg.appendChild(svgEl('text', {x: 22, y: 14, 'font-size': 12}, t('surveyed') + ' % (0 – 100 %)'));
    shown.forEach(function (g, i) {
      var colour = 'hsl(' + (i * 47 % 360) + ',65%,40%)';
      var pts = g.series.map(function (p) {
        return (20 + 680 * (Date.parse(p.date) - lo) / (hi - lo)).toFixed(1) + ',' + (220 - 200 * share(g, p)).toFixed(1);
      });
      var line = svgEl('polyline', {points: pts.join(' '), fill: 'none', stroke: colour, 'stroke-width': 2});
      line.appendChild(svgEl('title', {}, g.name));
      svg.appendChild(line);
      var x = 20 + (i % 4) * 175, y = 256 + 18 * Math.floor(i / 4);
      svg.appendChild(svgEl('rect', {x: x, y: y - 9, width: 12, height: 4, fill: colour}));
      svg.appendChild(svgEl('text', {x: x + 16, y: y - 3, 'font-size': 12, class: 'series-label'}, g.name));
    });
    return svg;
  }
  function drawMap(box, grids, shapes) {
    if (!global.L) { return; }
    if (map) { map.remove(); }
    // canvas: the page's chart style (svg width 100%) must not reach the map's own drawing
    map = L.map(box, {attributionControl: false, zoomSnap: 0.25, preferCanvas: true});
    var byId = {};
    grids.forEach(function (g) { byId[g.grid_id] = g; });
    var layer = L.geoJSON(shapes, {
      style: function (f) {
        var g = byId[f.id];
        return {color: '#37474f', weight: 1, fillOpacity: 0.8, fillColor: shareColor(g ? g.surveyed_share : null)};
      },
      onEachFeature: function (f, l) {
        var g = byId[f.id];
        if (!g) { return; }
        l.bindTooltip(g.name + ' · ' + pct(g.surveyed_share) + ' · ' +
          fill(t('surveyed_of'), {done: g.surveyed, all: g.stairwells}), {sticky: true});
      }
    });
    // the view first: a vector layer added to a map without one is drawn nowhere
    if (layer.getLayers().length) { map.fitBounds(layer.getBounds()); } else { map.setView([0, 0], 1); }
    layer.addTo(map);
    box.setAttribute('data-grids-drawn', String(layer.getLayers().length));
    var legend = L.control({position: 'bottomright'});
    legend.onAdd = function () {
      return el('div', {class: 'progress-legend', style: 'background:#fff;padding:6px 8px;font-size:12px'},
        [el('b', {text: t('share_legend')})].concat(SHARE_CLASSES.map(function (c, i) {
          var upper = i + 1 < SHARE_CLASSES.length ? SHARE_CLASSES[i + 1][0] * 100 : 100;
          return el('div', {}, [el('span', {style: 'display:inline-block;width:12px;height:12px;margin-right:4px;background:' + c[1]}),
            (c[0] * 100) + '–' + upper + '\u00a0%']);
        })));
    };
    legend.addTo(map);
  }
  /** What was typed or chosen in each issue's row and not yet sent, by issue id: the list drawn
   * again (after a write, or a version gone stale) puts it back, so nothing typed is lost. */
  function drafts() {
    var found = {};
    document.querySelectorAll('#open-issues .issue').forEach(function (row) {
      var note = row.querySelector('.resolve-note'), select = row.querySelector('select.worker');
      found[row.getAttribute('data-id')] = {note: note ? note.value : '',
                                            worker: select && select.dataset.chosen ? select.value : ''};
    });
    return found;
  }
  function issueRow(issue, workers, message, draft) {
    var staff = cfg.role === 'planner' || cfg.role === 'admin';
    var assignee = workers.filter(function (w) { return w.id === issue.assignee_id; })[0];
    var parts = [
      el('b', {text: cfg.categories[issue.category] || issue.category}),
      el('span', {class: 'status', 'data-status': issue.status, text: cfg.statuses[issue.status] || issue.status}),
      el('span', {text: issue.note || ''}),
      el('span', {class: 'meta', text: (issue.grid_name || t('grid') + ' ' + issue.grid_id) + ' · ' +
        issue.reported_at.slice(0, 10) + ' · ' + t('age') + ' ' + fill(t('days'), {n: issue.age_days})}),
      el('span', {class: 'age', 'data-days': issue.age_days}),
      assignee ? el('span', {class: 'assignee', text: t('assignee') + ': ' + (assignee.display_name || assignee.username)}) : null,
      issue.has_photo ? el('a', {href: '/issues/' + issue.id + '/photo', text: t('photo_link')}) : null
    ];
    if (staff) {
      var choices = workers.filter(function (w) { return w.grids.indexOf(issue.grid_id) >= 0; });
      var select = el('select', {class: 'worker', 'aria-label': t('assign_to')},
        [el('option', {value: '', text: t('choose_worker')})].concat(choices.map(function (w) {
          return el('option', {value: w.id, text: (w.display_name || w.username) + ' (' + w.username + ')',
                               selected: draft.worker ? String(w.id) === draft.worker : w.id === issue.assignee_id});
        })));
      select.addEventListener('change', function () { select.dataset.chosen = '1'; });
      if (draft.worker) { select.dataset.chosen = '1'; }
      var assign = el('button', {type: 'button', class: 'assign', 'data-id': issue.id, text: t('assign'), onclick: function () {
        if (!select.value) { message.textContent = t('choose_worker'); return; }
        assign.disabled = true;
        post('/issues/' + issue.id + '/assignment', {assignee_id: Number(select.value), version: issue.version})
          .then(function () { delete select.dataset.chosen; return load(); }).catch(failed(message, assign));
      }});
      var note = el('input', {class: 'resolve-note', maxlength: 2000, placeholder: t('resolve_note'), 'aria-label': t('resolve_note')});
      note.value = draft.note || '';
      var resolve = el('button', {type: 'button', class: 'resolve', 'data-id': issue.id, text: t('resolve'), onclick: function () {
        if (!note.value.trim()) { message.textContent = t('note_required'); note.focus(); return; }
        resolve.disabled = true;
        post('/issues/' + issue.id + '/resolution', {note: note.value, version: issue.version})
          .then(function () { return load(); }).catch(failed(message, resolve));
      }});
      parts.push(el('span', {class: 'actions'}, [select, assign, note, resolve]));
    }
    return el('div', {class: 'issue', 'data-id': issue.id}, parts);
  }
  function failed(message, button) {
    return function (err) {
      button.disabled = false;
      if (err.status === 412) { load(t('stale')); } else { message.textContent = err.message; }
    };
  }
  /** Draw the page from the API, with the rows' drafts kept and `notice` (if any) shown above the issues. */
  function load(notice) {
    var root = document.getElementById('progress');
    return Promise.all([json('/field/progress'), json('/issues/ledger'), json('/field/progress/communities'),
                        json('/field/progress/issues'),
                        json('/collections/grids/items?limit=1000').catch(function () { return {features: []}; })])
      .then(function (parts) {
        var prog = parts[0], ledger = parts[1], communities = parts[2], open = parts[3], shapes = parts[4];
        var rows = prog.grids.map(function (g) {
          return [{text: g.name, grid: g.grid_id}, g.surveyed + ' / ' + g.stairwells, pct(g.surveyed_share),
                  g.households_reached + ' / ' + g.households, g.last_surveyed_on || '–'];
        });
        var lrows = ledger.grids.map(function (g) {
          return [{text: g.name, grid: g.grid_id}, g.open, g.assigned, g.resolved, pct(g.resolution_rate)];
        });
        lrows.push([{text: t('total'), grid: 'total'}, ledger.total.open, ledger.total.assigned, ledger.total.resolved,
                    pct(ledger.total.resolution_rate)]);
        var crows = communities.map(function (c) {
          return [{text: cfg.lang === 'en' && c.name_en ? c.name_en : c.name, community: c.community_id}, c.grids,
                  c.surveyed + ' / ' + c.stairwells, pct(c.surveyed_share), c.households_reached + ' / ' + c.households,
                  c.open_issues];
        });
        var message = el('p', {class: 'error', role: 'alert', id: 'issue-message', text: notice || ''});
        var typed = drafts();
        var issues = open.issues.map(function (i) { return issueRow(i, open.workers, message, typed[i.id] || {}); });
        var mapBox = el('div', {id: 'progress-map', style: 'height:420px;max-width:960px;background:#fafafa'});
        var exportLink = el('a', {id: 'export-csv', href: '/field/progress.csv?lang=' + cfg.lang, download: 'progress.csv', text: t('export')});
        document.title = t('title');
        root.replaceChildren(el('h1', {text: t('title')}), exportLink,
          el('h2', {text: t('map')}), mapBox,
          el('h2', {text: t('per_grid')}), gridChart(prog.grids),
          table([t('grid'), t('surveyed'), t('share_legend'), t('reached'), t('last_surveyed')], rows, 'progress-table'),
          el('h2', {text: t('over_time')}), seriesChart(prog.grids),
          el('h2', {text: t('communities')}),
          table([t('community'), t('grids'), t('surveyed'), t('share_legend'), t('reached'), t('open_issues_n')],
                crows, 'community-table'),
          el('h2', {text: t('ledger')}),
          table([t('grid'), t('open'), t('assigned'), t('resolved'), t('rate')], lrows, 'ledger-table'),
          el('h2', {text: t('open_issues')}), message,
          el('div', {id: 'open-issues'}, issues.length ? issues : [el('p', {text: t('none')})]));
        drawMap(mapBox, prog.grids, shapes);
        document.documentElement.setAttribute('data-progress-ready', String(Date.now()));
      })
      .catch(function (err) { root.replaceChildren(el('p', {class: 'error', text: err.message})); });
  }
  global.FieldProgress = {init: function (config) { cfg = config; load(); }};
})(window);
