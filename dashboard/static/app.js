// Live refresh: fetch the page's content again every few seconds and swap
// it in, unless the operator is in the middle of selecting or typing.
(function () {
  "use strict";
  var main = document.getElementById("content");
  if (!main) return;

  function busy() {
    var el = document.activeElement;
    if (el && main.contains(el) && /INPUT|SELECT|TEXTAREA/.test(el.tagName)) return true;
    return main.querySelector("input[type=checkbox]:checked") !== null;
  }

  function refresh() {
    if (document.hidden || busy()) return;
    fetch(window.location.href, { headers: { "X-Partial": "1" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) { if (html !== null && !busy()) main.innerHTML = html; })
      .catch(function () {});
  }

  var seconds = parseInt(main.getAttribute("data-refresh"), 10);
  if (seconds > 0) setInterval(refresh, seconds * 1000);

  document.addEventListener("change", function (e) {
    if (!e.target.classList.contains("select-all")) return;
    var boxes = main.querySelectorAll("input[type=checkbox][name=id]");
    for (var i = 0; i < boxes.length; i++) boxes[i].checked = e.target.checked;
  });

  document.addEventListener("click", function (e) {
    var msg = e.target.getAttribute && e.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) e.preventDefault();
  });
})();
