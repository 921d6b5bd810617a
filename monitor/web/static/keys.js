// Keyboard shortcuts for the common actions; «?» shows the list.
// Keys are read by their place on the keyboard (KeyboardEvent.code), so they work the
// same with the Russian layout: j / о is the same key.
// Queue: j / k move, o or Enter open, c confirm the selected row, a route it to the
// organisation chosen in its row, r pick a reject reason, s pick the urgency (Enter in a
// row's list applies it), / filters. Incident: c confirm, r reject, a route, u back.
// Keys typed into a field are left alone, except Enter in a queue row's list.
(function () {
  "use strict";
  var rows = Array.prototype.slice.call(document.querySelectorAll("table.queue tbody tr[data-href]"));
  var current = -1;

  function typing(target) {
    var tag = target && target.tagName;
    return tag === "INPUT" || tag === "SELECT" || tag === "TEXTAREA" || (target && target.isContentEditable);
  }

  function select(index) {
    if (!rows.length) { return; }
    index = Math.max(0, Math.min(rows.length - 1, index));
    if (current >= 0) { rows[current].classList.remove("selected"); rows[current].removeAttribute("aria-selected"); }
    current = index;
    rows[current].classList.add("selected");
    rows[current].setAttribute("aria-selected", "true");
    rows[current].scrollIntoView({block: "nearest"});
  }

  function inRow(selector) {
    return current >= 0 ? rows[current].querySelector(selector) : null;
  }

  function press(selector) {
    var element = rows.length ? inRow(selector) : document.querySelector(selector);
    if (element) { element.click(); return true; }
    return false;
  }

  function focus(selector) {
    var element = rows.length ? inRow(selector) : document.querySelector(selector);
    if (element) { element.focus(); return true; }
    return false;
  }

  var actions = {
    "KeyJ": function () { return rows.length ? (select(current + 1), true) : false; },
    "KeyK": function () { return rows.length ? (select(current - 1), true) : false; },
    "KeyO": function () {
      if (current < 0) { return false; }
      window.location.href = rows[current].getAttribute("data-href");
      return true;
    },
    "KeyC": function () { return press('button[name="action"][value="confirm"]'); },
    "KeyA": function () {
      if (rows.length) { return press('button[name="action"][value="assign"]'); }
      return focus('form[action$="/act"] select[name="organisation_id"]');
    },
    "KeyR": function () { return focus('select[name="reason"]'); },
    "KeyS": function () { return focus('select[name="urgency"]'); },
    "KeyU": function () {
      if (window.location.pathname === "/") { return false; }
      window.location.href = "/";
      return true;
    },
    "Slash": function () { return focus("form.filters select, form.filters input"); },
    "Help": function () {
      var help = document.getElementById("shortcuts");
      if (!help) { return false; }
      help.hidden = !help.hidden;
      return true;
    }
  };
  actions["Enter"] = actions["KeyO"];
  actions["NumpadEnter"] = actions["KeyO"];

  // Enter in a row's list applies it: the reason rejects, the organisation routes, the urgency changes.
  var APPLY = {"reason": 'button[value="reject"]', "organisation_id": 'button[value="assign"]',
               "urgency": 'button[form^="u"]'};

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    var code = event.code || event.key;
    if (code === "Escape" || event.key === "Escape") {
      var help = document.getElementById("shortcuts");
      if (help) { help.hidden = true; }
      return;
    }
    var target = event.target;
    if (target && target.tagName === "SELECT" && (code === "Enter" || code === "NumpadEnter")) {
      var row = target.closest("tr[data-href]");
      var button = row && APPLY[target.name] && row.querySelector(APPLY[target.name]);
      if (button) { event.preventDefault(); button.click(); }
      return;
    }
    if (typing(target)) { return; }
    // Enter belongs to the focused link or button; it opens a row only from the page itself.
    if ((code === "Enter" || code === "NumpadEnter") && (current < 0 || target !== document.body)) { return; }
    // «?» wherever the layout puts it; Shift with the «/» key (where «?» is in the US layout) too.
    if (event.key === "?" || (code === "Slash" && event.shiftKey)) { code = "Help"; }
    var action = actions[code];
    if (action && action(event)) { event.preventDefault(); }
  });

  rows.forEach(function (row, index) {
    row.addEventListener("click", function (event) {
      var tag = event.target.tagName;
      if (tag !== "A" && tag !== "BUTTON" && tag !== "SELECT" && tag !== "OPTION" && tag !== "INPUT") { select(index); }
    });
    if (window.location.hash === "#" + row.id) { select(index); }  // back from a row's action
  });
})();
