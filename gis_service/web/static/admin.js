/* User administration: role, grids, password reset, disable/enable, revoking tokens.
 * Every change is one call to /admin/...; the audit trail records who made it. */
(function (global) {
  'use strict';

  var A = global.Accounts;
  var t = A.t;
  var el = A.el;
  var root = document.getElementById('users');
  var status = el('p', {class: 'message', role: 'status', id: 'admin-status'});
  var table = el('table', {id: 'user-list'});
  root.appendChild(status);
  root.appendChild(table);

  function done(text) {
    return function () { A.message(status, text); refresh(); };
  }
  function failed(error) { A.message(status, error.message, true); }

  function parseGrids(text) {
    var parts = text.split(/[,,\s]+/).filter(Boolean);
    var ids = parts.map(Number);
    if (ids.some(function (n) { return !Number.isInteger(n) || n < 1; })) { return null; }
    return ids;
  }

  function row(user) {
    var path = '/admin/users/' + encodeURIComponent(user.username);
    var role = el('select', {'aria-label': t('role') + ' ' + user.username, name: 'role'},
      Object.keys(A.data.roles).map(function (code) {
        return el('option', {value: code, selected: code === user.role, text: A.data.roles[code]});
      }));
    var grids = el('input', {name: 'grids', value: user.grids.join(', '), size: 10,
                             'aria-label': t('grids') + ' ' + user.username, placeholder: t('grids_hint')});
    var save = el('button', {type: 'button', class: 'secondary', text: t('save'), onclick: function () {
      var ids = parseGrids(grids.value);
      if (ids === null) { A.message(status, t('grids_hint'), true); return; }
      A.api('PATCH', path, {role: role.value, grids: ids}).then(done(t('saved') + ': ' + user.username))
        .catch(failed);
    }});
    var toggle = el('button', {type: 'button', class: user.disabled ? 'secondary' : 'danger',
      text: user.disabled ? t('enable') : t('disable'), 'data-action': user.disabled ? 'enable' : 'disable',
      onclick: function () {
        A.api('PATCH', path, {disabled: !user.disabled})
          .then(done((user.disabled ? t('enable') : t('disable')) + ': ' + user.username)).catch(failed);
      }});
    var password = el('input', {type: 'password', name: 'new-password', autocomplete: 'new-password',
                                minlength: 10, placeholder: t('new_password'),
                                'aria-label': t('new_password') + ' ' + user.username});
    var reset = el('button', {type: 'button', class: 'secondary', text: t('reset_password'),
      onclick: function () {
        A.api('PUT', path + '/password', {password: password.value})
          .then(function () { password.value = ''; done(t('password_reset') + ': ' + user.username)(); })
          .catch(failed);
      }});
    var revoke = el('button', {type: 'button', class: 'danger', text: t('revoke_tokens'),
      disabled: !user.tokens, onclick: function () {
        if (!global.confirm(t('confirm_revoke'))) { return; }
        A.api('DELETE', path + '/tokens').then(done(t('revoked') + ': ' + user.username)).catch(failed);
      }});
    return el('tr', {'data-user': user.username}, [
      el('td', {}, [el('strong', {text: user.username}), user.display_name !== user.username ?
        el('div', {text: user.display_name}) : null]),
      el('td', {}, [el('div', {class: 'cell-form'}, [role, grids, save])]),
      el('td', {}, [el('span', {class: user.disabled ? 'state-disabled' : '', 'data-state': user.disabled ? 'disabled' : 'active',
                                text: user.disabled ? t('disabled') : t('active')}), ' ', toggle]),
      el('td', {}, [el('span', {'data-tokens': user.tokens, text: String(user.tokens)}), ' ', revoke]),
      el('td', {}, [el('div', {class: 'cell-form'}, [password, reset])])]);
  }

  function refresh() {
    A.api('GET', '/admin/users').then(function (answer) {
      table.textContent = '';
      table.appendChild(el('tr', {}, ['user', 'role', 'state', 'tokens', 'reset_password']
        .map(function (k) { return el('th', {text: t(k)}); })));
      answer.users.forEach(function (user) { table.appendChild(row(user)); });
      document.documentElement.setAttribute('data-users-ready', String(Date.now()));
    }).catch(failed);
  }
  refresh();
})(window);
