// Frontline Voices form: inline validation, a draft kept in this tab, and
// sending with fetch. Without this script the form still works in full.
(function () {
  'use strict';
  var form = document.getElementById('story-form');
  if (!form) return;
  var summary = document.getElementById('error-summary');
  var status = document.getElementById('send-status');
  var button = document.getElementById('send');
  var storyBox = document.getElementById('story');
  var count = document.getElementById('story-count');
  var warning = document.getElementById('safeguard-warning');
  var draftKey = 'frontline-voices-draft';
  var confirmedSafeguarding = false;
  function safeguardingConfirmed() {
    return confirmedSafeguarding || !!form.querySelector('input[name=safeguardingConfirmed]:checked');
  }

  // --- conditional fields ---------------------------------------------------
  function updateConditionals() {
    form.querySelectorAll('[data-show-when]').forEach(function (el) {
      var rule = el.getAttribute('data-show-when').split('=');
      var on = Array.prototype.some.call(form.elements[rule[0]] ? form.querySelectorAll('[name="' + rule[0] + '"]') : [], function (input) {
        if (input.tagName === 'SELECT') return input.value === rule[1];
        return input.checked && input.value === rule[1];
      });
      el.hidden = !on && !el.classList.contains('has-error');
    });
  }

  // --- draft in sessionStorage (survives a reload, not the tab) -------------
  function saveDraft() {
    try {
      var data = {};
      new FormData(form).forEach(function (v, k) {
        if (k === 'website' || k === 'cf-turnstile-response') return;
        (data[k] = data[k] || []).push(v);
      });
      sessionStorage.setItem(draftKey, JSON.stringify(data));
    } catch (e) { /* storage full or disabled: the form still works */ }
  }
  function restoreDraft() {
    var raw;
    try { raw = sessionStorage.getItem(draftKey); } catch (e) { return; }
    if (!raw || form.querySelector('.has-error')) return; // a server re-render already holds the answers
    var data;
    try { data = JSON.parse(raw); } catch (e) { return; }
    Object.keys(data).forEach(function (name) {
      if (name === 'consentVersion') return;
      var values = data[name];
      form.querySelectorAll('[name="' + CSS.escape(name) + '"]').forEach(function (el) {
        if (el.type === 'checkbox' || el.type === 'radio') el.checked = values.indexOf(el.value) >= 0;
        // The id and its start token go together: a reload keeps both.
        else if (el.type !== 'hidden' || name === 'id' || name === 'started') el.value = values[0];
      });
    });
    form.querySelectorAll('details.contact').forEach(function (d) {
      if (Array.prototype.some.call(d.querySelectorAll('input,textarea'), function (i) { return i.value; })) d.open = true;
    });
  }

  // --- validation -----------------------------------------------------------
  var rules = {
    name: function (v) { return v.length < 2 ? 'Enter your full name' : ''; },
    role: function (v) { return v ? '' : 'Choose your role'; },
    roleOther: function (v) { return form.role.value === 'other' && v.length < 2 ? 'Tell us your role' : ''; },
    practice: function (v) { return v.length < 2 ? 'Enter the name of your practice' : ''; },
    borough: function (v) { return v ? '' : 'Choose the borough your practice is in'; },
    email: function (v) {
      if (!v) return 'Enter your email address';
      return /^[^\s@]+@[^\s@]+\.[^\s@.]+$/.test(v) ? '' : 'Enter an email address like name@example.org';
    },
    phone: function (v) {
      if (!v) return checked('preferredContact', 'phone') ? 'Enter a phone number, or choose email as the way to contact you' : '';
      if (!/^\+?[0-9 ()\-]+$/.test(v)) return 'Enter a phone number using only digits, spaces and a leading +, like 020 7946 0000';
      var n = v.replace(/\D/g, '').length;
      return n < 10 || n > 15 ? 'Enter a phone number with 10 to 15 digits, like 07700 900000' : '';
    },
    story: function (v) {
      var n = Array.from(v.trim()).length;
      if (!n) return 'Tell us your story';
      if (n < 20) return 'Tell us a little more: your story must be at least 20 characters';
      if (n > 5000) return 'Your story must be 5000 characters or fewer: it is ' + n + ' now';
      return '';
    }
  };
  function checked(name, value) {
    return Array.prototype.some.call(form.querySelectorAll('[name="' + name + '"]'), function (i) {
      return i.checked && (value === undefined || i.value === value);
    });
  }
  function groupErrors() {
    var errs = [];
    if (!checked('preferredContact')) errs.push({ field: 'preferredContact', message: 'Choose how you would like us to contact you' });
    if (!checked('topics')) errs.push({ field: 'topics', message: 'Choose at least one topic your story is about' });
    if (checked('topics', 'other') && form.topicOther.value.trim().length < 2) errs.push({ field: 'topicOther', message: 'Tell us what the other topic is' });
    if (!checked('patientsWouldSpeak')) errs.push({ field: 'patientsWouldSpeak', message: 'Tell us whether patients might speak about this too' });
    form.querySelectorAll('input[type=checkbox][required]').forEach(function (c) {
      if (!c.checked) errs.push({ field: c.id, message: 'Agree to this so we can use your story' });
    });
    return errs;
  }
  function fieldContainer(field) {
    var el = document.getElementById(field);
    if (!el) return null;
    return el.classList.contains('field') ? el : el.closest('.field');
  }
  function showError(field, message) {
    var box = fieldContainer(field);
    if (!box) return;
    var p = box.querySelector(':scope > .error-message, :scope > fieldset > .error-message');
    if (!message) {
      box.classList.remove('has-error');
      if (p) p.remove();
      return;
    }
    box.classList.add('has-error');
    if (!p) {
      p = document.createElement('p');
      p.className = 'error-message';
      var anchor = box.querySelector('input:not([type=checkbox]):not([type=radio]),select,textarea,.choices,.choice');
      var parent = anchor ? anchor.parentNode : box;
      parent.insertBefore(p, anchor && anchor.parentNode === parent ? anchor : parent.firstChild);
    }
    p.textContent = message;
  }
  function validateField(name) {
    if (!rules[name] || !form.elements[name]) return '';
    var msg = rules[name](form.elements[name].value.trim());
    showError(name, msg);
    return msg;
  }
  function showSummary(errs, notice) {
    var list = summary.querySelector('ul');
    list.textContent = '';
    var old = summary.querySelector('.notice');
    if (old) old.remove();
    if (notice) {
      var p = document.createElement('p');
      p.className = 'notice';
      p.textContent = notice;
      summary.insertBefore(p, list);
    }
    errs.forEach(function (e) {
      var li = document.createElement('li');
      var a = document.createElement('a');
      a.href = '#' + e.field;
      a.textContent = e.message;
      li.appendChild(a);
      list.appendChild(li);
    });
    summary.hidden = errs.length === 0 && !notice;
    if (!summary.hidden) summary.focus();
  }
  function clearErrors() {
    form.querySelectorAll('.has-error').forEach(function (el) {
      el.classList.remove('has-error');
      var p = el.querySelector('.error-message');
      if (p) p.remove();
    });
  }

  // --- safeguarding ---------------------------------------------------------
  function safeguardFindings() {
    if (!window.FrontlineSafeguard) return [];
    return window.FrontlineSafeguard.scan(storyBox.value + '\n' + form.patientsNote.value);
  }
  function showSafeguard(findings) {
    if (!findings.length || safeguardingConfirmed()) { warning.hidden = true; return false; }
    var kinds = [];
    findings.forEach(function (f) { if (kinds.indexOf(f.label) < 0) kinds.push(f.label); });
    warning.textContent = '';
    var p = document.createElement('p');
    p.textContent = 'Your story seems to contain ' + kinds.join(', ') + '. Please remove anything that could identify a patient. If you have checked and it is fine, you can send it as it is.';
    var b = document.createElement('button');
    b.type = 'button';
    b.className = 'button secondary';
    b.id = 'safeguard-confirm';
    b.textContent = 'I have checked: send it as it is';
    b.addEventListener('click', function () { confirmedSafeguarding = true; warning.hidden = true; send(); });
    warning.appendChild(p);
    warning.appendChild(b);
    warning.hidden = false;
    return true;
  }

  function updateCount() {
    var n = Array.from(storyBox.value).length;
    count.textContent = n + ' of 5,000 characters' + (n < 20 ? ' (at least 20)' : '');
    count.classList.toggle('over', n > 5000);
  }

  // --- sending --------------------------------------------------------------
  function payload() {
    var fd = new FormData(form);
    var body = { topics: fd.getAll('topics'), activities: fd.getAll('activities'), consent: {}, mpContacts: [] };
    ['id', 'started', 'website', 'consentVersion', 'name', 'role', 'roleOther', 'practice', 'borough', 'email', 'phone',
      'preferredContact', 'topicOther', 'story', 'patientsWouldSpeak', 'patientsNote'].forEach(function (k) {
      body[k] = fd.get(k) || '';
    });
    form.querySelectorAll('input[type=checkbox][name^="consent."]').forEach(function (c) {
      body.consent[c.name.slice(8)] = c.checked;
    });
    // People ticked on the list: their id, when and what (the server fills in who they are).
    fd.getAll('mp.person').forEach(function (id) {
      var p = 'mp.person.' + id + '.';
      body.mpContacts.push({ person: id, when: fd.get(p + 'when') || '', what: fd.get(p + 'what') || '' });
    });
    for (var i = 0; i < 5; i++) {
      var c = {};
      ['name', 'constituency', 'party', 'when', 'what'].forEach(function (f) { c[f] = fd.get('mp.' + i + '.' + f) || ''; });
      body.mpContacts.push(c);
    }
    body.turnstile = fd.get('cf-turnstile-response') || '';
    body.safeguardingConfirmed = safeguardingConfirmed();
    body.personalEmailOnly = !!fd.get('personalEmailOnly');
    return body;
  }
  function send() {
    button.disabled = true;
    status.textContent = 'Sending your story…';
    fetch(form.action, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Accept': 'application/json' },
      body: JSON.stringify(payload()),
      credentials: 'same-origin'
    }).then(function (res) {
      return res.json().catch(function () { return {}; }).then(function (body) { return { res: res, body: body }; });
    }).then(function (r) {
      if (r.res.status === 201) {
        try { sessionStorage.removeItem(draftKey); } catch (e) { /* ignore */ }
        status.textContent = 'Sent.';
        window.location.assign(r.body.next || '/thanks');
        return;
      }
      button.disabled = false;
      status.textContent = '';
      if (r.res.status === 422 && r.body.errors) {
        clearErrors();
        r.body.errors.forEach(function (e) { showError(e.field, e.message); });
        if (r.body.started) form.started.value = r.body.started;
        if (r.body.id) form.id.value = r.body.id;
        if (window.turnstile) window.turnstile.reset();
        if (r.body.consentVersion) form.consentVersion.value = r.body.consentVersion;
        showSummary(r.body.errors, r.body.detail);
        return;
      }
      showSummary([], (r.body.detail || r.body.title || 'Your story could not be sent.') + ' Your answers are still here.');
    }).catch(function () {
      button.disabled = false;
      status.textContent = '';
      showSummary([], 'Your story could not be sent: check your connection and press Send my story again. Your answers are still here.');
    });
  }

  form.addEventListener('submit', function (ev) {
    ev.preventDefault();
    clearErrors();
    var errs = [];
    Object.keys(rules).forEach(function (name) {
      var msg = validateField(name);
      if (msg) errs.push({ field: name, message: msg });
    });
    groupErrors().forEach(function (e) { showError(e.field, e.message); errs.push(e); });
    if (errs.length) { showSummary(errs); return; }
    summary.hidden = true;
    if (showSafeguard(safeguardFindings())) { warning.scrollIntoView({ block: 'center' }); return; }
    send();
  });
  form.addEventListener('input', function (ev) {
    if (ev.target === storyBox) updateCount();
    saveDraft();
  });
  form.addEventListener('change', function () { updateConditionals(); saveDraft(); });
  form.addEventListener('focusout', function (ev) {
    if (ev.target.name && rules[ev.target.name] && ev.target.value) validateField(ev.target.name);
  });

  // --- the MPs and candidates of the chosen borough ----------------------------
  // Without this script a button reloads the form with the list; with it,
  // the list follows the borough as it is chosen.
  var people = document.getElementById('mp-people');
  var showPeople = document.getElementById('show-people');
  if (showPeople) showPeople.parentNode.hidden = true;
  function shownBorough() {
    var s = document.getElementById('mp-list-status');
    return s ? s.getAttribute('data-borough') || '' : '';
  }
  function loadPeople(then) {
    var borough = form.borough.value;
    if (!people || borough === shownBorough()) { if (then) then(); return; }
    fetch('/candidates?borough=' + encodeURIComponent(borough), { credentials: 'same-origin' })
      .then(function (res) { if (!res.ok) throw new Error(res.status); return res.text(); })
      .then(function (html) {
        if (form.borough.value !== borough) return; // a later choice wins
        people.innerHTML = html;
        if (then) then();
      })
      .catch(function () { if (showPeople) showPeople.parentNode.hidden = false; });
  }
  form.borough.addEventListener('change', function () { loadPeople(); });

  restoreDraft();
  if (form.borough.value && form.borough.value !== shownBorough()) loadPeople(restoreDraft);
  updateConditionals();
  updateCount();
})();
