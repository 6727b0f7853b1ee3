/* The field page's forms: survey a stairwell, report an issue (photo resized in the browser),
 * choose between both values of a conflict, and see the edits still waiting to be sent. */
(function (global) {
  'use strict';

  var el = function () { return FieldMap.el.apply(null, arguments); };
  var t = function (key) { return FieldMap.t(key); };
  var COUNTS = ['households', 'elderly_households', 'consent_agree', 'consent_object'];
  var PATCHED = ['households', 'elderly_households', 'consent_agree', 'consent_object', 'notes',
                 'survey_status', 'last_surveyed_on'];
  var picking = null;  // the issue form waiting for a tap on the map

  function notice(text) {
    var box = document.getElementById('notice') || document.body.appendChild(el('div', {id: 'notice', role: 'status'}));
    box.textContent = text;
    box.hidden = false;
    clearTimeout(notice.timer);
    notice.timer = setTimeout(function () { box.hidden = true; }, 4000);
  }

  function field(name, input, hint) {
    var doc = FieldMap.rules;
    var label = doc ? doc.labels[name] : name;
    return el('div', {class: 'field', 'data-field': name}, [el('label', {text: label, for: 'f-' + name}), input, hint,
      el('span', {class: 'field-error', 'data-field': name, id: 'e-' + name})]);
  }

  /** The last recorded count as a hint: one tap confirms it, else the worker types the new one. */
  function previous(input, value) {
    if (value === null || value === undefined || value === '') { return null; }
    return el('button', {type: 'button', class: 'previous', 'data-value': value,
      text: t('previous').replace('{v}', value), onclick: function () {
        input.value = String(value);
        input.dispatchEvent(new Event('input'));
      }});
  }

  /** Mark each field in error, and bring the first one into view with the keyboard on it. */
  function showErrors(form, errors) {
    form.querySelectorAll('.field-error').forEach(function (n) { n.textContent = ''; });
    form.querySelectorAll('.field.invalid').forEach(function (n) {
      n.classList.remove('invalid');
      n.querySelectorAll('[aria-invalid]').forEach(function (i) { i.removeAttribute('aria-invalid'); });
    });
    errors.forEach(function (e) {
      var slot = form.querySelector('.field-error[data-field="' + e.field + '"]');
      if (slot && !slot.textContent) { slot.textContent = e.message; }
      var box = form.querySelector('.field[data-field="' + e.field + '"]');
      if (box) {
        box.classList.add('invalid');
        var input = form.elements[e.field];
        if (input) { input.setAttribute('aria-invalid', 'true'); input.setAttribute('aria-describedby', 'e-' + e.field); }
      }
    });
    form.setAttribute('data-errors', String(errors.length));
    var first = form.querySelector('.field.invalid');
    if (first) {
      first.scrollIntoView({block: 'center'});
      var focus = form.elements[first.getAttribute('data-field')];
      if (focus && focus.focus) { focus.focus({preventScroll: true}); }
    }
  }

  /** Form values as the server receives them (numbers as numbers, empty as null). */
  function readForm(form) {
    var data = {};
    ['surveyed_on', 'survey_status', 'notes'].concat(COUNTS).forEach(function (name) {
      var v = form.elements[name].value;
      data[name] = v === '' ? null : (COUNTS.indexOf(name) >= 0 ? Number(v) : v);
    });
    return data;
  }

  /** The survey form; with `queued`, it corrects that waiting edit instead of adding one. */
  function openSurvey(feature, draft, queued) {
    if (!feature || !FieldMap.rules) { return; }
    var p = Object.assign({}, feature.properties, draft || {});
    // counts are asked again at every visit: the last ones are hints, answers only from a draft
    var number = function (name) {
      var input = el('input', {name: name, id: 'f-' + name, type: 'number', inputmode: 'numeric', min: '0', step: '1',
        value: draft ? draft[name] : null});
      return field(name, input, draft ? null : previous(input, feature.properties[name]));
    };
    var status = el('select', {name: 'survey_status', id: 'f-survey_status'}, FieldMap.rules.fields.survey_status.values.map(function (code) {
      return el('option', {value: code, text: FieldMap.surveyInfo(code).label, selected: p.survey_status === code});
    }));
    var form = el('form', {id: 'survey-form', novalidate: true, 'data-id': feature.id}, [
      el('p', {class: 'meta', text: t('elevator') + ': ' + FieldMap.statusInfo(p.elevator_status).label +
        ' · ' + FieldMap.surveyInfo(p.survey_status).label}),
      field('surveyed_on', el('input', {name: 'surveyed_on', id: 'f-surveyed_on', type: 'date', value: p.last_surveyed_on && draft ? p.last_surveyed_on : FieldRules.today()})),
      field('survey_status', status),
      number('households'), number('elderly_households'), number('consent_agree'), number('consent_object'),
      field('notes', el('textarea', {name: 'notes', id: 'f-notes', rows: '3', text: p.notes || ''})),
      el('div', {class: 'actions sticky'}, [
        el('button', {id: 'survey-save', type: 'submit', class: 'primary', text: t('save')}),
        el('button', {type: 'button', text: t('report'), onclick: function () { openIssue(feature); }})])
    ]);
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      var checked = FieldRules.validate(FieldMap.rules, readForm(form));
      showErrors(form, checked.errors);
      if (checked.errors.length) { return; }
      var v = checked.values;
      var patch = {};
      PATCHED.forEach(function (k) {
        if (!(form.elements[k] && form.elements[k].readOnly)) { patch[k] = k === 'last_surveyed_on' ? v.surveyed_on : v[k]; }
      });  // read-only counts are the register's (households.js): the server keeps them
      if (queued) {
        FieldOutbox.correct(queued, v, patch).then(function (inPlace) {
          FieldMap.closeSheet(); notice(t(inPlace ? 'corrected' : 'corrected_after'));
        });
        return;
      }
      var seen = Object.assign({}, feature.properties);  // the server's, with the edits still waiting
      FieldOutbox.addSurvey(feature.id, FieldMap.name(feature), feature.etag, seen, v, patch)
        .then(function () { FieldMap.closeSheet(); notice(t('saved')); });
    });
    FieldMap.showSheet(t('stairwell') + ' ' + FieldMap.name(feature), [form], 'survey');
    if (global.FieldHouseholds) { FieldHouseholds.attach(feature); }
  }

  /* ---- issues ---- */
  var PHOTO_SIDE = 1600;  // px: the server keeps at most 2048 a side; a phone's photo is larger

  /** A chosen photo made small in the browser before it waits in the outbox (null: none). */
  function shrinkPhoto(file) { return file ? resize(file, PHOTO_SIDE) : Promise.resolve(null); }

  function resize(file, maxSide) {
    return new Promise(function (resolve, reject) {
      var url = URL.createObjectURL(file);
      var img = new Image();
      img.onload = function () {
        var scale = Math.min(1, maxSide / Math.max(img.naturalWidth, img.naturalHeight));
        var canvas = document.createElement('canvas');
        canvas.width = Math.max(1, Math.round(img.naturalWidth * scale));
        canvas.height = Math.max(1, Math.round(img.naturalHeight * scale));
        canvas.getContext('2d').drawImage(img, 0, 0, canvas.width, canvas.height);
        URL.revokeObjectURL(url);
        canvas.toBlob(function (blob) { return blob ? resolve(blob) : reject(new Error('encode')); }, 'image/jpeg', 0.82);
      };
      img.onerror = function () { URL.revokeObjectURL(url); reject(new Error('not an image')); };
      img.src = url;
    });
  }

  var spot = null;
  function setSpot(latlng) {
    if (!spot) { spot = L.marker(latlng).addTo(FieldMap.map); } else { spot.setLatLng(latlng); }
    var form = document.getElementById('issue-form');
    if (form) { form.setAttribute('data-location', latlng.lat.toFixed(6) + ',' + latlng.lng.toFixed(6)); }
  }

  function openIssue(stairwell) {
    var where = null;
    if (stairwell) { var c = stairwell.geometry.coordinates; where = L.latLng(c[1], c[0]); }
    var category = el('select', {name: 'category'}, FieldMap.config.categories.map(function (c) {
      return el('option', {value: c.code, text: c.label});
    }));
    var photo = el('input', {name: 'photo', type: 'file', accept: 'image/*', capture: 'environment'});
    var error = el('p', {class: 'field-error', 'data-field': 'form'});
    var form = el('form', {id: 'issue-form', novalidate: true}, [
      el('label', {class: 'field'}, [el('span', {text: t('category')}), category]),
      el('div', {class: 'actions'}, [
        el('button', {type: 'button', id: 'issue-here', text: '◎ ' + t('use_position'), onclick: function () {
          FieldMap.locate(function () {
            if (!FieldMap.position) { return; }
            if (!FieldMap.preciseEnough()) { error.textContent = FieldMap.coarseText(); return; }
            error.textContent = '';
            where = FieldMap.position; setSpot(where);
          });
        }}),
        el('button', {type: 'button', id: 'issue-tap', text: '☝ ' + t('tap_map'), onclick: function () {
          picking = function (latlng, tapped) { where = latlng; stairwell = tapped || stairwell; setSpot(latlng); };
          document.getElementById('sheet').classList.add('peek');
          notice(t('tap_now'));
        }})]),
      el('label', {class: 'field'}, [el('span', {text: t('note')}), el('textarea', {name: 'note', rows: '3'})]),
      el('label', {class: 'field'}, [el('span', {text: t('photo')}), photo]),
      error,
      el('div', {class: 'actions'}, [el('button', {id: 'issue-save', type: 'submit', class: 'primary', text: t('save')})])
    ]);
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      if (!where) { error.textContent = t('no_location'); return; }
      var file = photo.files && photo.files[0];
      shrinkPhoto(file).then(function (blob) {
        var properties = {category: category.value, note: form.elements.note.value || null, status: 'open'};
        if (stairwell) { properties.stairwell_id = stairwell.id; }
        var feature = {type: 'Feature', geometry: {type: 'Point', coordinates: [where.lng, where.lat]}, properties: properties};
        return FieldOutbox.addIssue(feature, blob).then(function () {
          if (spot) { spot.remove(); spot = null; }
          FieldMap.closeSheet();
          notice(t('issue_sent'));
        });
      }, function (err) { error.textContent = t('photo') + ': ' + err.message; });
    });
    FieldMap.showSheet(t('report'), [form], 'issue');
    if (where) { setSpot(where); }
  }

  /** A tap on the map (or on a stairwell) while an issue waits for its place; false otherwise. */
  function mapClicked(latlng, stairwell) {
    if (!picking) { return false; }
    picking(latlng, stairwell);
    picking = null;
    document.getElementById('sheet').classList.remove('peek');
    return true;
  }

  /* ---- conflicts: both values side by side, the worker picks ---- */
  /** A value as a person reads it: status codes as their labels. */
  function readable(name, v) {
    if (v === null || v === undefined || v === '') { return '–'; }
    if (name === 'survey_status') { return FieldMap.surveyInfo(v).label; }
    if (name === 'elevator_status') { return FieldMap.statusInfo(v).label; }
    return String(v);
  }
  function fieldLabel(name) {
    var labels = FieldMap.config.field_labels || {};
    return labels[name] || (FieldMap.rules && FieldMap.rules.labels[name]) || t('stairwell');
  }
  /** "2026年12月2日 09:12" / "2 Dec 2026, 09:12" in the phone's time zone. */
  function when(iso) {
    var d = new Date(iso);
    if (isNaN(d.getTime())) { return iso; }
    return d.toLocaleString(FieldMap.config.lang === 'zh' ? 'zh-CN' : 'en-GB',
      {year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hour12: false});
  }
  /** Who changed the record and when, one line per edit since the worker's version. */
  function changedLines(op) {
    var changes = op.theirs_changes || [];
    if (!changes.length) { return [el('p', {class: 'changed-by', text: t('changed_unknown')})]; }
    return changes.map(function (c) {
      return el('p', {class: 'changed-by', 'data-at': c.at,
        text: t('changed_by').replace('{who}', c.by || '?').replace('{when}', when(c.at))});
    });
  }

  /** A conflicted survey edit read three ways (FieldOutbox.sideOf; the counts, asked at each
   * visit, as the worker's own): the fields it sends, those the two sides differ on, and for
   * each of these the side that alone changed it (null: both did, differently). */
  function threeWay(op) {
    var mine = op.patch, theirs = op.theirs || {};
    var sent = PATCHED.filter(function (k) {  // never the counts of a register (theirs now, or when saved)
      return Object.prototype.hasOwnProperty.call(mine, k) && !(theirs.has_register && COUNTS.indexOf(k) >= 0);
    });
    var names = sent.filter(function (k) { return !FieldOutbox.sameValue(mine[k], theirs[k]); });
    var alone = {};
    names.forEach(function (k) { alone[k] = FieldOutbox.sideOf(op, k, isCount(k)); });
    return {sent: sent, names: names, alone: alone};
  }
  /** The values a conflicted edit saves: each field the sides differ on as `side(k)` says
   * ('mine', 'theirs', or null: not chosen yet, and nothing is saved), the others the worker's. */
  function chosenValues(op, three, side) {
    var chosen = {};
    var missing = false;
    three.sent.forEach(function (k) {
      var picked = three.names.indexOf(k) < 0 ? 'mine' : side(k);
      if (!picked) { missing = true; return; }
      chosen[k] = picked === 'mine' ? op.patch[k] : (op.theirs || {})[k];
    });
    return missing ? null : chosen;
  }
  var MERGES = 2;  // merges of one edit in a row (a stale read of the server's version) before asking
  /** A 412 on an edit: saved at once when no field was changed by both sides (each takes the
   * change of the side that made it; a household's vote is the one field asked about), else
   * shown to the worker to choose. */
  function conflicted(op) {
    op.merges = (op.merges || 0) + 1;
    var fields = op.kind === 'patch'
      ? op.base_values && FieldOutbox.merged(op, Object.keys(op.patch), ['vote'])
      : FieldOutbox.merged(op, threeWay(op).sent, null, isCount);
    return fields && op.merges <= MERGES ? FieldOutbox.resolve(op, fields) : openConflict(op);
  }
  function isCount(k) { return COUNTS.indexOf(k) >= 0; }

  function openConflict(op) {
    if (op.kind === 'patch' && global.FieldHouseholds) { return FieldHouseholds.openConflict(op); }
    var mine = op.patch, theirs = op.theirs || {};
    var three = threeWay(op);
    var rows = three.names.map(function (k) {
      var preset = three.alone[k];
      var choice = function (side, value) {
        return el('label', {class: 'pick ' + side}, [
          el('input', {type: 'radio', name: 'pick-' + k, value: side, checked: preset === side}),
          el('span', {class: 'who', text: t(side)}), el('span', {class: 'value', text: readable(k, value)})]);
      };
      return el('fieldset', {class: 'conflict-row', 'data-field': k}, [
        el('legend', {text: fieldLabel(k)}), choice('mine', mine[k]), choice('theirs', theirs[k])]);
    });
    var error = el('p', {class: 'field-error'});
    var form = el('form', {id: 'conflict', 'data-id': op.stairwell_id}, changedLines(op)
      .concat([el('p', {text: t('conflict_help')})], rows, [error, el('div', {class: 'actions'}, [
        el('button', {id: 'conflict-save', type: 'submit', class: 'primary', text: t('keep')}),
        el('button', {type: 'button', text: t('discard'), onclick: function () {
          FieldOutbox.discard(op).then(FieldMap.closeSheet);
        }})])]));
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      var chosen = chosenValues(op, three, function (k) {
        var picked = form.querySelector('input[name="pick-' + k + '"]:checked');
        return picked ? picked.value : null;
      });
      if (!chosen) { error.textContent = t('choose_all'); return; }
      FieldOutbox.resolve(op, chosen).then(FieldMap.closeSheet);
    });
    FieldMap.showSheet(t('conflict') + ' · ' + t('stairwell') + ' ' + (op.label || op.stairwell_id), [form], 'conflict');
  }

  /* ---- the outbox: what still waits, and why ---- */
  function openOutbox() {
    FieldOutbox.all().then(function (ops) {
      var items = ops.map(function (op) {
        var what = op.kind === 'survey' ? t('stairwell') + ' ' + (op.label || op.stairwell_id) : (op.kind === 'patch' ? op.label : t('report'));
        var actions = [];
        if (op.state === 'conflict') { actions.push(el('button', {type: 'button', text: t('conflict'), onclick: function () { openConflict(op); }})); }
        if (op.state === 'failed') {
          actions.push(el('button', {type: 'button', text: t('discard'), onclick: function () { FieldOutbox.discard(op).then(openOutbox); }}));
          if (op.kind === 'survey') {
            actions.push(el('button', {type: 'button', text: t('edit'), onclick: function () {
              var f = FieldMap.features[op.stairwell_id];
              if (f) { FieldOutbox.discard(op).then(function () { openSurvey(f, op.patch); }); }
            }}));
          }
        }
        if (FieldOutbox.editable(op)) {
          actions.push(el('button', {type: 'button', class: 'correct', text: t('edit'), onclick: function () {
            var f = FieldMap.features[op.stairwell_id];
            if (f) { openSurvey(f, op.patch, op); }
          }}));
          actions.push(el('button', {type: 'button', class: 'cancel-edit', text: t('cancel_edit'), onclick: function () {
            FieldOutbox.cancel(op).then(function (gone) {
              if (!gone) { notice(t('on_its_way')); }
              openOutbox();
            });
          }}));
        }
        return el('li', {class: 'outbox-item', 'data-state': op.state, 'data-key': op.key, 'data-id': op.stairwell_id || ''}, [
          el('b', {text: what}),
          el('span', {class: 'meta', text: ' · ' + t('state_' + op.state) + (op.error ? ': ' + op.error : '')})].concat(actions));
      });
      var send = el('button', {type: 'button', class: 'primary', text: t('sync'), onclick: function () { FieldOutbox.flush(); }});
      FieldMap.showSheet(t('pending').replace('{n}', ops.length), [el('ul', {id: 'outbox'}, items), send], 'outbox');
    });
  }

  /** The issue form's pin goes with the form (closed without saving). */
  function clearSpot() { if (spot) { spot.remove(); spot = null; } picking = null; }

  global.FieldForms = {clearSpot: clearSpot, openSurvey: openSurvey, openIssue: openIssue, openConflict: openConflict,
                       conflicted: conflicted,
                       openOutbox: openOutbox, mapClicked: mapClicked, notice: notice, resize: resize,
                       shrinkPhoto: shrinkPhoto};
})(window);
