// paper-digest: start Pagefind's search UI on the Search page. Material's instant navigation
// swaps pages without reloading, so this runs on every page change (document$), not on load.
(function () {
  // The page lists the bundles, primary first: papers of earlier months, then of the newest
  // digest's month (generator/search.py). Results of both come as one list.
  function bundles(element) {
    return (element.dataset.bundles || "").split(" ").filter(Boolean);
  }
  function start(element) {
    if (element.dataset.started) return;
    element.dataset.started = "1";
    var all = bundles(element);
    new PagefindUI({
      element: element,
      bundlePath: all[0],
      mergeIndex: all.slice(1).map(function (path) { return { bundlePath: path }; }),
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
    var bundle = bundles(element)[0];
    if (!bundle) {
      element.textContent = "Nothing to search yet: the archive has no papers.";
      return;
    }
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
