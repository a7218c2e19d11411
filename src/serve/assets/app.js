// simsum's web page: a small hash-routed client of the JSON API (no libraries, no network
// beyond this server). Every text from the store is inserted as text, never as HTML.
(function () {
  'use strict';
  var main = document.getElementById('main');
  var KEY = 'simsum-api-key';

  function el(tag, attrs, kids) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === 'text') e.textContent = attrs[k];
      else if (k === 'on') Object.keys(attrs.on).forEach(function (ev) { e.addEventListener(ev, attrs.on[ev]); });
      else e.setAttribute(k, attrs[k]);
    });
    (kids || []).forEach(function (c) { if (c != null) e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c); });
    return e;
  }
  function show(nodes, title) {
    main.replaceChildren.apply(main, nodes);
    document.title = title ? title + ' · simsum' : 'simsum';
    main.focus();
  }
  function err(e) { return el('div', { 'class': 'err', role: 'alert', text: String(e.message || e) }); }
  function loading() { show([el('p', { 'class': 'muted', text: 'Loading…' })]); }

  function api(path, opts) {
    opts = opts || {};
    var headers = { 'Accept': 'application/json' };
    var key = sessionStorage.getItem(KEY);
    if (key) headers['Authorization'] = 'Bearer ' + key;
    if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
    return fetch(path, { method: opts.method || 'GET', headers: headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body) })
      .then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (j) {
          if (r.status === 401) { askKey(); throw new Error('This server needs an API key.'); }
          if (!r.ok) { var x = new Error((j.error && j.error.message) || ('HTTP ' + r.status)); x.status = r.status; throw x; }
          return j;
        });
      });
  }
  function askKey() {
    var input = el('input', { type: 'password', id: 'key', autocomplete: 'off' });
    show([el('form', { 'class': 'card', on: { submit: function (ev) {
      ev.preventDefault(); sessionStorage.setItem(KEY, input.value); route();
    } } }, [el('label', { 'for': 'key', text: 'API key: ' }), input, ' ', el('button', { type: 'submit', text: 'Use key' })])], 'API key');
    input.focus();
  }

  function docLine(doc, section) {
    var parts = [el('a', { href: '#/doc/' + encodeURIComponent(doc.id), text: doc.title })];
    if (doc.date) parts.push(' · ' + doc.date);
    if (section && section.heading) parts.push(' · ' + section.heading);
    return el('div', { 'class': 'meta' }, parts);
  }
  // The hit's text with its best-matching sentence (or aligned sentences) marked and the
  // query's terms in bold. Ranges arrive in UTF-8 bytes (as the API gives them): the text is
  // cut into slices at every boundary, in bytes, and each slice decoded on its own.
  var utf8 = new TextEncoder(), fromUtf8 = new TextDecoder();
  function byteAt(text, index) { return utf8.encode(text.slice(0, index)).length; }
  function highlighted(text, best, terms, aligned) {
    var p = el('p', { 'class': 'text' }), bytes = utf8.encode(text), marks = [];
    if (best) {
      var at = text.indexOf(best.text);
      if (at >= 0) marks.push({ s: byteAt(text, at), e: byteAt(text, at + best.text.length), title: 'best-matching sentence, score ' + best.score.toFixed(3) });
    }
    (aligned || []).forEach(function (a) {
      var at = text.indexOf(a.text);
      if (at >= 0) marks.push({ s: byteAt(text, at), e: byteAt(text, at + a.text.length), title: 'aligned sentence, cosine ' + a.score.toFixed(3) });
    });
    var cuts = [0, bytes.length];
    marks.forEach(function (m) { cuts.push(m.s, m.e); });
    (terms || []).forEach(function (t) { cuts.push(t.byte_range[0], t.byte_range[1]); });
    cuts = cuts.filter(function (c, i, a) { return c >= 0 && c <= bytes.length && a.indexOf(c) === i; }).sort(function (a, b) { return a - b; });
    for (var i = 0; i + 1 < cuts.length; i++) {
      var s = cuts[i], e = cuts[i + 1], piece = fromUtf8.decode(bytes.slice(s, e));
      var term = (terms || []).some(function (t) { return t.byte_range[0] <= s && e <= t.byte_range[1]; });
      var mark = marks.filter(function (m) { return m.s <= s && e <= m.e; })[0];
      var node = term ? el('strong', { 'class': 'term', text: piece }) : document.createTextNode(piece);
      if (mark) node = el('mark', { title: mark.title }, [node]);
      p.appendChild(node);
    }
    if (best && !marks.length) p.appendChild(el('div', {}, [el('mark', { text: best.text })]));
    return p;
  }
  function scoreTitle(h) {
    var w = h.why || {}, parts = [];
    if (w.dense != null) parts.push('cosine ' + w.dense.toFixed(3));
    if (w.lexical != null) parts.push('BM25 ' + w.lexical.toFixed(2));
    return parts.length ? parts.join(', ') : 'score';
  }
  function whyLine(h) {
    var w = h.why || {};
    var words = (w.terms || []).map(function (t) { return t.text; }).filter(function (t, i, a) { return a.indexOf(t) === i; });
    var parts = [];
    if (w.dense != null) parts.push('meaning ' + w.dense.toFixed(3));
    if (w.lexical != null) parts.push('words ' + w.lexical.toFixed(2));
    if (words.length) parts.push('contains ' + words.join(', '));
    return parts.length ? el('div', { 'class': 'why meta', text: 'Why: ' + parts.join(' · ') }) : null;
  }
  function alignedList(pairs) {
    if (!pairs || !pairs.length) return null;
    return el('ul', { 'class': 'aligned' }, pairs.map(function (a) {
      return el('li', {}, [el('span', { 'class': 'score', title: 'cosine of the two sentences', text: a.score.toFixed(3) }),
        el('q', { text: a['this'].text }), ' ↔ ', el('q', { text: a.that.text })]);
    }));
  }
  // Entity filters of a search, as in the URL: {country: [...], org: [...], year: [...]}.
  var KINDS = ['country', 'org', 'year'];
  function filtersFrom(params) {
    var f = {};
    KINDS.forEach(function (k) { f[k] = (params.get(k) || '').split(',').filter(Boolean); });
    return f;
  }
  function searchHash(q, level, f, mode) {
    var s = '#/search?q=' + encodeURIComponent(q) + '&level=' + level;
    if (mode && mode !== 'hybrid') s += '&mode=' + mode;
    KINDS.forEach(function (k) { if (f && f[k] && f[k].length) s += '&' + k + '=' + encodeURIComponent(f[k].join(',')); });
    return s;
  }
  function withFilter(f, kind, value, on) {
    var g = {};
    KINDS.forEach(function (k) { g[k] = (f[k] || []).filter(function (v) { return !(k === kind && v === value); }); });
    if (on) g[kind].push(value);
    return g;
  }
  // A hit's countries, organisations and years as chips; a chip filters the search by it.
  function entityChips(e, link) {
    if (!e) return null;
    var list = e.countries.map(function (c) { return ['country', c.code, c.name]; })
      .concat(e.organisations.map(function (o) { return ['org', o.acronym, o.acronym]; }))
      .concat(e.years.map(function (y) { return ['year', String(y), String(y)]; }));
    if (!list.length) return null;
    return el('div', { 'class': 'chips' }, list.map(function (x) {
      return el('a', { 'class': 'chip chip-' + x[0], href: link(x[0], x[1]), title: 'only results mentioning ' + x[2], text: x[2] });
    }));
  }
  function hitCard(h, link) {
    var aligned = ((h.why || {}).aligned || []).map(function (a) { return { text: a.that.text, score: a.score }; });
    return el('article', { 'class': 'card hit' }, [
      el('h3', {}, [el('span', { 'class': 'score', title: scoreTitle(h), text: h.score.toFixed(3) }),
        el('a', { href: '#/item/' + encodeURIComponent(h.id), text: h.id })]),
      docLine(h.doc, h.section), whyLine(h),
      highlighted(h.text, aligned.length ? null : h.best_sentence, (h.why || {}).terms, aligned),
      alignedList((h.why || {}).aligned), link ? entityChips(h.entities, link) : null]);
  }

  function search(q, level, mode, f) {
    f = f || {};
    document.getElementById('q').value = q;
    document.getElementById('level').value = level;
    document.getElementById('mode').value = mode;
    loading();
    var filters = { country: f.country || [], org: f.org || [], year: (f.year || []).map(Number) };
    var add = function (kind, value) { return searchHash(q, level, withFilter(f, kind, value, true), mode); };
    api('/v1/search', { method: 'POST', body: { query: q, level: level, mode: mode, k: 20, filters: filters } }).then(function (r) {
      var list = r.results.map(function (h) { return hitCard(h, add); });
      var active = [];
      KINDS.forEach(function (k) { (f[k] || []).forEach(function (v) {
        active.push(el('a', { 'class': 'chip chip-' + k + ' on', href: searchHash(q, level, withFilter(f, k, v, false), mode), title: 'remove this filter', text: v + ' ×' }));
      }); });
      show([el('h2', { text: r.results.length + ' results for “' + q + '”' }),
        active.length ? el('div', { 'class': 'chips', id: 'active-filters' }, active) : null].concat(
        list.length ? list : [el('p', { 'class': 'muted', text: 'No results.' })]).filter(Boolean), q);
    }).catch(function (e) { show([err(e)]); });
  }

  function item(id) {
    loading();
    Promise.all([api('/v1/items/' + encodeURIComponent(id)),
      api('/v1/items/' + encodeURIComponent(id) + '/similar?k=10&other_docs=true')]).then(function (rs) {
      var it = rs[0].item, sim = rs[1].results;
      show([el('article', { 'class': 'card', id: 'item' }, [el('h2', { text: it.id }), docLine(it.doc, it.section),
          el('p', { 'class': 'text', text: it.text })]),
        el('h2', { text: 'Similar initiatives in other documents' })].concat(
        sim.length ? sim.map(function (h) { return hitCard(h); }) : [el('p', { 'class': 'muted', text: 'None found.' })]), it.id);
    }).catch(function (e) { show([err(e)]); });
  }

  function documents() {
    loading();
    api('/v1/documents').then(function (r) {
      show([el('h2', { text: r.documents.length + ' documents' }), el('ul', {}, r.documents.map(function (d) {
        return el('li', {}, [el('a', { href: '#/doc/' + encodeURIComponent(d.id), text: d.title }),
          el('span', { 'class': 'muted', text: ' ' + d.id + (d.date ? ' · ' + d.date : '') })]);
      }))], 'Documents');
    }).catch(function (e) { show([err(e)]); });
  }

  function summaryBlock(s) {
    return el('div', { 'class': 'card sum' }, [el('strong', { text: 'Summary' })].concat(s.summary.map(function (x) {
      return el('p', {}, [x.text + ' ', el('a', { href: '#/item/' + encodeURIComponent(x.initiative), 'class': 'meta', text: '[' + x.initiative + ']' })]);
    })));
  }

  function doc(id) {
    loading();
    Promise.all([api('/v1/documents/' + encodeURIComponent(id)),
      api('/v1/summarize', { method: 'POST', body: { doc: id, sentences: 4 } }).catch(function () { return null; })]).then(function (rs) {
      var d = rs[0];
      var nodes = [el('h2', { text: d.title }), el('p', { 'class': 'meta', text: d.id + (d.date ? ' · ' + d.date : '') })];
      if (rs[1]) nodes.push(summaryBlock(rs[1]));
      d.sections.forEach(function (s) {
        nodes.push(el('section', { 'class': 'sec' }, [el('h3', { text: s.heading || '(introduction)' })].concat(
          s.initiatives.map(function (i) {
            return el('div', { 'class': 'init' }, [el('a', { 'class': 'id', href: '#/item/' + encodeURIComponent(i.id), text: i.id + (i.boilerplate ? ' (boilerplate)' : '') }),
              el('p', { text: i.text })]);
          }))));
      });
      show(nodes, d.title);
    }).catch(function (e) { show([err(e)]); });
  }

  function drawMap(canvas, m, tip) {
    var cx = canvas.getContext('2d'), W = canvas.width, H = canvas.height, pad = 24, sel = -1;
    function sx(x) { return pad + (x + 1) / 2 * (W - 2 * pad); }
    function sy(y) { return H - pad - (y + 1) / 2 * (H - 2 * pad); }
    function colour(t) { return t < 0 ? m.grey : m.themes[t].colour; }
    function draw() {
      cx.fillStyle = '#fff'; cx.fillRect(0, 0, W, H);
      m.points.forEach(function (p) { cx.fillStyle = colour(p[2]); cx.globalAlpha = p[2] < 0 ? 0.5 : 0.85;
        cx.beginPath(); cx.arc(sx(p[0]), sy(p[1]), 3.5, 0, 7); cx.fill(); });
      cx.globalAlpha = 1; cx.font = 'bold 12px system-ui'; cx.fillStyle = '#111';
      m.themes.forEach(function (t) { cx.fillText('#' + t.id + ' ' + t.title, sx(t.x) + 6, sy(t.y)); });
      if (sel >= 0) { var p = m.points[sel]; cx.strokeStyle = '#000'; cx.lineWidth = 2; cx.beginPath(); cx.arc(sx(p[0]), sy(p[1]), 7, 0, 7); cx.stroke(); }
    }
    function pick(i) { sel = i; draw(); tip.textContent = m.ids[i] + ': ' + m.texts[i]; }
    function nearest(ev) {
      var r = canvas.getBoundingClientRect(), x = (ev.clientX - r.left) * W / r.width, y = (ev.clientY - r.top) * H / r.height, best = -1, bd = 100;
      m.points.forEach(function (p, i) { var d = Math.pow(sx(p[0]) - x, 2) + Math.pow(sy(p[1]) - y, 2); if (d < bd) { bd = d; best = i; } });
      return best;
    }
    canvas.addEventListener('mousemove', function (ev) { var i = nearest(ev); if (i >= 0) pick(i); });
    canvas.addEventListener('click', function (ev) { var i = nearest(ev); if (i >= 0) location.hash = '#/item/' + encodeURIComponent(m.ids[i]); });
    canvas.addEventListener('keydown', function (ev) {
      if (!m.points.length) return;
      if (ev.key === 'ArrowRight' || ev.key === 'ArrowDown') { pick((sel + 1) % m.points.length); ev.preventDefault(); }
      else if (ev.key === 'ArrowLeft' || ev.key === 'ArrowUp') { pick((sel - 1 + m.points.length) % m.points.length); ev.preventDefault(); }
      else if (ev.key === 'Enter' && sel >= 0) location.hash = '#/item/' + encodeURIComponent(m.ids[sel]);
    });
    draw();
  }

  // A theme's members per period (`over`), as bars on the periods every theme shares.
  function overChart(over, colour) {
    var max = Math.max.apply(null, over.map(function (p) { return p.items; }).concat([1]));
    return el('div', { 'class': 'over', role: 'img', 'aria-label': 'members per period: ' +
      over.map(function (p) { return p.period + ' ' + p.items; }).join(', ') }, over.map(function (p) {
      var b = el('b'); b.style.height = Math.ceil(p.items * 48 / max) + 'px'; b.style.background = colour;
      return el('div', { title: p.period + ': ' + p.items + ' items' }, [b, el('span', { text: p.period })]);
    }));
  }
  // What became of a theme since the last report, as the text report says it; '' from scratch.
  function changeNote(rep, t) {
    if (!rep.lineage || rep.lineage.compared_with === null || rep.lineage.compared_with === undefined) return '';
    var ids = function (xs) { return xs.map(function (i) { return '#' + i; }).join(', '); };
    var from = t.from || [];
    if (t.change === 'merged' || t.change === 'split') return t.change + ' from ' + ids(from);
    if ((t.change === 'kept' || t.change === 'grown') && from.length > 1) return t.change + ', with members of ' + ids(from.slice(1));
    return t.change || '';
  }
  function changesLine(rep) {
    var l = rep.lineage;
    if (!l || l.compared_with === null || l.compared_with === undefined) return null;
    var counts = ['kept', 'grown', 'new', 'merged', 'split'].map(function (c) {
      var n = rep.themes.filter(function (t) { return t.change === c; }).length;
      return n ? n + ' ' + c : '';
    }).filter(Boolean);
    var line = 'Since the last report: ' + (counts.join(', ') || 'no themes');
    if (l.gone && l.gone.length) line += '; gone: ' + l.gone.map(function (g) { return '#' + g.id + ' ' + g.title + ' (' + g.size + ' items)'; }).join(', ');
    return el('p', { 'class': 'muted changes', text: line });
  }
  function themeCard(t, k, colour, rep) {
    var note = changeNote(rep, t);
    var head = [el('span', { text: '#' + t.id + ' ' + t.title })];
    if (note) head.push(el('span', { 'class': 'change ' + t.change, text: note }));
    var nodes = [el('h3', {}, head),
      el('div', { 'class': 'meta', text: t.size + ' items · cohesion ' + t.cohesion.toFixed(2) + ' · ' +
        t.documents.map(function (d) { return d.title + ' (' + d.items + ')'; }).join(', ') }),
      el('div', { 'class': 'kp' }, t.keyphrases.map(function (p) { return el('span', { text: p }); }))];
    if (t.summary && t.summary.length) nodes.push(el('p', { 'class': 'sum', text: t.summary.map(function (s) { return s.text; }).join(' ') }));
    if (t.over && t.over.length) nodes.push(overChart(t.over, colour));
    t.representatives.forEach(function (r) {
      nodes.push(el('div', { 'class': 'rep' }, [el('a', { href: '#/item/' + encodeURIComponent(r.id), text: r.id }), ' · ' + r.document + ': ' + r.text]));
    });
    var card = el('article', { 'class': 'card theme' }, nodes);
    card.style.borderLeftColor = colour;
    return card;
  }

  function themes() {
    loading();
    Promise.all([api('/v1/themes'), api('/v1/themes/map')]).then(function (rs) {
      var rep = rs[0], m = rs[1];
      var canvas = el('canvas', { id: 'map', width: 640, height: 500, tabindex: 0,
        'aria-label': '2-D map of the items coloured by theme; arrow keys move between items, Enter opens one' });
      var tip = el('div', { id: 'tip', 'class': 'muted', text: 'Point at (or arrow to) an item to read it.' });
      var legend = el('div', { 'class': 'legend' }, m.themes.map(function (t) {
        var i = el('i'); i.style.background = t.colour; return el('span', {}, [i, '#' + t.id + ' ' + t.title]);
      }));
      var recluster = el('button', { type: 'button', text: 'Cluster again', on: { click: function () {
        recluster.disabled = true; api('/v1/themes', { method: 'POST', body: { over: 'year' } }).then(themes).catch(function (e) { show([err(e)]); });
      } } });
      var fresh = el('button', { type: 'button', text: 'Cluster from scratch', title: 'New theme ids, ignoring the last report', on: { click: function () {
        fresh.disabled = true; api('/v1/themes', { method: 'POST', body: { over: 'year', fresh: true } }).then(themes).catch(function (e) { show([err(e)]); });
      } } });
      var head = [el('h2', { text: rep.themes.length + ' themes over ' + rep.params.items + ' items' })];
      var changes = changesLine(rep);
      if (changes) head.push(changes);
      show(head.concat([recluster, fresh,
        el('div', { 'class': 'themes' }, [el('div', { id: 'mapbox' }, [canvas, legend, tip]),
          el('div', { id: 'theme-list' }, rep.themes.map(function (t, k) { return themeCard(t, k, m.themes[k] ? m.themes[k].colour : '#999', rep); }))])]), 'Themes');
      drawMap(canvas, m, tip);
    }).catch(function (e) {
      if (e.status === 404) {
        var b = el('button', { type: 'button', text: 'Find themes now', on: { click: function () {
          b.disabled = true; api('/v1/themes', { method: 'POST', body: { over: 'year' } }).then(themes).catch(function (e2) { show([err(e2)]); });
        } } });
        show([el('p', { text: 'No theme report yet.' }), b], 'Themes'); b.focus();
      } else show([err(e)]);
    });
  }

  function upload() {
    var name = el('input', { type: 'text', id: 'up-name', required: 'required', placeholder: 'report-2024.md' });
    var format = el('select', { id: 'up-format' }, ['', 'text', 'markdown', 'html', 'jsonl'].map(function (f) {
      return el('option', { value: f, text: f || 'from the name' }); }));
    var text = el('textarea', { id: 'up-text', required: 'required' });
    var file = el('input', { type: 'file', id: 'up-file', accept: '.txt,.md,.markdown,.html,.htm,.jsonl', on: { change: function () {
      var f = file.files[0]; if (!f) return; if (!name.value) name.value = f.name;
      f.text().then(function (t) { text.value = t; });
    } } });
    var out = el('div', { id: 'up-result', role: 'status' });
    var form = el('form', { 'class': 'card', id: 'upload-form', on: { submit: function (ev) {
      ev.preventDefault(); out.textContent = 'Indexing…';
      var body = { name: name.value, text: text.value };
      if (format.value) body.format = format.value;
      api('/v1/documents', { method: 'POST', body: body }).then(function (r) {
        var s = r.stats;
        out.replaceChildren(el('p', {}, ['Indexed ', el('a', { href: '#/doc/' + encodeURIComponent(r.documents[0]), text: r.documents.join(', ') }),
          ': ' + (s.initiatives.added + s.initiatives.updated) + ' initiatives embedded or changed, ' + r.counts.documents + ' documents stored.']));
      }).catch(function (e) { out.replaceChildren(err(e)); });
    } } }, [
      el('div', { 'class': 'form-row' }, [el('label', { 'for': 'up-file', text: 'File (optional)' }), file]),
      el('div', { 'class': 'form-row' }, [el('label', { 'for': 'up-name', text: 'Name' }), name]),
      el('div', { 'class': 'form-row' }, [el('label', { 'for': 'up-format', text: 'Format' }), format]),
      el('div', { 'class': 'form-row' }, [el('label', { 'for': 'up-text', text: 'Text' }), text]),
      el('button', { type: 'submit', text: 'Index document' }), out]);
    show([el('h2', { text: 'Upload a document' }), form], 'Upload');
    name.focus();
  }

  function route() {
    var h = location.hash.replace(/^#\/?/, '');
    var q = h.indexOf('?'), path = q < 0 ? h : h.slice(0, q), params = new URLSearchParams(q < 0 ? '' : h.slice(q + 1));
    var parts = path.split('/'), rest = decodeURIComponent(parts.slice(1).join('/'));
    if (parts[0] === 'search') search(params.get('q') || '', params.get('level') || 'initiative', params.get('mode') || 'hybrid', filtersFrom(params));
    else if (parts[0] === 'item') item(rest);
    else if (parts[0] === 'documents') documents();
    else if (parts[0] === 'doc') doc(rest);
    else if (parts[0] === 'themes') themes();
    else if (parts[0] === 'upload') upload();
    else show([el('p', { 'class': 'muted', text: 'Type a question above, or open the documents or themes.' })]);
  }

  document.getElementById('search-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var q = document.getElementById('q').value.trim(); if (!q) return;
    location.hash = '#/search?q=' + encodeURIComponent(q) + '&level=' + document.getElementById('level').value +
      '&mode=' + document.getElementById('mode').value;
  });
  document.addEventListener('keydown', function (ev) {
    var t = ev.target.tagName;
    if (ev.key === '/' && t !== 'INPUT' && t !== 'TEXTAREA' && t !== 'SELECT') { ev.preventDefault(); document.getElementById('q').focus(); }
  });
  window.addEventListener('hashchange', route);
  api('/v1/info').then(function (i) {
    document.getElementById('info').textContent = i.counts.documents + ' documents, ' + i.counts.initiatives +
      ' initiatives · model ' + i.model.name + ' (' + i.dimension + '-d, ' + i.dtype + ') · generation ' + i.generation;
  }).catch(function () {});
  route();
})();
