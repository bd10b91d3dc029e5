// paper-digest: the header's search box ("/" focuses it), light and dark, and the Search page,
// which asks every Pagefind bundle of the archive (generator/search.py) and lists the papers
// found. No framework, nothing from other hosts.
(function () {
  "use strict";
  var KEY = "paper-digest.scheme";

  function scheme(name) {
    document.documentElement.setAttribute("data-md-color-scheme", name);
    var button = document.querySelector(".pd-scheme");
    if (button) {
      button.textContent = name === "slate" ? "Light" : "Dark";
      button.setAttribute("aria-label", name === "slate" ? "Switch to light mode" : "Switch to dark mode");
      button.setAttribute("aria-pressed", name === "slate" ? "true" : "false");
    }
  }

  function setUpScheme() {
    var button = document.querySelector(".pd-scheme");
    if (!button) return;
    scheme(document.documentElement.getAttribute("data-md-color-scheme") || "default");
    button.hidden = false;
    button.addEventListener("click", function () {
      var next = document.documentElement.getAttribute("data-md-color-scheme") === "slate" ? "default" : "slate";
      try { localStorage.setItem(KEY, next); } catch (e) { /* private mode: this page only */ }
      scheme(next);
    });
  }

  function setUpSlash() {
    document.addEventListener("keydown", function (event) {
      if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
      var target = event.target;
      if (target && (target.isContentEditable || /^(input|textarea|select)$/i.test(target.tagName))) return;
      var box = document.getElementById("pd-search-input") || document.getElementById("pd-q");
      if (box) {
        event.preventDefault();
        box.focus();
      }
    });
  }

  // -- topic filter (day, week, month and home pages) ------------------------------------------

  var TOPICS = "paper-digest.topics";

  function stored(key, fallback) {
    try {
      var value = JSON.parse(localStorage.getItem(key));
      return value === null ? fallback : value;
    } catch (e) { return fallback; }
  }

  function store(key, value) {
    try { localStorage.setItem(key, JSON.stringify(value)); } catch (e) { /* private mode */ }
  }

  // Each list keeps its ranks while papers are hidden: every item gets its number as its value.
  function fixRanks(list) {
    var n = list.start || 1;
    Array.prototype.forEach.call(list.children, function (li) { li.value = n++; });
  }

  function setUpFilter() {
    var bar = document.querySelector(".pd-filter");
    if (!bar) return;
    var items = document.querySelectorAll("li[data-topics]");
    Array.prototype.forEach.call(document.querySelectorAll("ol.pd-cards, ol.pd-rows"), fixRanks);
    var buttons = bar.querySelectorAll("button.pd-topic");
    var status = bar.querySelector(".pd-filter-status");
    var chosen = stored(TOPICS, []);
    if (!Array.isArray(chosen)) chosen = [];
    function apply() {
      var shown = 0;
      Array.prototype.forEach.call(buttons, function (b) {
        b.setAttribute("aria-pressed", chosen.indexOf(b.dataset.topic) >= 0 ? "true" : "false");
      });
      Array.prototype.forEach.call(items, function (li) {
        var topics = (li.dataset.topics || "").split(" ");
        var keep = !chosen.length || topics.some(function (t) { return chosen.indexOf(t) >= 0; });
        li.hidden = !keep;
        shown += keep;
      });
      var names = Array.prototype.filter.call(buttons, function (b) {
        return chosen.indexOf(b.dataset.topic) >= 0;
      }).map(function (b) { return b.firstChild.textContent.trim(); });
      status.textContent = chosen.length ? "\u00b7 " + (names.join(", ") || "topics not on this page") + ": showing " + shown + " of " + items.length + " papers" : "";
    }
    Array.prototype.forEach.call(buttons, function (b) {
      b.addEventListener("click", function () {
        var at = chosen.indexOf(b.dataset.topic);
        if (at >= 0) chosen.splice(at, 1); else chosen.push(b.dataset.topic);
        store(TOPICS, chosen);
        apply();
      });
    });
    bar.querySelector(".pd-filter-clear").addEventListener("click", function () {
      chosen = [];
      store(TOPICS, chosen);
      apply();
    });
    apply();
  }

  // -- new since your last visit (home page) ---------------------------------------------------

  var VISIT = "paper-digest.visit";

  // The newest digest seen at the last visit is kept; papers first listed after it are marked.
  // Seen again the same day, the marks stay (the visit before is kept too).
  function setUpNew() {
    var list = document.querySelector("ol.pd-cards[data-latest]");
    if (!list) return;
    var latest = list.dataset.latest;
    var visit = stored(VISIT, null);
    var since = visit && typeof visit.seen === "string" ? (visit.seen < latest ? visit.seen : visit.before) : null;
    store(VISIT, { seen: latest, before: since });
    if (typeof since !== "string" || since >= latest) return;
    var marked = 0;
    Array.prototype.forEach.call(list.querySelectorAll("li[data-first]"), function (li) {
      if (li.dataset.first > since) {
        var badge = element("span", "pd-new", "New");
        badge.title = "New since your last visit";
        var title = li.querySelector(".pd-title");
        title.insertBefore(badge, title.firstChild);
        marked++;
      }
    });
    var status = document.querySelector(".pd-new-status");
    if (status && marked) {
      status.textContent = marked + (marked === 1 ? " paper" : " papers") + " new since your last visit (digest of " + since + ").";
      status.hidden = false;
    }
  }

  // -- the Search page ------------------------------------------------------------------------

  var MAX = 30;

  function words(text) {
    return (text.toLowerCase().match(/[\p{L}\p{N}]+/gu) || []);
  }

  // Pagefind finds words by their stem and by prefix: a result counts only if every word of the
  // query starts a word of the paper, so a query of unknown words finds nothing.
  function holdsEvery(query, text) {
    var have = words(text);
    return words(query).every(function (word) {
      return have.some(function (w) { return w.indexOf(word) === 0 || word.indexOf(w) === 0 && w.length > 3; });
    });
  }

  // Around the first word of the query in the paper's text, the title (shown above) left out;
  // built as text nodes and <mark> elements, never as HTML.
  function excerpt(data, query) {
    var title = data.meta.title || "";
    var text = data.content.indexOf(title) === 0 ? data.content.slice(title.length) : data.content;
    text = text.replace(/\s+/g, " ").replace(/^[\s.:;,\u2014-]+/, "");
    var wanted = words(query);
    var lower = text.toLowerCase();
    var at = -1;
    wanted.forEach(function (word) {
      var i = lower.search(new RegExp("(^|[^\\p{L}\\p{N}])" + word.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"), "u"));
      if (i >= 0 && (at < 0 || i < at)) at = i;
    });
    var start = Math.max(0, at - 80);
    var part = (start > 0 ? "…" : "") + text.slice(start, start + 240) + (start + 240 < text.length ? "…" : "");
    var p = element("p", "pd-excerpt");
    var pattern = new RegExp("(" + wanted.map(function (w) {
      return w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    }).join("|") + ")[\\p{L}\\p{N}]*", "giu");
    var last = 0, match;
    while (wanted.length && (match = pattern.exec(part)) !== null) {
      p.appendChild(document.createTextNode(part.slice(last, match.index)));
      p.appendChild(element("mark", null, match[0]));
      last = match.index + match[0].length;
      if (match[0].length === 0) pattern.lastIndex++;
    }
    p.appendChild(document.createTextNode(part.slice(last)));
    return p;
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // What the Search page shows: the papers found so far that hold every word, in pages of
  // MAX; "Show more" asks for the next ones.
  function show(list, results, query, more, onMore) {
    list.textContent = "";
    var status = element("p", "pd-status");
    if (!query) {
      status.textContent = "Type words of a title, an author or an abstract.";
      list.appendChild(status);
      return;
    }
    status.textContent = results.length === 0 ? "No paper holds every word of \u201c" + query + "\u201d."
      : results.length + (results.length === 1 ? " paper" : " papers") + (more ? " so far" : "") + " for \u201c" + query + "\u201d.";
    list.appendChild(status);
    var ol = element("ol", "pd-rows");
    results.forEach(function (data) {
      var li = element("li", "pd-result");
      var a = element("a", null, data.meta.title || data.url);
      a.href = data.url;
      li.appendChild(a);
      var meta = [data.meta.date, data.meta.tags].filter(Boolean).join(" \u00b7 ");
      if (meta) li.appendChild(element("span", "pd-meta", " " + meta));
      li.appendChild(excerpt(data, query));
      ol.appendChild(li);
    });
    list.appendChild(ol);
    if (more) {
      var button = element("button", "pd-more-results", "Show " + MAX + " more");
      button.type = "button";
      button.addEventListener("click", onMore);
      list.appendChild(button);
    }
  }

  function setUpSearch() {
    var list = document.getElementById("pd-results");
    var input = document.getElementById("pd-search-input");
    if (!list || !input) return;
    var bundles = (list.dataset.bundles || "").split(" ").filter(Boolean);
    if (!bundles.length) {
      list.textContent = "Nothing to search yet: the archive has no papers.";
      return;
    }
    var ready = import(new URL(bundles[0] + "pagefind.js", location.href).href).then(function (pagefind) {
      return pagefind.options({ excerptLength: 24 }).then(function () {
        return Promise.all(bundles.slice(1).map(function (bundle) {
          return pagefind.mergeIndex(new URL(bundle, location.href).href);
        }));
      }).then(function () { return pagefind; });
    });
    // Newest first: Pagefind sorts within one index, and merged indexes are ordered by score
    // again, so each bundle is searched on its own (a module of its own: another address),
    // the newest bundle first; each holds the papers first seen in its stretch of time.
    var byBundle = null;
    function find(query, order) {
      if (order !== "newest") return ready.then(function (pagefind) { return pagefind.search(query); });
      byBundle = byBundle || Promise.all(bundles.slice().reverse().map(function (bundle) {
        return import(new URL(bundle + "pagefind.js?newest", location.href).href).then(function (pagefind) {
          return pagefind.options({ excerptLength: 24 }).then(function () { return pagefind; });
        });
      }));
      return byBundle.then(function (all) {
        return Promise.all(all.map(function (pagefind) {
          return pagefind.search(query, { sort: { date: "desc" } });
        }));
      }).then(function (found) {
        return { results: [].concat.apply([], found.map(function (f) { return f.results; })) };
      });
    }
    var sort = document.getElementById("pd-sort");
    var latest = 0;
    // One search: Pagefind's results, read MAX * 2 at a time until MAX more hold every word.
    function run(query) {
      var ticket = ++latest;
      query = query.trim();
      if (!query) return show(list, [], "");
      var found = null, read = 0, kept = [], shown = 0;
      function more() {
        var wanted = shown + MAX;
        function step() {
          if (ticket !== latest) return null;
          if (kept.length >= wanted || read >= found.results.length) return kept;
          var batch = found.results.slice(read, read + MAX * 2);
          read += batch.length;
          return Promise.all(batch.map(function (r) { return r.data(); })).then(function (all) {
            all.forEach(function (data) {
              if (holdsEvery(query, (data.meta.title || "") + " " + data.content)) kept.push(data);
            });
            return step();
          });
        }
        return Promise.resolve(step()).then(function (done) {
          if (done === null || ticket !== latest) return;
          shown = Math.min(wanted, kept.length);
          show(list, kept.slice(0, shown), query,
               kept.length > shown || read < found.results.length, function () {
            more().catch(failed);
          });
        });
      }
      function failed() {
        if (ticket === latest) list.textContent = "Search could not load its index.";
      }
      var order = sort ? sort.value : "";
      find(query, order).then(function (results) {
        if (ticket !== latest) return;
        found = results;
        var url = new URL(location.href);
        url.searchParams.set("q", query);
        if (order) url.searchParams.set("sort", order);
        else url.searchParams.delete("sort");
        history.replaceState(null, "", url);
        return more();
      }).catch(failed);
    }
    var params = new URLSearchParams(location.search);
    var query = params.get("q") || "";
    input.value = query;
    if (sort) {
      sort.value = params.get("sort") === "newest" ? "newest" : "";
      sort.addEventListener("change", function () { again(); });
    }
    function again() { run(input.value); }
    var header = document.getElementById("pd-q");
    if (header) {
      // On this page the header's box searches as it is typed in too.
      header.value = query;
      header.addEventListener("input", function () { input.value = header.value; again(); });
      header.form.addEventListener("submit", function (event) { event.preventDefault(); again(); });
    }
    input.addEventListener("input", again);
    input.form.addEventListener("submit", function (event) { event.preventDefault(); again(); });
    again();
  }

  function start() {
    setUpScheme();
    setUpSlash();
    setUpFilter();
    setUpNew();
    setUpSearch();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
