/* The start, my-tokens and user-administration pages: sign-out, our API with the CSRF header,
 * and the my-tokens list. Every text from data goes in with textContent, never as HTML. */
(function (global) {
  'use strict';

  var data = JSON.parse(document.getElementById('gis-page-data').textContent);
  var Accounts = {data: data};

  Accounts.t = function (key) { return data.strings[key] || key; };

  /** An element with attributes and children; strings become text nodes. */
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      var value = attrs[key];
      if (value === null || value === undefined || value === false) { return; }
      if (key === 'text') { node.textContent = String(value); }
      else if (key === 'class') { node.className = value; }
      else if (key.slice(0, 2) === 'on') { node.addEventListener(key.slice(2), value); }
      else { node.setAttribute(key, value === true ? '' : String(value)); }
    });
    (children || []).forEach(function (child) {
      if (child === null || child === undefined) { return; }
      node.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)));
    });
    return node;
  }
  Accounts.el = el;

  function cookie(name) {
    var found = document.cookie.split('; ').filter(function (c) { return c.indexOf(name + '=') === 0; })[0];
    return found ? decodeURIComponent(found.slice(name.length + 1)) : '';
  }

  /** JSON from our API with the session cookie (and the CSRF header for writes). */
  Accounts.api = function (method, url, body) {
    var headers = {Accept: 'application/json'};
    if (method !== 'GET') { headers['X-CSRF-Token'] = cookie('gis_csrf'); }
    if (body !== undefined) { headers['Content-Type'] = 'application/json'; }
    return fetch(url, {method: method, headers: headers, credentials: 'same-origin',
                       body: body === undefined ? undefined : JSON.stringify(body)})
      .then(function (response) {
        if (response.status === 401) { Accounts.signIn(); }
        if (response.status === 204) { return null; }
        return response.json().catch(function () { return {}; }).then(function (answer) {
          if (!response.ok) {
            var fields = (answer.errors || []).map(function (e) { return e.message; }).join('; ');
            throw new Error(Accounts.t('failed') + ' (' + response.status + ')' + (fields ? ': ' + fields : ''));
          }
          return answer;
        });
      });
  };

  Accounts.signIn = function () {
    var here = global.location.pathname + global.location.search;
    global.location.assign('/login?lang=' + data.lang + '&next=' + encodeURIComponent(here));
  };

  Accounts.date = function (iso) {
    if (!iso) { return ''; }
    return new Date(iso).toLocaleString(data.lang === 'zh' ? 'zh-CN' : 'en-GB',
                                        {dateStyle: 'medium', timeStyle: 'short'});
  };

  Accounts.message = function (box, text, bad) {
    box.textContent = text;
    box.className = bad ? 'error' : 'message';
  };

  var out = document.getElementById('sign-out');
  if (out) {
    out.addEventListener('click', function () {
      Accounts.api('POST', '/session/logout').then(function () {
        global.location.assign('/?lang=' + data.lang);
      });
    });
  }

  /* ---- my tokens ---- */
  function tokensPage(root) {
    var t = Accounts.t;
    var label = el('input', {name: 'label', maxlength: 100, placeholder: t('token_label_hint')});
    var days = el('input', {name: 'expires_days', type: 'number', min: 1, max: 3650, step: 1});
    var status = el('p', {class: 'message', role: 'status'});
    var secret = el('div', {id: 'new-token'});
    var table = el('table', {id: 'token-list'});
    var form = el('form', {class: 'inline', onsubmit: function (ev) {
      ev.preventDefault();
      var body = {label: label.value};
      if (days.value) { body.expires_days = Number(days.value); }
      Accounts.api('POST', '/account/tokens', body).then(function (made) {
        label.value = ''; days.value = '';
        secret.textContent = '';
        secret.appendChild(el('div', {class: 'secret', role: 'alert'}, [
          t('token_once'), el('code', {text: made.token}),
          el('button', {type: 'button', class: 'secondary', text: t('copy'), onclick: function () {
            if (navigator.clipboard) { navigator.clipboard.writeText(made.token); }
          }})]));
        refresh();
      }).catch(function (error) { Accounts.message(status, error.message, true); });
    }}, [el('label', {}, [t('token_label'), label]), el('label', {}, [t('expires_days'), days]),
         el('button', {type: 'submit', text: t('create_token')})]);

    function refresh() {
      Accounts.api('GET', '/account/tokens').then(function (tokens) {
        table.textContent = '';
        table.appendChild(el('tr', {}, ['id', 'label', 'created', 'expires', 'last_used', 'actions']
          .map(function (k) { return el('th', {text: t(k)}); })));
        if (!tokens.length) { table.appendChild(el('tr', {}, [el('td', {colspan: 6, text: t('no_tokens')})])); }
        tokens.slice().reverse().forEach(function (token) {
          var action = token.revoked_at ? t('revoked') : el('button', {
            type: 'button', class: 'danger', text: t('revoke'), 'data-token': token.id,
            onclick: function () {
              if (!global.confirm(t('confirm_revoke'))) { return; }
              Accounts.api('DELETE', '/account/tokens/' + token.id).then(refresh)
                .catch(function (error) { Accounts.message(status, error.message, true); });
            }});
          table.appendChild(el('tr', {'data-token-row': token.id}, [
            el('td', {text: token.id}), el('td', {text: token.label || ''}),
            el('td', {text: Accounts.date(token.created_at)}),
            el('td', {text: token.expires_at ? Accounts.date(token.expires_at) : t('no_expiry')}),
            el('td', {text: token.last_used_at ? Accounts.date(token.last_used_at) : t('never')}),
            el('td', {}, [action])]));
        });
        document.documentElement.setAttribute('data-tokens-ready', String(tokens.length));
      }).catch(function (error) { Accounts.message(status, error.message, true); });
    }
    [form, status, secret, table].forEach(function (node) { root.appendChild(node); });
    refresh();
  }

  var tokens = document.getElementById('tokens');
  if (tokens) { tokensPage(tokens); }
  global.Accounts = Accounts;
})(window);
