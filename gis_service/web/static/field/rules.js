/* Survey form rules, read from /field/rules: the same rules and messages the server applies
 * (gis_service/field/rules.py); this file only interprets them. */
(function (global) {
  'use strict';

  function say(doc, key, name) {
    var spec = doc.fields[name] || {};
    var values = Object.assign({label: doc.labels[name] || name}, spec);
    if (spec.values) { values.values = spec.values.join(', '); }
    var text = doc.messages[key];
    Object.keys(values).forEach(function (param) {
      text = text.split('{' + param + '}').join(String(values[param]));
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

  /** [value, messageKey|null] of one field, as check_field does on the server. */
  function checkField(doc, name, raw, today) {
    var spec = doc.fields[name];
    if (raw === null || raw === undefined || raw === '') {
      return [null, spec.required ? 'required' : null];
    }
    if (spec.type === 'integer') {
      if (typeof raw !== 'number' || !isFinite(raw) || Math.floor(raw) !== raw) { return [null, 'integer']; }
      if (raw < spec.min) { return [null, 'min']; }
      return raw > spec.max ? [null, 'max'] : [raw, null];
    }
    if (spec.type === 'date') {
      if (typeof raw !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(raw) || isNaN(Date.parse(raw + 'T00:00:00Z')) ||
          new Date(raw + 'T00:00:00Z').toISOString().slice(0, 10) !== raw) { return [null, 'date']; }
      if (raw < spec.min) { return [null, 'date_min']; }
      return daysBetween(today, raw) > spec.days_ahead ? [null, 'date_future'] : [raw, null];
    }
    if (spec.type === 'enum') { return spec.values.indexOf(raw) >= 0 ? [raw, null] : [null, 'enum']; }
    if (typeof raw !== 'string') { return [null, 'string']; }
    return raw.length > spec.max_length ? [null, 'max_length'] : [raw, null];
  }

  /** {values, errors: [{field, message}]} of a form, in the server's order. */
  function validate(doc, data, today) {
    today = today || isoDay(new Date());
    var values = {};
    var errors = [];
    Object.keys(doc.fields).forEach(function (name) {
      var result = checkField(doc, name, data[name], today);
      if (result[1]) { errors.push({field: name, message: say(doc, result[1], name)}); }
      else { values[name] = result[0]; }
    });
    var broken = function (field) { return errors.some(function (e) { return e.field === field; }); };
    doc.checks.forEach(function (check) {
      var names = check.sum.concat([check.at_most]);
      if (names.some(function (n) { return values[n] === null || values[n] === undefined; }) ||
          broken(check.field)) { return; }
      var total = check.sum.reduce(function (acc, n) { return acc + values[n]; }, 0);
      if (total > values[check.at_most]) { errors.push({field: check.field, message: say(doc, check.message, '')}); }
    });
    return {values: values, errors: errors};
  }

  global.FieldRules = {validate: validate, today: function () { return isoDay(new Date()); }};
})(window);
