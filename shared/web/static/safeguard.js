/*
 * Frontline Voices — patient-identifiable information check (browser).
 *
 * A plain-script port of shared/safeguard/safeguard.go (ES2018, no modules,
 * no dependencies). The rules and regular expressions are the same as the Go
 * ones, character for character (the no-break space is written \u{00A0} here
 * and \x{00A0} in Go); a Go test runs this file under node and checks that
 * both give the same findings. Change both files together.
 *
 *   window.FrontlineSafeguard.scan(text)
 *     -> [{kind, label, start, end}]  start/end are string (UTF-16) indices,
 *        so text.slice(start, end) is the flagged passage; ordered by
 *        position, no duplicates.
 *   window.FrontlineSafeguard.validNHSNumber(digits) -> boolean
 *
 * kind is one of "nhs_number", "date_of_birth", "postcode", "patient_name".
 * The rules themselves are documented in safeguard.go.
 */
(function (global) {
  "use strict";

  var LABELS = {
    nhs_number: "an NHS number",
    date_of_birth: "a date of birth",
    postcode: "a full postcode",
    patient_name: "a patient's name"
  };

  var MONTHS = String.raw`(january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)`;
  var NAME_WORD = String.raw`(\p{Lu}\.|\p{Lu}[\p{L}'’-]*)`;
  var PARTICLE = String.raw`(?:(?:de|da|di|du|van|von|der|den|del|la|le|al|el|bin|ap)[ ]+)?`;

  // name -> {src, fold}; must match the rules map in safeguard.go.
  var RULES = {
    digitRun: { src: String.raw`[0-9]+(?:[ \u{00A0}-][0-9]+)*`, fold: false },
    dateNumeric: { src: String.raw`([0-9]{1,2})([./-])([0-9]{1,2})([./-])([0-9]{4}|[0-9]{2})`, fold: false },
    dateISO: { src: String.raw`([0-9]{4})([./-])([0-9]{1,2})([./-])([0-9]{1,2})`, fold: false },
    dateDayMonth: { src: String.raw`([0-9]{1,2})(?:st|nd|rd|th)?(?:[ -]|[ ]of[ ])` + MONTHS + String.raw`\.?(?:,?[ ]|-)([0-9]{4})`, fold: true },
    dateMonthDay: { src: MONTHS + String.raw`\.?[ ]([0-9]{1,2})(?:st|nd|rd|th)?,?[ ]([0-9]{4})`, fold: true },
    dateCue: { src: String.raw`born|birth(?:day|date)?|d\.o\.b\.?|dob|d/o/b|b\.|aged|age|y/o|(?:years?|yrs?)[ -]old`, fold: true },
    dateBreak: { src: String.raw`[!?;\r\n]|\.[ \t]`, fold: false },
    dateWordBefore: { src: String.raw`(\p{L}+)[ ]+$`, fold: false },
    postcode: { src: String.raw`[Gg][Ii][Rr][ \u{00A0}]?0[Aa][Aa]|(?:[A-PR-UWYZa-pr-uwyz][0-9]{1,2}|[A-PR-UWYZa-pr-uwyz][A-HK-Ya-hk-y][0-9]{1,2}|[A-PR-UWYZa-pr-uwyz][0-9][A-HJKPSTUWa-hjkpstuw]|[A-PR-UWYZa-pr-uwyz][A-HK-Ya-hk-y][0-9][ABEHMNPRVWXYabehmnprvwxy])[ \u{00A0}]?[0-9][ABD-HJLNP-UW-Zabd-hjlnp-uw-z]{2}`, fold: false },
    nameTitle: { src: String.raw`(?:Mrs|Mr|Ms|Miss|Mx|Master)\.?[ ]+` + PARTICLE + NAME_WORD, fold: false },
    nameNext: { src: String.raw`^[ ]+` + PARTICLE + NAME_WORD, fold: false },
    nameStrict: { src: String.raw`^(\p{Lu}(?:\p{Ll}|['’]\p{Lu})[\p{L}'’-]*)`, fold: false },
    namePhraseCalled: { src: String.raw`(?:patient|lady|man|woman|gentleman|gent|boy|girl|children|child|baby|toddler|teenager|lad|son|daughter|husband|wife|mum|mother|dad|father|grandmother|grandfather|grandma|grandad|granddad|nan|carer|resident|person|chap|guy|kid|someone|somebody)s?,?(?:[ ]+of[ ]+(?:ours|mine))?(?:[ ]+(?:who|that)[ ]+(?:is|was))?[ ]+(?:called|named|by[ ]+the[ ]+name[ ]+of)[ ]+`, fold: true },
    namePhrasePatient: { src: String.raw`(?:[Mm]y|[Oo]ur|[Tt]he|[Aa]|[Tt]his|[Tt]hat|[Yy]our|[Hh]is|[Hh]er|[Tt]heir)[ ]+(?:patient|pt)[ ]+`, fold: false },
    nameIs: { src: String.raw`(?:his|her|their|whose|(?:the[ ]+)?(?:patient|pt)(?:['’]?s)?)[ ]+(?:(?:first|last|full|real|middle|given|sur)[ ]?)?name(?:[ ]+(?:is|was)[ ]+|['’]s[ ]+|[ ]*:[ ]*)`, fold: true }
  };

  // Must match eventWordsSrc, stopWordsSrc and orgWordsSrc in safeguard.go.
  var EVENT_WORDS_SRC = "on since from until till to by before after between and dated";
  var STOP_WORDS_SRC = "Mr Mrs Ms Miss Mx Master Dr Prof Professor Sir Dame Lord Rev Nurse Doctor Doctors Nurses " +
    "Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March July September October November December " +
    "The This That These Those There Then They Their Them He She It Its We Our Ours You Your My His Her Hers " +
    "And But Or So If When While Where What Which Who Why How As At In On Of To For With From By After Before Also " +
    "Not No Yes Please Thanks Thank Today Yesterday Tomorrow Tonight Everyone Everybody Someone Somebody Nobody Anyone " +
    "Reception Receptionist Receptionists Patient Patients Practice Surgery Hospital Pharmacy Pharmacist Ambulance Police Security " +
    "Team Teams Manager Partner Partners Council Trust Service Services Centre Center Clinic Ward Unit Line Lines Hub Group Board Network " +
    "Office Word Excel Outlook Forms Access Online Portal App Survey Participation Transport Liaison Experience Safety " +
    "Record Records Index List Data Plan Key Class Copy File Files Sheet Spreadsheet Rota Schedule Template Document Chef Degree Card " +
    "Care Health Social Mental Primary General Medical Christmas Easter Bank Street Road London England NHS GP";
  var ORG_WORDS_SRC = "Hospital Hospitals Council Ambulance Pharmacy Surgery Practice Service Services Trust Centre Center Clinic Police " +
    "Line Team Hub Group Board Network Health Care Road Street Station Ward Unit Library School College University Bank " +
    "Ltd Limited Foundation Partnership Institute Society Charity";

  var BIRTH_YEAR_CUTOFF = 2010;
  var CUE_BEFORE_WINDOW = 40;
  var CUE_AFTER_WINDOW = 20;
  var TIGHT_CUE_WINDOW = 2;
  var UNIT_INWARDS = { st: true, nd: true, rd: true, th: true, hr: true, ft: true, yr: true, lb: true, pt: true };

  function wordSet(src) {
    var m = Object.create(null);
    src.split(/ +/).forEach(function (w) { if (w) { m[w] = true; } });
    return m;
  }
  var EVENT_WORDS = wordSet(EVENT_WORDS_SRC);
  var STOP_WORDS = wordSet(STOP_WORDS_SRC);
  var ORG_WORDS = wordSet(ORG_WORDS_SRC);

  function compile(name, all) {
    var r = RULES[name];
    return new RegExp(r.src, (all ? "g" : "") + (r.fold ? "i" : "") + "u");
  }

  var reDigitRun = compile("digitRun", true);
  var reDateNumeric = compile("dateNumeric", true);
  var reDateISO = compile("dateISO", true);
  var reDateDayMonth = compile("dateDayMonth", true);
  var reDateMonthDay = compile("dateMonthDay", true);
  var reDateCue = compile("dateCue", true);
  var reDateBreak = compile("dateBreak", false);
  var reDateWordBefore = compile("dateWordBefore", false);
  var rePostcode = compile("postcode", true);
  var reNameTitle = compile("nameTitle", true);
  var reNameNext = compile("nameNext", false);
  var reNameStrict = compile("nameStrict", false);
  var reNamePhraseCalled = compile("namePhraseCalled", true);
  var reNamePhrasePatient = compile("namePhrasePatient", true);
  var reNameIs = compile("nameIs", true);

  var reAlnum = /^[\p{L}\p{Nd}]$/u;
  var reLetter = /^\p{L}$/u;
  var reDigit = /^\p{Nd}$/u;

  function validNHSNumber(digits) {
    if (typeof digits !== "string" || !/^[0-9]{10}$/.test(digits)) {
      return false;
    }
    var sum = 0;
    for (var i = 0; i < 9; i++) {
      sum += (digits.charCodeAt(i) - 48) * (10 - i);
    }
    var check = 11 - (sum % 11);
    if (check === 11) {
      check = 0;
    }
    if (check === 10) {
      return false;
    }
    return check === digits.charCodeAt(9) - 48;
  }

  // Same walk as eachMatch in Go: a rejected match restarts the search one
  // character (code point) after its start. m carries absolute offsets in
  // m.index and the group texts; starts() gives group start offsets.
  function eachMatch(re, text, accept) {
    var pos = 0;
    while (pos <= text.length) {
      re.lastIndex = pos;
      var m = re.exec(text);
      if (m === null) {
        return;
      }
      var start = m.index;
      var end = start + m[0].length;
      if (end > start && accept(m, start, end)) {
        pos = end;
        continue;
      }
      if (start >= text.length) {
        return;
      }
      pos = start + charAt(text, start).length;
    }
  }

  // The whole code point starting at i ("" at the end).
  function charAt(s, i) {
    if (i >= s.length || i < 0) {
      return "";
    }
    return String.fromCodePoint(s.codePointAt(i));
  }

  function charBefore(s, i) {
    if (i <= 0) {
      return "";
    }
    var lo = s.charCodeAt(i - 1);
    if (lo >= 0xdc00 && lo <= 0xdfff && i >= 2) {
      var hi = s.charCodeAt(i - 2);
      if (hi >= 0xd800 && hi <= 0xdbff) {
        return s.slice(i - 2, i);
      }
    }
    return s.charAt(i - 1);
  }

  function isAlnum(c) { return c !== "" && reAlnum.test(c); }
  function isLetter(c) { return c !== "" && reLetter.test(c); }
  function isDigit(c) { return c !== "" && reDigit.test(c); }
  function isNumJoiner(c) { return c === "." || c === "," || c === "/" || c === ":" || c === "-"; }

  function numberBefore(s, i) {
    var c = charBefore(s, i);
    if (isAlnum(c)) {
      return true;
    }
    if (isNumJoiner(c)) {
      return isDigit(charBefore(s, i - c.length));
    }
    return false;
  }

  function numberAfter(s, i) {
    var c = charAt(s, i);
    if (isAlnum(c)) {
      return true;
    }
    if (isNumJoiner(c)) {
      return isDigit(charAt(s, i + c.length));
    }
    return false;
  }

  function runeCount(s) {
    return Array.from(s).length;
  }

  // ---- NHS numbers ----

  function scanNHS(text, out) {
    // Runs are maximal: always continue after one (see scanNHS in Go).
    eachMatch(reDigitRun, text, function (m, start, end) {
      if (numberBefore(text, start) || numberAfter(text, end)) {
        return true;
      }
      var groups = m[0].split(/[^0-9]+/).filter(function (g) { return g !== ""; });
      var shape = groups.map(function (g) { return g.length; }).join(",");
      if (shape !== "10" && shape !== "3,3,4") {
        return true;
      }
      var digits = groups.join("");
      if (digits.split(digits.charAt(0)).length - 1 === digits.length || !validNHSNumber(digits)) {
        return true;
      }
      out.push({ kind: "nhs_number", start: start, end: end });
      return true;
    });
  }

  // ---- Dates of birth ----

  function validDate(day, month, year) {
    if (year < 1890 || year > 2099 || month < 1 || month > 12 || day < 1) {
      return false;
    }
    var days = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
    if (month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)) {
      days = 29;
    }
    return day <= days;
  }

  var MONTH_NUMBERS = { jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12 };

  function monthNumber(name) {
    return MONTH_NUMBERS[name.toLowerCase().slice(0, 3)] || 0;
  }

  function scanDates(text, out) {
    var cands = [];
    function numericYear(day, month, yearText) {
      var year = parseInt(yearText, 10);
      if (yearText.length === 2) {
        year += year <= 29 ? 2000 : 1900;
      }
      if (validDate(day, month, year) || validDate(month, day, year)) {
        return year;
      }
      return 0;
    }
    eachMatch(reDateNumeric, text, function (m, start, end) {
      if (m[2] !== m[4] || numberBefore(text, start) || numberAfter(text, end)) {
        return false;
      }
      var y = numericYear(parseInt(m[1], 10), parseInt(m[3], 10), m[5]);
      if (!y) {
        return false;
      }
      cands.push({ start: start, end: end, year: y, numeric: true });
      return true;
    });
    eachMatch(reDateISO, text, function (m, start, end) {
      if (m[2] !== m[4] || numberBefore(text, start) || numberAfter(text, end)) {
        return false;
      }
      var y = parseInt(m[1], 10);
      if (!validDate(parseInt(m[5], 10), parseInt(m[3], 10), y)) {
        return false;
      }
      cands.push({ start: start, end: end, year: y, numeric: true });
      return true;
    });
    eachMatch(reDateDayMonth, text, function (m, start, end) {
      if (numberBefore(text, start) || numberAfter(text, end)) {
        return false;
      }
      var y = parseInt(m[3], 10);
      if (!validDate(parseInt(m[1], 10), monthNumber(m[2]), y)) {
        return false;
      }
      cands.push({ start: start, end: end, year: y, numeric: false });
      return true;
    });
    eachMatch(reDateMonthDay, text, function (m, start, end) {
      if (isAlnum(charBefore(text, start)) || numberAfter(text, end)) {
        return false;
      }
      var y = parseInt(m[3], 10);
      if (!validDate(parseInt(m[2], 10), monthNumber(m[1]), y)) {
        return false;
      }
      cands.push({ start: start, end: end, year: y, numeric: false });
      return true;
    });
    if (cands.length === 0) {
      return;
    }

    var cues = [];
    eachMatch(reDateCue, text, function (m, start, end) {
      var before = charBefore(text, start);
      if (isAlnum(before) || before === "-") {
        return false;
      }
      var word = m[0].toLowerCase();
      if (word.charAt(word.length - 1) !== "." && isAlnum(charAt(text, end))) {
        return false;
      }
      var cls = "w";
      if (word === "b.") {
        cls = "t";
      } else if (word.charAt(0) === "b" || word.charAt(0) === "d") {
        cls = "s";
      }
      cues.push({ start: start, end: end, cls: cls });
      return true;
    });

    cands.forEach(function (d) {
      var strong = false;
      var weak = false;
      cues.forEach(function (c) {
        if (!cueNear(text, c, d)) {
          return;
        }
        if (c.cls === "w") {
          weak = true;
        } else {
          strong = true;
        }
      });
      if (strong || (d.year < BIRTH_YEAR_CUTOFF && (weak || (d.numeric && !afterEventWord(text, d.start))))) {
        out.push({ kind: "date_of_birth", start: d.start, end: d.end });
      }
    });
  }

  function afterEventWord(text, start) {
    var m = reDateWordBefore.exec(text.slice(0, start));
    return m !== null && EVENT_WORDS[m[1].toLowerCase()] === true;
  }

  function cueNear(text, c, d) {
    var gap;
    var limit = CUE_BEFORE_WINDOW;
    if (c.end <= d.start) {
      gap = text.slice(c.end, d.start);
      if (c.cls === "t") {
        return runeCount(gap) <= TIGHT_CUE_WINDOW && gap.replace(/^ +| +$/g, "") === "";
      }
    } else if (c.start >= d.end && c.cls !== "t") {
      gap = text.slice(d.end, c.start);
      limit = CUE_AFTER_WINDOW;
    } else {
      return false;
    }
    return runeCount(gap) <= limit && !reDateBreak.test(gap);
  }

  // ---- Postcodes ----

  function scanPostcodes(text, out) {
    eachMatch(rePostcode, text, function (m, start, end) {
      if (isAlnum(charBefore(text, start)) || isAlnum(charAt(text, end))) {
        return false;
      }
      var inward = text.slice(end - 2, end);
      if (inward !== inward.toUpperCase() && UNIT_INWARDS[inward.toLowerCase()]) {
        return false;
      }
      out.push({ kind: "postcode", start: start, end: end });
      return true;
    });
  }

  // ---- Patient names ----

  function scanNames(text, out) {
    function add(start, end) {
      out.push({ kind: "patient_name", start: start, end: end });
    }
    eachMatch(reNameTitle, text, function (m, start, end) {
      if (isAlnum(charBefore(text, start))) {
        return false;
      }
      var ws = end - m[1].length;
      var fin = finishName(text, ws, end);
      if (fin !== null) {
        add(start, fin);
        return true;
      }
      return false;
    });
    function phrase(re) {
      eachMatch(re, text, function (m, start, end) {
        if (isLetter(charBefore(text, start))) {
          return false;
        }
        var n = reNameStrict.exec(text.slice(end));
        if (n === null) {
          return false;
        }
        var fin = finishName(text, end, end + n[1].length);
        if (fin !== null) {
          add(start, fin);
          return true;
        }
        return false;
      });
    }
    phrase(reNamePhraseCalled);
    phrase(reNamePhrasePatient);
    phrase(reNameIs);
  }

  function endsWith(s, suffix) {
    return s.length >= suffix.length && s.slice(s.length - suffix.length) === suffix;
  }

  function trimRightChars(s, chars) {
    var i = s.length;
    while (i > 0 && chars.indexOf(s.charAt(i - 1)) >= 0) {
      i--;
    }
    return s.slice(0, i);
  }

  // Returns the end of the finding, or null when the name is rejected.
  function finishName(text, ws, we) {
    var t = trimName(text, ws, we);
    if (STOP_WORDS[t.word] || ORG_WORDS[t.word] || runsIntoDigit(text, we)) {
      return null;
    }
    var end = t.end;
    var last = text.slice(ws, we);
    var pos = we;
    for (var i = 0; i < 3; i++) {
      if (last !== trimRightChars(last, "'’-") || endsWith(last, "'s") || endsWith(last, "’s")) {
        break;
      }
      var n = reNameNext.exec(text.slice(pos));
      if (n === null) {
        break;
      }
      var nEnd = pos + n[0].length;
      var nStart = nEnd - n[1].length;
      var w = trimName(text, nStart, nEnd);
      if (ORG_WORDS[w.word]) {
        return null;
      }
      if (STOP_WORDS[w.word] || i === 2 || runsIntoDigit(text, nEnd)) {
        break;
      }
      last = text.slice(nStart, nEnd);
      pos = nEnd;
      end = w.end;
    }
    return end;
  }

  function runsIntoDigit(text, i) {
    return isDigit(charAt(text, i));
  }

  function trimName(text, ws, we) {
    var raw = text.slice(ws, we);
    var w = raw;
    if (endsWith(w, "'s") || endsWith(w, "’s")) {
      w = w.slice(0, w.length - 2);
    }
    w = trimRightChars(w, "'’-.");
    var end = ws + w.length;
    if (endsWith(raw, ".") && w.length > 0 && runeCount(w) === 1) {
      end = we;
    }
    return { word: w, end: end };
  }

  function normalise(fs) {
    fs.sort(function (a, b) {
      if (a.start !== b.start) {
        return a.start - b.start;
      }
      if (a.end !== b.end) {
        return b.end - a.end;
      }
      return a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0;
    });
    var out = [];
    var last = Object.create(null);
    fs.forEach(function (f) {
      var i = last[f.kind];
      if (i !== undefined && f.start < out[i].end) {
        if (f.end > out[i].end) {
          out[i].end = f.end;
        }
        return;
      }
      last[f.kind] = out.length;
      out.push({ kind: f.kind, label: LABELS[f.kind], start: f.start, end: f.end });
    });
    return out;
  }

  function scan(text) {
    if (typeof text !== "string" || text === "") {
      return [];
    }
    var fs = [];
    scanNHS(text, fs);
    scanDates(text, fs);
    scanPostcodes(text, fs);
    scanNames(text, fs);
    return normalise(fs);
  }

  global.FrontlineSafeguard = {
    scan: scan,
    validNHSNumber: validNHSNumber,
    // For the Go parity test only.
    _rules: { rules: RULES, eventWords: EVENT_WORDS_SRC, stopWords: STOP_WORDS_SRC, orgWords: ORG_WORDS_SRC }
  };
})(window);
