// Frontline Voices form: the server checks every step and the form works in
// full without this script. It adds: the error summary takes the focus, a
// character count announced once typing pauses, a draft kept in this tab,
// the patient-safety check before the story step is sent, and no double
// sending.
(function () {
  'use strict';
  var form = document.getElementById('story-form');
  if (!form) return;
  var summary = document.getElementById('error-summary');
  var draftKey = 'frontline-voices-draft';

  // The error summary: focused on arrival; its links focus the control.
  if (summary) {
    summary.focus();
    summary.addEventListener('click', function (ev) {
      var a = ev.target.closest('a');
      if (!a) return;
      var el = document.getElementById(a.getAttribute('href').slice(1));
      if (!el) return;
      ev.preventDefault();
      var legend = el.closest('fieldset') && el.closest('fieldset').querySelector('legend');
      (legend || el).scrollIntoView();
      el.focus({ preventScroll: true });
      // The Enter that followed the link must not reach the field: in a
      // text field it would send the form.
      var guard = function (e) { if (e.key === 'Enter') e.preventDefault(); };
      el.addEventListener('keypress', guard, { once: true });
      setTimeout(function () { el.removeEventListener('keypress', guard); }, 500);
    });
  }

  // Character count: shown at once, announced 1 s after typing stops. Its
  // limits (maxlength, data-min) and wording (the count's data-short,
  // data-left, data-over; {n} is a number) are the page's, written from the
  // question's definition: nothing is copied here.
  var story = document.getElementById('story');
  var count = document.getElementById('story-count');
  var live = document.getElementById('story-count-live');
  var max = story ? Number(story.getAttribute('maxlength')) : 0;
  var min = story ? Number(story.getAttribute('data-min')) : 0;
  var timer = null;
  function say(kind, n) {
    return count.getAttribute('data-' + kind).replace('{n}', n.toLocaleString('en-GB'));
  }
  function countText() {
    var n = Array.from(story.value).length;
    if (n < min) return say('short', n);
    return n <= max ? say('left', max - n) : say('over', n - max);
  }
  function updateCount(announce) {
    if (!story) return;
    var text = countText();
    count.textContent = text;
    count.classList.toggle('over', Array.from(story.value).length > max);
    clearTimeout(timer);
    if (announce) timer = setTimeout(function () { live.textContent = text; }, 1000);
  }

  // A draft of this step's answers survives a reload (not the tab).
  function saveDraft() {
    try {
      var data = {};
      form.querySelectorAll('input,select,textarea').forEach(function (el) {
        if (!el.name || el.type === 'hidden' || el.name === 'website' || el.name === 'cf-turnstile-response') return;
        if ((el.type === 'checkbox' || el.type === 'radio') && !el.checked) return;
        (data[el.name] = data[el.name] || []).push(el.value);
      });
      sessionStorage.setItem(draftKey + '-' + form.dataset.step, JSON.stringify(data));
    } catch (e) { /* storage full or disabled: the form still works */ }
  }
  function restoreDraft() {
    var data;
    try { data = JSON.parse(sessionStorage.getItem(draftKey + '-' + form.dataset.step) || 'null'); } catch (e) { return; }
    if (!data || summary) return; // a page with errors already holds the answers
    form.querySelectorAll('input,select,textarea').forEach(function (el) {
      if (!el.name || el.type === 'hidden' || !(el.name in data)) return;
      var values = data[el.name];
      if (el.type === 'checkbox' || el.type === 'radio') el.checked = values.indexOf(el.value) >= 0;
      else if (!el.value) el.value = values[0];
    });
  }

  // Patient safety: warn before the story step is sent.
  var warning = document.getElementById('safeguard-warning');
  var confirmed = false;
  function safeguard() {
    if (!warning || confirmed || !window.FrontlineSafeguard || form.querySelector('[name=safeguardingConfirmed]:checked')) return false;
    var note = form.elements.patientsNote;
    var findings = window.FrontlineSafeguard.scan(story.value + '\n' + (note ? note.value : ''));
    if (!findings.length) return false;
    var kinds = [];
    findings.forEach(function (f) { if (kinds.indexOf(f.label) < 0) kinds.push(f.label); });
    warning.textContent = '';
    var p = document.createElement('p');
    p.textContent = 'Your story seems to contain ' + kinds.join(', ') + '. Please remove anything that could identify a patient. If you have checked and it is fine, you can send it as it is.';
    var b = document.createElement('button');
    b.type = 'button';
    b.className = 'button secondary';
    b.id = 'safeguard-confirm';
    b.textContent = 'I have checked: continue';
    b.addEventListener('click', function () {
      confirmed = true;
      var h = document.createElement('input');
      h.type = 'hidden';
      h.name = 'safeguardingConfirmed';
      h.value = 'yes';
      form.appendChild(h);
      form.requestSubmit(document.getElementById('continue'));
    });
    warning.appendChild(p);
    warning.appendChild(b);
    warning.hidden = false;
    b.focus();
    return true;
  }

  var sending = false;
  form.addEventListener('submit', function (ev) {
    if (sending) { ev.preventDefault(); return; }
    var goingBack = ev.submitter && ev.submitter.name === 'goto';
    if (!goingBack && safeguard()) { ev.preventDefault(); return; }
    saveDraft();
    sending = true;
    if (form.dataset.step === 'check' && !goingBack) {
      try { ['about', 'story', 'check'].forEach(function (s) { sessionStorage.removeItem(draftKey + '-' + s); }); } catch (e) { /* ignore */ }
    }
  });
  form.addEventListener('input', function (ev) {
    if (ev.target === story) updateCount(true);
    saveDraft();
  });
  form.addEventListener('change', saveDraft);
  window.addEventListener('pageshow', function () { sending = false; });

  restoreDraft();
  updateCount(false);
})();
