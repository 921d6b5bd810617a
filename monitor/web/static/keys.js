// Keyboard shortcuts for the common actions; «?» shows the list.
// Queue: j / k move, o or Enter open, c confirm the selected row, / filters.
// Incident: c confirm, r reject, a route, u back to the queue.
// Keys typed into a field are left alone.
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

  function click(selector) {
    var element = document.querySelector(selector);
    if (element) { element.click(); return true; }
    return false;
  }

  function focus(selector) {
    var element = document.querySelector(selector);
    if (element) { element.focus(); return true; }
    return false;
  }

  var actions = {
    "j": function () { return rows.length ? (select(current + 1), true) : false; },
    "k": function () { return rows.length ? (select(current - 1), true) : false; },
    "o": function () {
      if (current < 0) { return false; }
      window.location.href = rows[current].getAttribute("data-href");
      return true;
    },
    "c": function () {
      if (rows.length) {
        var button = current >= 0 && rows[current].querySelector('button[name="action"][value="confirm"]');
        if (button) { button.click(); return true; }
        return false;
      }
      return click('button[name="action"][value="confirm"]');
    },
    "r": function () { return focus('form[action$="/act"] select[name="reason"]'); },
    "a": function () { return focus('form[action$="/act"] select[name="organisation_id"]'); },
    "u": function () {
      if (window.location.pathname === "/") { return false; }
      window.location.href = "/";
      return true;
    },
    "/": function () { return focus("form.filters select, form.filters input"); },
    "?": function () {
      var help = document.getElementById("shortcuts");
      if (!help) { return false; }
      help.hidden = !help.hidden;
      return true;
    }
  };
  actions["Enter"] = actions["o"];

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) { return; }
    if (event.key === "Escape") {
      var help = document.getElementById("shortcuts");
      if (help) { help.hidden = true; }
      return;
    }
    // Enter belongs to the focused link or button; it opens a row only from the page itself.
    if (event.key === "Enter" && (current < 0 || event.target !== document.body)) { return; }
    var action = actions[event.key];
    if (action && action()) { event.preventDefault(); }
  });

  rows.forEach(function (row, index) {
    row.addEventListener("click", function (event) {
      if (event.target.tagName !== "A" && event.target.tagName !== "BUTTON") { select(index); }
    });
  });
})();
