// Search suggestions: a list of products under any search box with data-suggest, as the
// buyer types. Everything works without this script; it only saves keystrokes.
(function () {
  "use strict";
  // Filters start folded (a phone shows the results first); a wide screen unfolds them.
  if (window.matchMedia("(min-width: 761px)").matches) {
    document.querySelectorAll("details.facets-toggle").forEach(function (d) { d.open = true; });
  }
  document.querySelectorAll("input[data-suggest]").forEach(function (input) {
    var list = document.createElement("ul");
    list.className = "suggest";
    list.hidden = true;
    input.parentNode.style.position = "relative";
    input.parentNode.appendChild(list);
    var timer = null;
    var last = "";
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var q = input.value.trim();
        if (q.length < 2 || q === last) { if (q.length < 2) { list.hidden = true; } return; }
        last = q;
        fetch(input.dataset.suggest + "?q=" + encodeURIComponent(q), { credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.json() : { items: [] }; })
          .then(function (body) {
            while (list.firstChild) { list.removeChild(list.firstChild); }
            (body.items || []).forEach(function (item) {
              var li = document.createElement("li");
              var a = document.createElement("a");
              a.href = item.url;
              a.textContent = item.name + " · " + item.sku;
              li.appendChild(a);
              list.appendChild(li);
            });
            list.hidden = list.childNodes.length === 0;
          })
          .catch(function () { list.hidden = true; });
      }, 150);
    });
    input.addEventListener("keydown", function (e) { if (e.key === "Escape") { list.hidden = true; } });
    document.addEventListener("click", function (e) { if (!list.contains(e.target) && e.target !== input) { list.hidden = true; } });
  });
})();

// Forms that undo something ask first: <form data-confirm="question">.
document.addEventListener("submit", function (e) {
  var f = e.target;
  if (f && f.dataset && f.dataset.confirm && !window.confirm(f.dataset.confirm)) {
    e.preventDefault();
  }
});
