/* Row rules, read from /field/rules: the document gis_service/rows/rules.py builds from the model
 * and the catalog, applied as gis_service/rows/check.py applies it (read_json, limit_broken,
 * check_row), with the same messages. This file only interprets the document. */
(function (global) {
  'use strict';

  function shown(value) {
    return Array.isArray(value) ? value.join(', ') : String(value);
  }

  function say(doc, key, name) {
    var spec = doc.fields[name] || {};
    var values = Object.assign({}, spec, {label: doc.labels[name] || name});
    var text = doc.messages[key];
    Object.keys(values).forEach(function (param) {
      text = text.split('{' + param + '}').join(shown(values[param]));
    });
    return text;
  }

  function isoDay(date) {
    var pad = function (n) { return (n < 10 ? '0' : '') + n; };
    return date.getFullYear() + '-' + pad(date.getMonth() + 1) + '-' + pad(date.getDate());
  }

  function daysBetween(a, b) {  // b - a in whole days, both YYYY-MM-DD
    return Math.round((Date.parse(b + 'T00:00:00Z') - Date.parse(a + 'T00:00:00Z')) / 86400000);
  }

  function isDay(raw) {
    return /^\d{4}-\d{2}-\d{2}$/.test(raw) && !isNaN(Date.parse(raw + 'T00:00:00Z')) &&
      new Date(raw + 'T00:00:00Z').toISOString().slice(0, 10) === raw;
  }

  /** [value, messageKey|null] of a JSON value in the field's type, as read_json does. */
  function read(spec, raw) {
    var kind = spec.type;
    if (raw === null || raw === undefined) { return [null, null]; }
    if (kind === 'integer' || kind === 'number') {
      if (typeof raw !== 'number' || !isFinite(raw)) { return [null, kind]; }
      return kind === 'integer' && Math.floor(raw) !== raw ? [null, kind] : [raw, null];
    }
    if (kind === 'boolean') { return typeof raw === 'boolean' ? [raw, null] : [null, 'boolean']; }
    if (typeof raw !== 'string') { return [null, kind === 'date' || kind === 'datetime' ? kind : 'string']; }
    if (raw.indexOf('\u0000') >= 0) { return [null, 'nul']; }
    if (kind === 'date') { return isDay(raw) ? [raw, null] : [null, 'date']; }
    if (kind === 'datetime') { return isNaN(Date.parse(raw)) ? [null, 'datetime'] : [raw, null]; }
    return [raw, null];
  }

  /** The message key of the first limit a value breaks, as limit_broken does. */
  function limitBroken(spec, value, today) {
    var kind = spec.type;
    if (kind === 'integer' || kind === 'number') {
      if (spec.min !== undefined && value < spec.min) { return 'min'; }
      if (spec.above !== undefined && value <= spec.above) { return 'above'; }
      return spec.max !== undefined && value > spec.max ? 'max' : null;
    }
    if (kind === 'string') {
      if (spec.values && spec.values.indexOf(value) < 0) { return 'enum'; }
      return spec.max_length !== undefined && value.length > spec.max_length ? 'max_length' : null;
    }
    if (kind === 'date') {
      if (spec.min !== undefined && value < spec.min) { return 'date_min'; }
      var ahead = spec.days_ahead;
      return ahead !== undefined && ahead !== null && daysBetween(today, value) > ahead ? 'date_future' : null;
    }
    return null;
  }

  function fieldBroken(spec, raw, today) {
    var got = read(spec, raw);
    var key = got[1];
    if (!key && got[0] === null) {
      key = spec.required || spec.nullable === false ? 'required' : null;
    } else if (!key) {
      key = limitBroken(spec, got[0], today);
    }
    return key ? [null, key] : [got[0], null];
  }

  function ruleBroken(rule, row) {
    var value = function (name) { return row[name] === undefined ? null : row[name]; };
    if (rule.kind === 'set_when') {
      return (value(rule.other) === rule.value) !== (value(rule.fields[0]) !== null);
    }
    var names = rule.fields.concat([rule.other]);
    if (names.some(function (n) { return value(n) === null; })) { return false; }
    var total = rule.fields.reduce(function (acc, n) { return acc + row[n]; }, 0);
    return total > row[rule.other];
  }

  /** {values, errors: [{field, message}]} of a form, in the server's order (check_row). */
  function validate(doc, data, today) {
    today = today || isoDay(new Date());
    var values = {};
    var errors = [];
    Object.keys(doc.fields).forEach(function (name) {
      var raw = data[name] === '' ? null : data[name];
      var got = fieldBroken(doc.fields[name], raw, today);
      if (got[1]) { errors.push({field: name, message: say(doc, got[1], name)}); }
      else { values[name] = got[0]; }
    });
    var failed = errors.map(function (e) { return e.field; });
    var row = {};
    Object.keys(doc.fields).forEach(function (name) {
      if (doc.fields[name]['default'] !== undefined) { row[name] = doc.fields[name]['default']; }
    });
    Object.assign(row, values);
    doc.checks.forEach(function (rule) {
      var names = rule.fields.concat([rule.other]);
      if (names.some(function (n) { return failed.indexOf(n) >= 0; }) || !ruleBroken(rule, row)) { return; }
      var message = say(doc, rule.message, rule.fields[0]);
      rule.fields.forEach(function (name) { errors.push({field: name, message: message}); });
    });
    return {values: values, errors: errors};
  }

  /** A refusal's messages in the page's language: a rule it names (`constraint`) with a message
   * in the document is said so (the API writes English), any other as the server wrote it. */
  function refused(doc, errors) {
    return (errors || []).map(function (e) {
      var known = doc && e.constraint && doc.messages[e.constraint];
      return known ? say(doc, e.constraint, e.field) : e.message;
    });
  }

  global.FieldRules = {validate: validate, refused: refused, today: function () { return isoDay(new Date()); }};
})(window);
