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
    });
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

  var uppy = window.frontlineUppy;
  if (uppy) {
    uppy.on('upload-success', function (file, response) {
      var key = response && response.body && response.body.key;
      if (key && file && file.name) names[key] = file.name;
    });
  }
  document.addEventListener('uploader:complete', function () { tries = 0; refresh(); });
  refresh();
})();
