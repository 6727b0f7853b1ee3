/* GisMap consent and checklist: the owners' vote on the stairwell popup and the compound card
 * (under the consent rule in force), the complete-community score as a choropleth with the
 * missing kinds, and both as CSV tables of labels (never codes). Texts come from the map's
 * `consent:` block (maps/*.yaml) and the answers' own zh/en labels; all go in as text. */
(function (GisMap) {
  'use strict';
  var el = GisMap.el;
  var VERDICT_COLORS = {passed: '#2e7d32', approval_not_met: '#ef6c00',
                        quorum_not_met: '#c62828', no_register: '#9e9e9e'};
  var checklists = {};  // level -> promise of the checklist answer

  function panels() { return GisMap.config.consent; }
  function label(key) { return panels().labels[key] || key; }
  function pick(text) {
    if (!text) { return ''; }
    return GisMap.config.lang === 'zh' ? text.zh : text.en;
  }
  function percent(value) { return GisMap.format(value, 'percent'); }

  function consentUrl(params) {
    var query = Object.keys(params).map(function (k) {
      return encodeURIComponent(k) + '=' + encodeURIComponent(params[k]);
    }).join('&');
    return panels().consent_url + (panels().consent_url.indexOf('?') >= 0 ? '&' : '?') + query;
  }

  function checklistUrl(level, extra) {
    return GisMap.url(panels().checklist_url, {level: level}) + (extra || '');
  }

  /* ---- CSV: labels only, a BOM for spreadsheets, no cell a spreadsheet would run ---- */
  function csvCell(value) {
    var text = value === null || value === undefined ? '' : String(value);
    if (typeof value !== 'number' && /^[=+\-@\t\r]/.test(text)) { text = "'" + text; }
    return /[",\r\n]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
  }

  function download(name, header, rows) {
    var lines = [header].concat(rows).map(function (row) { return row.map(csvCell).join(','); });
    var blob = new Blob(['\ufeff' + lines.join('\r\n') + '\r\n'], {type: 'text/csv;charset=utf-8'});
    var link = el('a', {href: URL.createObjectURL(blob), download: name});
    document.body.appendChild(link);
    link.click();
    setTimeout(function () { URL.revokeObjectURL(link.href); link.remove(); }, 0);
  }
  GisMap.downloadCsv = download;

  function exportButton(key, onclick) {
    return el('button', {type: 'button', class: 'gis-export', 'data-export': key,
                         text: label(key), onclick: onclick});
  }

  /* ---- the vote of one stairwell ---- */
  function shareText(share, part, whole) {
    return percent(share) + ' (' + GisMap.format(part) + ' / ' + GisMap.format(whole) + ')';
  }

  function verdictBadge(row) {
    return el('p', {class: 'gis-verdict', 'data-verdict': row.verdict},
      [GisMap.swatch(VERDICT_COLORS[row.verdict] || '#607d8b'), el('strong', {text: pick(row.verdict_label)})]);
  }

  function notVoted(row) {
    var shown = row.not_voted.slice(0, 8).map(function (h) { return h.floor + 'F ' + h.door; });
    if (row.not_voted.length > shown.length) { shown.push('+' + (row.not_voted.length - shown.length)); }
    return el('p', {class: 'gis-not-voted'}, [label('not_voted') + ': ' + shown.join(', ')]);
  }

  function voteSection(report) {
    var row = report.stairwells[0];
    var head = el('tr', {}, [el('th'), el('th', {text: label('by_area')}), el('th', {text: label('by_owners')})]);
    var tookPart = el('tr', {'data-figure': 'took_part'}, [el('th', {text: label('took_part')}),
      el('td', {text: shareText(row.participation_area, row.voted_area_m2, row.area_m2)}),
      el('td', {text: shareText(row.participation_owners, row.voted_owners, row.owners)})]);
    var approve = el('tr', {'data-figure': 'approve'}, [el('th', {text: label('approve')}),
      el('td', {text: shareText(row.approval_area, row.agree_area_m2, row.voted_area_m2)}),
      el('td', {text: shareText(row.approval_owners, row.agree_owners, row.voted_owners)})]);
    var missing = row.missing[GisMap.config.lang === 'zh' ? 'zh' : 'en'];
    return [verdictBadge(row), el('table', {class: 'gis-vote'}, [head, tookPart, approve]),
      missing ? el('p', {class: 'gis-missing'}, [label('missing') + ': ' + missing]) : null,
      row.not_voted.length ? notVoted(row) : null,
      el('p', {class: 'gis-muted gis-rule', text: label('rule') + ': ' + pick(report.rule.title)})];
  }

  function failed(box, err) {
    var text = GisMap.token() ? err.message : label('sign_in_to_see');
    box.replaceChildren(el('h5', {text: label('vote')}), el('p', {class: 'gis-muted', text: text}));
    box.setAttribute('data-consent', 'none');
  }

  /** Appends the stairwell's vote to its popup (called by GisMap.stairwellPopup). */
  GisMap.stairwellExtras = function (body, id, popup) {
    if (!panels()) { return; }
    var box = el('div', {class: 'gis-consent'}, [el('h5', {text: label('vote')}),
                                                 el('p', {class: 'gis-muted', text: GisMap.t('loading')})]);
    body.appendChild(box);
    GisMap.fetchJson(consentUrl({stairwell_id: id})).then(function (report) {
      box.replaceChildren.apply(box, [el('h5', {text: label('vote')})].concat(voteSection(report))
        .filter(function (node) { return node !== null; }));
      box.setAttribute('data-consent', report.stairwells[0].verdict);
    }).catch(function (err) { failed(box, err); }).then(function () { popup.update(); });
  };

  /* ---- the compound card: counts per verdict, the checklist, exports ---- */
  function consentRows(report) {
    return report.stairwells.map(function (row) {
      return [row.label, GisMap.statusLabel(row.elevator_status), pick(row.verdict_label), row.households,
              row.participation_area, row.participation_owners, row.approval_area, row.approval_owners,
              pick(row.missing), row.not_voted.map(function (h) { return h.floor + 'F ' + h.door; }).join(' ')];
    });
  }

  function consentHeader() {
    var both = function (key) { return [label(key) + ' ' + label('by_area'), label(key) + ' ' + label('by_owners')]; };
    return [label('stairwell'), label('status'), label('verdict'), label('households')]
      .concat(both('took_part'), both('approve'), [label('missing'), label('not_voted')]);
  }

  function verdictCounts(report, name) {
    var rows = Object.keys(report.verdicts).map(function (code) {
      return el('div', {class: 'gis-bar', 'data-verdict': code, 'data-count': report.verdicts[code]},
        [GisMap.swatch(VERDICT_COLORS[code] || '#607d8b'), pick(report.verdict_labels[code]) + ' ' + report.verdicts[code]]);
    });
    return [el('h5', {text: label('verdicts')})].concat(rows, [
      el('p', {class: 'gis-muted gis-rule', text: label('rule') + ': ' + pick(report.rule.title)}),
      exportButton('export_consent', function () {
        download((name || 'compound') + '-' + report.rule.code + '.csv', consentHeader(), consentRows(report));
      })]);
  }

  function missingList(row, requirements) {
    var labels = {};
    requirements.forEach(function (r) { labels[r.code] = pick(r.label); });
    var codes = row.missing.concat(row.not_recorded);
    if (!codes.length) { return el('p', {class: 'gis-missing-kinds', text: label('missing_kinds') + ': ' + label('nothing_missing')}); }
    return el('div', {class: 'gis-missing-kinds'}, [label('missing_kinds') + ':',
      el('ul', {}, codes.map(function (c) { return el('li', {'data-kind': c, text: labels[c] || c}); }))]);
  }

  function checklistSummary(answer, row) {
    return [el('h5', {text: panels().checklist_title}),
      el('p', {class: 'gis-score', 'data-score': row.score},
        [GisMap.swatch(scoreColor(row.score)), label('score') + ' ' + GisMap.format(row.score) + ' / 100']),
      missingList(row, answer.requirements)];
  }

  /** Appends the vote counts and the checklist to a compound's card (called by GisMap.compoundCard). */
  GisMap.compoundExtras = function (card, id, name) {
    if (!panels()) { return; }
    var votes = el('div', {class: 'gis-consent-counts'}, [el('p', {class: 'gis-muted', text: GisMap.t('loading')})]);
    var checklist = el('div', {class: 'gis-checklist-card'});
    card.appendChild(votes);
    card.appendChild(checklist);
    GisMap.fetchJson(consentUrl({compound_id: id})).then(function (report) {
      votes.replaceChildren.apply(votes, verdictCounts(report, name));
      votes.setAttribute('data-ready', 'true');
    }).catch(function (err) {
      votes.replaceChildren(el('p', {class: 'gis-muted', text: GisMap.token() ? err.message : label('sign_in_to_see')}));
    });
    GisMap.fetchJson(checklistUrl('compound', '&compound_id=' + encodeURIComponent(id))).then(function (answer) {
      var row = answer.rows[0];
      if (row) { checklist.replaceChildren.apply(checklist, checklistSummary(answer, row)); }
      checklist.setAttribute('data-ready', 'true');
    }).catch(function (err) { checklist.replaceChildren(el('p', {class: 'gis-error', text: err.message})); });
  };

  /* ---- the checklist choropleth ---- */
  function scoreColor(score) {
    var p = panels();
    if (typeof score !== 'number') { return '#bdbdbd'; }
    var k = 0;
    while (k < p.breaks.length && score >= p.breaks[k]) { k += 1; }
    return p.colors[k];
  }

  function checklistData(level) {
    if (!checklists[level]) {
      var areas = GisMap.url(GisMap.config.urls.items, {layer: level === 'community' ? 'communities' : 'compounds'});
      checklists[level] = Promise.all([
        GisMap.fetchJson(areas + '?limit=1000'),
        GisMap.fetchJson(checklistUrl(level))
      ]).then(function (both) {
        var rows = {};
        both[1].rows.forEach(function (row) { rows[String(row[level + '_id'])] = row; });
        both[0].features = both[0].features.filter(function (f) { return rows[String(f.id)]; });
        both[0].features.forEach(function (f) { f.properties.__checklist = rows[String(f.id)]; });
        return {areas: both[0], answer: both[1]};
      }).catch(function (err) { delete checklists[level]; throw err; });
    }
    return checklists[level];
  }

  function checklistRows(answer) {
    var col = answer.level + '_id';
    return answer.rows.map(function (row) {
      var status = {};
      row.kinds.forEach(function (k) { status[k.code] = pick(k.status_label); });
      return [row.name || ('#' + row[col]), row.score].concat(answer.requirements.map(function (r) { return status[r.code]; }),
        [row.kinds.filter(function (k) { return k.status !== 'present'; }).map(function (k) { return pick(k.label); })
          .join(GisMap.config.lang === 'zh' ? '、' : ', ')]);
    });
  }

  GisMap.checklistLayer = function () {
    var p = panels();
    var state = {level: p.levels[0].id};
    var current = null;
    var layer = L.geoJSON(null, {
      pane: 'gis-choropleth',
      style: function (f) {
        return {fillColor: scoreColor(f.properties.__checklist.score), fillOpacity: 0.7,
                color: '#424242', weight: 1, pane: 'gis-choropleth'};
      },
      onEachFeature: function (f, sub) {
        var row = f.properties.__checklist;
        sub.bindTooltip(function () {
          return el('div', {class: 'gis-tooltip gis-checklist-tip', 'data-area': f.id},
            [el('strong', {text: row.name || f.properties.name || ''})].concat(checklistSummary(current.answer, row)));
        }, {sticky: true});
        if (state.level === 'compound') {
          sub.on('click', function () { GisMap.compoundCard(String(f.id), row.name); });
        }
      }
    });
    var legend = new (L.Control.extend({
      options: {position: 'bottomright'},
      onAdd: function () {
        var levels = el('select', {'aria-label': label('level'), onchange: function () { state.level = levels.value; load(); }},
          p.levels.map(function (lv) { return el('option', {value: lv.id, text: lv.title}); }));
        this.body = el('div', {class: 'gis-legend-body'}, [el('p', {class: 'gis-muted', text: GisMap.t('loading')})]);
        var box = el('div', {class: 'gis-panel gis-legend gis-checklist-legend'}, [el('h4', {text: p.checklist_title}), levels, this.body]);
        GisMap.foldable(box);
        L.DomEvent.disableClickPropagation(box);
        L.DomEvent.disableScrollPropagation(box);
        return box;
      }
    }))();

    function classes(features) {
      var bounds = [0].concat(p.breaks);
      return p.colors.map(function (color, k) {
        var n = features.filter(function (f) { return scoreColor(f.properties.__checklist.score) === color; }).length;
        var range = k === p.breaks.length ? '≥ ' + bounds[k] : bounds[k] + ' – ' + p.breaks[k];
        return el('div', {class: 'gis-legend-class', 'data-class': k, 'data-count': n},
          [GisMap.swatch(color), range, el('small', {text: ' (' + n + ')'})]);
      });
    }

    function load() {
      var level = state.level;
      legend.body.removeAttribute('data-ready');
      checklistData(level).then(function (data) {
        if (level !== state.level) { return; }
        current = data;
        layer.clearLayers();
        layer.addData(data.areas);
        var save = exportButton('export_checklist', function () {
          download(p.checklist_title + '-' + level + '.csv',
            [label('name'), label('score')].concat(data.answer.requirements.map(function (r) { return pick(r.label); }), [label('missing_kinds')]),
            checklistRows(data.answer));
        });
        legend.body.replaceChildren.apply(legend.body, classes(data.areas.features).concat([save]));
        legend.body.setAttribute('data-level', level);
        legend.body.setAttribute('data-ready', 'true');
      }).catch(function (err) {
        legend.body.replaceChildren(el('p', {class: 'gis-error', text: err.message}));
      });
    }

    layer.on('add', function () { GisMap.map.addControl(legend); load(); });
    layer.on('remove', function () { GisMap.map.removeControl(legend); });
    layer.gisReset = function () { checklists = {}; if (layer._map) { load(); } };
    GisMap.dataLayers.push(layer);
    GisMap.layers.checklist = layer;
    return layer;
  };
})(window.GisMap);
