/**
 * The status page's script: polls `snapshot.json` next to the page, keeps each
 * endpoint's latency history across polls (merged with the server's ring), and
 * re-renders with DOM calls only: every value from a snapshot goes through
 * `textContent` or a `data-*` attribute, never through HTML parsing, so endpoint
 * ids, zones and errors from a registry cannot inject markup.
 * @internal
 */
export const PAGE_SCRIPT = String.raw`
(function () {
  'use strict';
  var body = document.body;
  var refreshMs = Number(body.getAttribute('data-refresh-ms')) || 1000;
  var KEEP = 120;
  var SVG = 'http://www.w3.org/2000/svg';
  var path = location.pathname;
  if (/\/index\.html$/.test(path)) path = path.slice(0, -'index.html'.length);
  if (path.charAt(path.length - 1) !== '/') path += '/';
  var url = path + 'snapshot.json';
  var main = document.getElementById('clients');
  var live = document.getElementById('live');
  var connText = document.getElementById('conn-text');
  var series = new Map();
  var polls = 0;
  var timer = 0;

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function svg(tag, attrs) {
    var node = document.createElementNS(SVG, tag);
    for (var k in attrs) node.setAttribute(k, String(attrs[k]));
    return node;
  }
  function num(v) { return typeof v === 'number' && isFinite(v); }
  function fmtMs(v) {
    if (!num(v)) return '\u2014';
    if (v < 1) return v.toFixed(2) + ' ms';
    if (v < 100) return v.toFixed(1) + ' ms';
    if (v < 10000) return Math.round(v) + ' ms';
    return (v / 1000).toFixed(1) + ' s';
  }
  function fmtDur(ms) {
    if (!num(ms)) return '\u2014';
    if (ms < 1000) return Math.round(ms) + ' ms';
    var s = ms / 1000;
    if (s < 90) return (s < 10 ? s.toFixed(1) : Math.round(s)) + ' s';
    if (s < 5400) return Math.round(s / 60) + ' min';
    return Math.round(s / 3600) + ' h';
  }
  function fmtNum(v, digits) { return num(v) ? v.toFixed(digits) : '\u2014'; }
  function pct(v) { return num(v) ? (v * 100).toFixed(v > 0 && v < 0.1 ? 1 : 0) + '%' : '\u2014'; }

  function stateOf(e) {
    if (e.ejected) {
      var why = [];
      if (e.ejectionReason) why.push(String(e.ejectionReason));
      if (num(e.ejectedForMs)) why.push('back in ' + fmtDur(e.ejectedForMs));
      return { state: 'ejected', tone: 'bad', label: 'ejected', why: why.join(' \u00b7 ') };
    }
    if (e.circuit === 'open') return { state: 'circuit-open', tone: 'bad', label: 'circuit open', why: 'endpoint breaker' };
    if (e.circuit === 'half-open') return { state: 'half-open', tone: 'warn', label: 'half-open', why: 'endpoint breaker trial' };
    if (!e.available) return { state: 'unavailable', tone: 'warn', label: 'not available', why: '' };
    if (num(e.slowStartFactor)) return { state: 'slow-start', tone: 'warn', label: 'slow start', why: Math.round(e.slowStartFactor * 100) + '% of weight' };
    return { state: 'healthy', tone: 'ok', label: 'healthy', why: '' };
  }

  /** Appends the server's new samples (or, without any, the snapshot's value) to the page's own history. */
  function track(key, endpoint, samples, at) {
    var s = series.get(key);
    if (!s) { s = { t: [], v: [] }; series.set(key, s); }
    var last = s.t.length ? s.t[s.t.length - 1] : -Infinity;
    var added = false;
    if (Array.isArray(samples)) {
      for (var i = 0; i < samples.length; i++) {
        var p = samples[i];
        if (Array.isArray(p) && num(p[0]) && p[0] > last) {
          s.t.push(p[0]); s.v.push(num(p[1]) ? p[1] : null); last = p[0]; added = true;
        }
      }
    }
    if (!added && at > last) { s.t.push(at); s.v.push(num(endpoint.latencyMs) ? endpoint.latencyMs : null); }
    while (s.t.length > KEEP) { s.t.shift(); s.v.shift(); }
    return s;
  }

  function sparkline(s) {
    var W = 150, H = 30, P = 3;
    var node = svg('svg', { width: W, height: H, viewBox: '0 0 ' + W + ' ' + H, class: 'spark', role: 'img' });
    var vals = s.v, n = vals.length, max = 0, min = Infinity, i;
    for (i = 0; i < n; i++) if (vals[i] !== null) { if (vals[i] > max) max = vals[i]; if (vals[i] < min) min = vals[i]; }
    var title = svg('title', {});
    node.appendChild(title);
    if (min === Infinity) {
      title.textContent = 'no latency estimate yet';
      node.setAttribute('aria-label', title.textContent);
      node.appendChild(svg('line', { class: 'base', x1: P, y1: H - P, x2: W - P, y2: H - P }));
      return node;
    }
    title.textContent = 'latency ' + fmtMs(min) + ' \u2013 ' + fmtMs(max) + ' over ' + n + ' samples';
    node.setAttribute('aria-label', title.textContent);
    var top = max > 0 ? max * 1.15 : 1;
    var step = (W - 2 * P) / (Math.max(n, 30) - 1);
    function x(j) { return (W - P - (n - 1 - j) * step).toFixed(1); }
    function y(v) { return (H - P - (H - 2 * P) * (v / top)).toFixed(1); }
    var line = '', area = '', open = false, startX = '0', lastX = '0', lastY = '0';
    for (i = 0; i < n; i++) {
      var v = vals[i];
      if (v === null) {
        if (open) area += 'L' + lastX + ' ' + (H - P) + 'L' + startX + ' ' + (H - P) + 'Z';
        open = false;
        continue;
      }
      lastX = x(i); lastY = y(v);
      if (!open) { startX = lastX; line += 'M' + lastX + ' ' + lastY; area += 'M' + lastX + ' ' + (H - P) + 'L' + lastX + ' ' + lastY; open = true; }
      else { line += 'L' + lastX + ' ' + lastY; area += 'L' + lastX + ' ' + lastY; }
    }
    if (open) area += 'L' + lastX + ' ' + (H - P) + 'L' + startX + ' ' + (H - P) + 'Z';
    node.appendChild(svg('line', { class: 'base', x1: P, y1: H - P, x2: W - P, y2: H - P }));
    node.appendChild(svg('path', { class: 'area', d: area }));
    node.appendChild(svg('path', { class: 'line', d: line }));
    if (vals[n - 1] !== null) node.appendChild(svg('circle', { class: 'last', cx: lastX, cy: lastY, r: 2.4 }));
    return node;
  }

  function badge(tone, label, text, kind, full) {
    var b = el('span', 'badge ' + tone);
    if (kind) b.setAttribute('data-kind', kind);
    b.appendChild(el('b', null, label));
    if (text) b.appendChild(el('span', null, text));
    if (full) b.title = full;
    return b;
  }

  function policyBadge(p) {
    var s = p.state || {};
    var full = p.state ? JSON.stringify(p.state) : '';
    var name = String(p.name);
    switch (s.kind) {
      case 'circuit-breaker':
        return badge(s.state === 'open' ? 'bad' : s.state === 'half-open' ? 'warn' : 'ok', name,
          s.state + ' \u00b7 ' + pct(s.errorRate) + ' of ' + s.calls + ' failed' + (s.state === 'open' ? ' \u00b7 trial in ' + fmtDur(s.retryAfterMs) : '') +
          (s.rejected ? ' \u00b7 ' + s.rejected + ' refused' : ''), s.kind, full);
      case 'bulkhead':
        return badge(s.active >= s.maxConcurrent ? 'warn' : 'ok', name,
          s.active + '/' + s.maxConcurrent + ' active' + (s.maxQueue ? ' \u00b7 ' + s.queued + '/' + s.maxQueue + ' queued' : '') +
          (s.rejected ? ' \u00b7 ' + s.rejected + ' rejected' : ''), s.kind, full);
      case 'adaptive-concurrency':
        return badge(s.inFlight >= s.limit ? 'warn' : 'ok', 'limit ' + s.limit,
          s.inFlight + ' in flight \u00b7 ' + s.algorithm + (s.rejected ? ' \u00b7 ' + s.rejected + ' rejected' : ''), s.kind, full);
      case 'adaptive-throttle':
        return badge(s.probability > 0.5 ? 'bad' : s.probability > 0 ? 'warn' : 'ok', 'throttle',
          pct(s.probability) + ' shed \u00b7 ' + s.accepts + '/' + s.requests + ' accepted', s.kind, full);
      case 'rate-limit':
        return badge(s.tokens < 1 ? 'warn' : 'ok', 'rate limit',
          fmtNum(s.tokens, 1) + '/' + s.burst + ' tokens \u00b7 ' + s.rate + ' per ' + fmtDur(s.perMs) + (s.waiting ? ' \u00b7 ' + s.waiting + ' waiting' : ''), s.kind, full);
      case 'fault-injection':
        return badge(s.active && (s.delayPercent > 0 || s.abortPercent > 0) ? 'warn' : 'info', 'fault injection',
          'delay ' + s.delayPercent + '% \u00b7 abort ' + s.abortPercent + '%', s.kind, full);
      case 'fallback':
        return badge('info', 'fallback', s.substituted + ' substituted', s.kind, full);
      default: {
        var parts = [];
        for (var k in s) if (parts.length < 4 && (typeof s[k] === 'number' || typeof s[k] === 'string' || typeof s[k] === 'boolean')) parts.push(k + ' ' + s[k]);
        return badge('info', name, parts.join(' \u00b7 '), s.kind ? String(s.kind) : null, full);
      }
    }
  }

  function row(c, e, at, maxInFlight) {
    var st = stateOf(e);
    var tr = el('tr');
    tr.setAttribute('data-endpoint', e.id);
    tr.setAttribute('data-state', st.state);
    var state = el('td', 'c-state');
    state.appendChild(el('span', 'pill ' + st.tone, st.label));
    if (st.why) state.appendChild(el('span', 'why', st.why));
    tr.appendChild(state);
    tr.appendChild(el('td', 'c-id', e.id));
    tr.appendChild(el('td', 'c-zone', e.zone || '\u2014'));
    var inflight = el('td', 'c-inflight num', num(e.inFlight) ? e.inFlight : '\u2014');
    if (num(e.inFlight) && maxInFlight > 0) {
      var bar = el('span', 'bar'), fill = el('i');
      fill.style.width = Math.round((e.inFlight / maxInFlight) * 100) + '%';
      bar.appendChild(fill);
      inflight.appendChild(bar);
    }
    tr.appendChild(inflight);
    tr.appendChild(el('td', 'c-latency num', fmtMs(e.latencyMs)));
    var trend = el('td', 'c-trend');
    trend.appendChild(sparkline(track(c.key + '\u0000' + e.id, e, c.history ? c.history[e.id] : null, at)));
    tr.appendChild(trend);
    tr.appendChild(el('td', 'c-load num', fmtNum(e.load, 2)));
    tr.appendChild(el('td', 'c-weight num', e.weight));
    return tr;
  }

  // The client's mTLS identity: what it presents, until when, and whether its source is failing.
  function identityRow(id) {
    var row = el('div', 'identity');
    row.setAttribute('data-spiffe-id', id.spiffeId || '');
    var expired = num(id.expiresInMs) && id.expiresInMs <= 0;
    row.setAttribute('data-state', !id.spiffeId ? 'not-loaded' : expired ? 'expired' : id.stale ? 'stale' : 'ok');
    row.appendChild(document.createTextNode('identity '));
    row.appendChild(el('span', 'src', id.spiffeId || 'not loaded yet'));
    row.appendChild(document.createTextNode(' \u00b7 ' + id.kind + ' \u00b7 calls ' + id.peerService + ' '));
    if (num(id.expiresInMs)) {
      var until = el('span', expired ? 'expiry expired' : 'expiry',
        (expired ? 'expired ' + fmtDur(-id.expiresInMs) + ' ago' : 'expires in ' + fmtDur(id.expiresInMs)) + ' (' + id.notAfter + ')');
      until.setAttribute('data-not-after', id.notAfter);
      row.appendChild(until);
    }
    if (id.stale) row.appendChild(el('span', 'stale', ' \u26a0 stale' + (id.lastError ? ': ' + id.lastError : '')));
    return row;
  }

  function client(c, at) {
    var sec = el('section', 'client' + (c.closed ? ' closed' : ''));
    sec.setAttribute('data-service', c.service);
    sec.setAttribute('data-key', c.key);
    var head = el('div', 'client-head');
    var titleRow = el('div', 'title-row');
    titleRow.appendChild(el('h2', null, c.key));
    var healthy = 0, ejected = 0, other = 0, maxInFlight = 0;
    c.endpoints.forEach(function (e) {
      var s = stateOf(e).state;
      if (s === 'healthy') healthy++; else if (s === 'ejected' || s === 'circuit-open') ejected++; else other++;
      if (num(e.inFlight) && e.inFlight > maxInFlight) maxInFlight = e.inFlight;
    });
    var counts = el('span', 'counts');
    counts.appendChild(el('span', 'count ok', healthy + ' healthy'));
    if (ejected) counts.appendChild(el('span', 'count bad', ejected + ' out of rotation'));
    if (other) counts.appendChild(el('span', 'count warn', other + ' ramping / unavailable'));
    titleRow.appendChild(counts);
    head.appendChild(titleRow);

    var d = c.discovery || {};
    var disc = el('div', 'discovery');
    disc.appendChild(document.createTextNode('discovery '));
    disc.appendChild(el('span', 'src', d.source));
    disc.appendChild(document.createTextNode(' \u00b7 ' + d.endpoints + ' endpoint' + (d.endpoints === 1 ? '' : 's') +
      ' \u00b7 ' + (num(d.ageMs) ? 'set changed ' + fmtDur(d.ageMs) + ' ago' : 'no set yet') + ' '));
    if (d.stale) disc.appendChild(el('span', 'stale', '\u26a0 stale' + (d.lastError ? ': ' + d.lastError : '')));
    head.appendChild(disc);
    if (c.identity) head.appendChild(identityRow(c.identity));

    var badges = el('div', 'badges');
    if (c.closed) badges.appendChild(badge('info', 'closed', '', null, ''));
    badges.appendChild(badge('info', 'calls', c.activeCalls + ' in flight', 'calls', ''));
    if (num(c.retryBudgetRemaining)) badges.appendChild(badge(c.retryBudgetRemaining > 0 ? 'ok' : 'bad', 'retry budget', c.retryBudgetRemaining + ' left', 'retry-budget', ''));
    if (num(c.hedgeBudgetRemaining)) badges.appendChild(badge(c.hedgeBudgetRemaining > 0 ? 'ok' : 'bad', 'hedge budget', c.hedgeBudgetRemaining + ' left', 'hedge-budget', ''));
    (c.policies || []).forEach(function (p) { badges.appendChild(policyBadge(p)); });
    head.appendChild(badges);
    sec.appendChild(head);

    var table = el('table');
    var thead = el('thead'), hr = el('tr');
    [['State', ''], ['Endpoint', ''], ['Zone', ''], ['In flight', 'num'], ['Latency', 'num'], ['Trend', ''], ['Load', 'num'], ['Weight', 'num']]
      .forEach(function (h) { hr.appendChild(el('th', h[1] || null, h[0])); });
    thead.appendChild(hr);
    table.appendChild(thead);
    var tbody = el('tbody');
    c.endpoints.forEach(function (e) { tbody.appendChild(row(c, e, at, maxInFlight)); });
    if (c.endpoints.length === 0) {
      var none = el('tr', 'more'), td = el('td', null, 'no endpoints yet');
      td.colSpan = 8; none.appendChild(td); tbody.appendChild(none);
    }
    if (c.omittedEndpoints > 0) {
      var more = el('tr', 'more'), td2 = el('td', null, c.omittedEndpoints + ' more endpoints not shown');
      td2.colSpan = 8; more.appendChild(td2); tbody.appendChild(more);
    }
    table.appendChild(tbody);
    sec.appendChild(table);
    return sec;
  }

  function render(doc) {
    var at = Date.parse(doc.takenAt);
    var seen = new Set();
    var sections = doc.clients.map(function (c) {
      c.endpoints.forEach(function (e) { seen.add(c.key + '\u0000' + e.id); });
      return client(c, at);
    });
    // Forget endpoints and clients that are gone: the page's memory is bounded like the server's.
    series.forEach(function (_, key) { if (!seen.has(key)) series.delete(key); });
    if (sections.length === 0) sections.push(el('p', 'empty', 'No live meshkit clients in this process.'));
    if (doc.omittedClients > 0) sections.push(el('p', 'empty', doc.omittedClients + ' more clients not shown'));
    main.replaceChildren.apply(main, sections);
  }

  function connected(ok, text) {
    live.className = 'dot ' + (ok ? 'ok' : 'bad');
    connText.textContent = text;
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(poll, refreshMs);
  }

  function poll() {
    if (document.hidden) { schedule(); return; }
    fetch(url, { cache: 'no-store', headers: { accept: 'application/json' } })
      .then(function (res) {
        if (!res.ok) throw new Error('HTTP ' + res.status);
        return res.json();
      })
      .then(function (doc) {
        render(doc);
        polls++;
        body.setAttribute('data-polls', String(polls));
        connected(true, 'live \u00b7 ' + new Date(doc.takenAt).toLocaleTimeString());
      })
      .catch(function (error) {
        connected(false, 'disconnected, retrying (' + (error && error.message ? error.message : String(error)) + ')');
      })
      .then(schedule);
  }

  document.addEventListener('visibilitychange', function () { if (!document.hidden) poll(); });
  poll();
})();
`;
