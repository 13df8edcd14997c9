// Frontline Voices: the list of a story's clips on the thank-you page, and
// what the check on arrival said about each (GET /api/clips).
(function () {
  'use strict';
  var uploader = document.getElementById('uploader');
  // If the uploader's script did not load or failed, say so (without
  // JavaScript at all, the page's noscript says it).
  window.addEventListener('load', function () {
    var fallback = document.getElementById('uploader-fallback');
    if (fallback && !window.frontlineUppy) fallback.hidden = false;
  });
  var box = document.getElementById('clips');
  var list = document.getElementById('clip-list');
  if (!uploader || !box || !list) return;
  var endpoint = (uploader.dataset.endpoint || '/api').replace(/\/+$/, '') + '/clips';
  var names = {}; // key → the file's name, known only in this tab
  var files = {}; // key → the Uppy file it came from, in this tab
  var verdicts = {}; // Uppy file id → {text, ok}: what its row says
  var timer = null;
  var tries = 0;

  function size(n) {
    if (n >= 1024 * 1024) return (n / 1024 / 1024).toFixed(1).replace(/\.0$/, '') + ' MB';
    return Math.max(1, Math.round(n / 1024)) + ' KB';
  }
  function length(s) {
    s = Math.round(s);
    var m = Math.floor(s / 60);
    s = s % 60;
    return m + ':' + (s < 10 ? '0' : '') + s;
  }
  var uppy = window.frontlineUppy;
  var settled = [];
  function status(text) {
    var el = document.getElementById('uploader-status');
    if (el) el.textContent = text;
  }
  // mark writes each verdict into its file's row (once; a redraw that
  // dropped it gets it back).
  function mark() {
    Object.keys(verdicts).forEach(function (id) {
      var row = document.getElementById('uppy_' + id);
      var place = row && row.querySelector('.uppy-Dashboard-Item-fileInfo');
      if (!place) return;
      var v = verdicts[id];
      var el = place.querySelector('.clip-verdict');
      if (el && el.textContent === v.text) return;
      if (!el) {
        el = document.createElement('p');
        place.appendChild(el);
      }
      el.className = 'clip-verdict ' + (v.ok ? 'clip-verdict-ok' : 'clip-verdict-no');
      el.textContent = v.text;
    });
  }
  function render(clips) {
    list.textContent = '';
    var verified = 0;
    var pending = 0;
    clips.forEach(function (c, i) {
      var li = document.createElement('li');
      li.className = 'clip clip-' + c.status;
      li.dataset.status = c.status;
      var name = names[c.key] || 'Clip ' + (i + 1);
      var text;
      if (c.status === 'verified') {
        verified++;
        text = name + ': received (' + length(c.seconds) + ', ' + size(c.size) + ').';
      } else if (c.status === 'rejected') {
        text = name + ': not accepted. ' + (c.reason || '');
      } else {
        pending++;
        text = name + ': checking…';
      }
      li.textContent = text;
      list.appendChild(li);
      var id = files[c.key];
      if (id && c.status !== 'pending' && !verdicts[id]) {
        verdicts[id] = c.status === 'verified'
          ? { ok: true, text: 'Received (' + length(c.seconds) + ')' }
          : { ok: false, text: 'Not accepted: ' + (c.reason || 'this file is not a video we can use') };
        settled.push(c.status === 'verified' ? name + ': received (' + length(c.seconds) + ').' : name + ': not accepted. ' + (c.reason || ''));
        // A rejected file is an error in Uppy's own terms: its tick goes.
        if (!verdicts[id].ok && uppy && uppy.getFile(id)) uppy.setFileState(id, { error: verdicts[id].text });
      }
    });
    if (settled.length) status(settled.join(' '));
    settled = [];
    mark();
    box.hidden = clips.length === 0;
    document.body.dataset.clipsVerified = String(verified);
    document.body.dataset.clipsPending = String(pending);
    return pending;
  }
  function refresh() {
    clearTimeout(timer);
    fetch(endpoint, { credentials: 'same-origin' }) // the upload token is in its HttpOnly cookie
      .then(function (res) { return res.ok ? res.json() : null; })
      .then(function (body) {
        if (!body) return;
        // Keep asking while a clip is being checked, for a few minutes.
        if (render(body.clips || []) > 0 && tries++ < 120) timer = setTimeout(refresh, 1500);
      })
      .catch(function () { if (tries++ < 120) timer = setTimeout(refresh, 3000); });
  }

  if (uppy) {
    uppy.on('upload-success', function (file, response) {
      var key = response && response.body && response.body.key;
      if (key && file && file.name) names[key] = file.name;
      if (key && file) files[key] = file.id;
    });
    // Each file's row in the uploader shows the server's verdict; Uppy
    // redraws its rows, so the verdict is put back after each redraw.
    new MutationObserver(mark).observe(uploader, { childList: true, subtree: true });
  }
  document.addEventListener('uploader:complete', function () { tries = 0; refresh(); });
  refresh();
})();
