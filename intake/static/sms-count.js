// Línea Ciudadana, staff pages: how many SMS a reply will cost, as the agent types.
// The same rule as intake/sms_text.py: the server writes á, í, ó, ú without their accent (GSM-7),
// 160 characters make one SMS and each part of a longer one holds 153; €, [, ] and the like take two.
(function () {
  "use strict";
  var BASIC = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  var EXTENSION = "^{}\\[~]|€";
  var REPLACE = {"…": "...", "–": "-", "—": "-", "“": "\"", "”": "\"", "‘": "'", "’": "'", "\u00a0": " "};

  function allowed(c) { return BASIC.indexOf(c) >= 0 || EXTENSION.indexOf(c) >= 0; }

  function toGsm7(text) {
    var out = "";
    for (var i = 0; i < text.length; i++) {
      var c = text[i];
      if (allowed(c)) { out += c; continue; }
      if (REPLACE[c] !== undefined) { out += REPLACE[c]; continue; }
      var parts = c.normalize("NFKD");
      for (var j = 0; j < parts.length; j++) { if (allowed(parts[j])) { out += parts[j]; } }
    }
    return out;
  }

  function segments(text) {
    var units = 0;
    for (var i = 0; i < text.length; i++) { units += EXTENSION.indexOf(text[i]) >= 0 ? 2 : 1; }
    return units <= 160 ? 1 : Math.ceil(units / 153);
  }

  var areas = document.querySelectorAll("textarea[data-sms-count]");
  Array.prototype.forEach.call(areas, function (area) {
    var shown = document.getElementById(area.getAttribute("data-sms-count"));
    if (!shown) { return; }
    function update() {
      if (area.value === "") { shown.textContent = ""; return; }
      var text = toGsm7(area.value);
      var n = segments(text);
      shown.textContent = text.length + " caracteres: " + n + (n === 1 ? " SMS" : " SMS (se cobra cada uno)");
    }
    area.addEventListener("input", update);
    update();
  });
})();
