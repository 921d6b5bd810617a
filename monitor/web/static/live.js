// Live queue: listen to /live/queue (server-sent events) and show a banner
// «N новых инцидентов — обновить» when incidents newer than this page arrive.
// Loaded as a static file: the CSP forbids inline scripts.
(function () {
  "use strict";
  var holder = document.getElementById("live");
  if (!holder || !window.EventSource) { return; }
  var banner = document.getElementById("live-banner");
  var baseTitle = document.title;

  function plural(n) {
    var d10 = n % 10, d100 = n % 100;
    if (d10 === 1 && d100 !== 11) { return "новый инцидент"; }
    if (d10 >= 2 && d10 <= 4 && (d100 < 12 || d100 > 14)) { return "новых инцидента"; }
    return "новых инцидентов";
  }

  function show(data) {
    if (!data.count) { banner.hidden = true; document.title = baseTitle; return; }
    var n = data.more ? data.count + "+" : String(data.count);
    var link = banner.querySelector("a");
    link.textContent = n + " " + plural(data.count) + " — обновить";
    banner.hidden = false;
    document.title = "(" + n + ") " + baseTitle;
  }

  var source = new EventSource(holder.getAttribute("data-src"));
  source.addEventListener("incidents", function (event) {
    try { show(JSON.parse(event.data)); } catch (e) { /* a malformed event changes nothing */ }
  });
})();
