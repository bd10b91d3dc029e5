// paper-digest: start Pagefind's search UI on the Search page. Material's instant navigation
// swaps pages without reloading, so this runs on every page change (document$), not on load.
(function () {
  function start(element) {
    if (element.dataset.started) return;
    element.dataset.started = "1";
    new PagefindUI({
      element: element,
      showSubResults: false,
      showImages: false,
      resetStyles: false,
      // The paper's date and topics come from its data-pagefind-meta and show under the title.
    });
    var query = new URLSearchParams(window.location.search).get("q");
    if (query) element.querySelector("input").value = query;
    if (query) element.querySelector("input").dispatchEvent(new Event("input"));
  }
  function mount() {
    var element = document.getElementById("pagefind-search");
    if (!element) return;
    if (window.PagefindUI) return start(element);
    var bundle = element.dataset.bundle;
    var css = document.createElement("link");
    css.rel = "stylesheet";
    css.href = bundle + "pagefind-ui.css";
    document.head.appendChild(css);
    var script = document.createElement("script");
    script.src = bundle + "pagefind-ui.js";
    script.onload = function () { start(element); };
    document.head.appendChild(script);
  }
  if (window.document$) window.document$.subscribe(mount);
  else document.addEventListener("DOMContentLoaded", mount);
})();
