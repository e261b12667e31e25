(o) => {
  const re = (s) => new RegExp(s, 'i');
  const footer = re(o.footer), nav = re(o.nav), header = re(o.header);
  const entryRe = new RegExp(o.entry.join('|'));
  const nudgeRe = new RegExp(o.nudge.join('|'), 'i');
  const adRe = new RegExp('(^|[-_\\s])(' + o.adMarkers.join('|') + ')([-_\\s0-9]|$)', 'i');
  const toolRe = new RegExp(Object.values(o.tools).flat().join('|'));
  const vw = window.innerWidth, vh = window.innerHeight;
  function cssPath(el) {
    if (el.id && document.querySelectorAll('#' + CSS.escape(el.id)).length === 1) return '#' + CSS.escape(el.id);
    const parts = [];
    for (let n = el; n && n.nodeType === 1 && n !== document.documentElement; n = n.parentElement) {
      if (n.id && document.querySelectorAll('#' + CSS.escape(n.id)).length === 1) { parts.unshift('#' + CSS.escape(n.id)); break; }
      let i = 1; for (let s = n.previousElementSibling; s; s = s.previousElementSibling) if (s.tagName === n.tagName) i++;
      parts.unshift(n.tagName.toLowerCase() + ':nth-of-type(' + i + ')');
    }
    return parts.join(' > ');
  }
  function visible(el) {
    if (!el.getClientRects().length) return false;
    const cs = getComputedStyle(el);
    return cs.visibility !== 'hidden' && cs.display !== 'none' && parseFloat(cs.opacity) > 0;
  }
  const regionCache = new Map();
  function inChrome(el) {  // header, navigation or footer
    const chain = [];
    let res = false;
    for (let n = el; n && n.nodeType === 1; n = n.parentElement) {
      if (regionCache.has(n)) { res = regionCache.get(n); break; }
      chain.push(n);
      const tag = n.tagName.toLowerCase();
      const m = ((n.getAttribute('class') || '') + ' ' + (n.id || '')).toLowerCase();
      if (tag === 'footer' || tag === 'nav' || tag === 'header' || footer.test(m) || nav.test(m) || header.test(m)) { res = true; break; }
      if (tag === 'body') break;
    }
    chain.forEach(n => regionCache.set(n, res));
    return res;
  }
  const normalLh = new Map();
  function lineRatio(cs) {
    const size = parseFloat(cs.fontSize);
    if (cs.lineHeight !== 'normal') return parseFloat(cs.lineHeight) / size;
    const key = cs.fontFamily + '|' + size;
    if (!normalLh.has(key)) {
      const d = document.createElement('div');
      d.style.cssText = 'position:absolute;visibility:hidden;line-height:normal;white-space:nowrap;padding:0;border:0;';
      d.style.fontFamily = cs.fontFamily; d.style.fontSize = cs.fontSize;
      d.textContent = '中文';
      document.body.appendChild(d); normalLh.set(key, d.getBoundingClientRect().height / size); d.remove();
    }
    return normalLh.get(key);
  }
  // Body text: visible text nodes outside header/nav/footer, weighted by characters.
  const sizes = [], ratios = [], small = [], tight = [];
  let chars = 0;
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const seenParents = new Set();
  for (let t = walker.nextNode(); t; t = walker.nextNode()) {
    const text = t.nodeValue.replace(/\s+/g, '');
    if (!text) continue;
    const el = t.parentElement;
    if (!el || ['SCRIPT', 'STYLE', 'NOSCRIPT', 'OPTION', 'TEMPLATE'].includes(el.tagName)) continue;
    if (inChrome(el) || !visible(el)) continue;
    const cs = getComputedStyle(el);
    const px = parseFloat(cs.fontSize), r = lineRatio(cs), n = text.length;
    chars += n; sizes.push([px, n]); ratios.push([r, n]);
    if (!seenParents.has(el)) {
      seenParents.add(el);
      if (px < o.minFont && small.length < 5) small.push({selector: cssPath(el), px, text: text.slice(0, 40)});
      if (r < o.minRatio && tight.length < 5) tight.push({selector: cssPath(el), ratio: Math.round(r * 100) / 100, text: text.slice(0, 40)});
    }
  }
  function wmedian(pairs) {
    if (!pairs.length) return null;
    pairs.sort((a, b) => a[0] - b[0]);
    const total = pairs.reduce((s, p) => s + p[1], 0);
    let acc = 0;
    for (const p of pairs) { acc += p[1]; if (acc * 2 >= total) return Math.round(p[0] * 100) / 100; }
    return pairs[pairs.length - 1][0];
  }
  const share = (pairs, lim) => pairs.length ? Math.round(1000 * pairs.filter(p => p[0] < lim).reduce((s, p) => s + p[1], 0) /
                                                          pairs.reduce((s, p) => s + p[1], 0)) / 1000 : 0;
  // Clickable things, their labels, and the 适老化 entry candidates among them.
  const clickable = 'a,button,[role=button],input[type=button],input[type=submit],[onclick],span,li,div,img';
  const entries = [], controls = [], nudges = [];
  const seenEntry = new Set();
  for (const el of document.querySelectorAll(clickable)) {
    const own = (el.tagName === 'IMG' ? (el.alt || el.title || '') :
                 ((el.innerText || '').trim() || el.getAttribute('title') || el.getAttribute('aria-label') || el.value || '')).trim();
    if (!own || own.length > 16 || !visible(el)) continue;
    const isCtl = el.matches('a,button,[role=button],input,[onclick]');
    if (isCtl) controls.push(own);
    if (entryRe.test(own) && own.replace(/[\s|｜·•()（）【】\[\]]/g, '').length <= o.entryMaxLen) {
      const target = el.closest('a,button,[role=button],input,[onclick]') || el;
      if (!seenEntry.has(target)) {
        seenEntry.add(target);
        entries.push({selector: cssPath(target), text: own, tag: target.tagName.toLowerCase(),
                      href: target.tagName === 'A' ? (target.getAttribute('href') || '') : ''});
      }
    }
    if (isCtl && nudgeRe.test(own)) nudges.push({selector: cssPath(el), text: own});
  }
  // Ads, floating windows (飘窗) and overlays.
  const ads = [], adEls = [];
  for (const el of document.querySelectorAll('body *')) {
    if (ads.length >= 10) break;
    if (!el.getClientRects().length) continue;
    const cs = getComputedStyle(el);
    if (cs.display === 'none' || cs.visibility === 'hidden') continue;
    const marker = ((el.getAttribute('class') || '') + ' ' + (el.id || ''));
    const label = (el.innerText || '').slice(0, 80);
    if (el.tagName === 'IFRAME') {
      const src = el.getAttribute('src') || '';
      if (o.adHosts.some(h => src.includes(h))) ads.push({selector: cssPath(el), kind: 'ad-iframe', src});
      continue;
    }
    if (!['fixed', 'absolute', 'sticky'].includes(cs.position)) continue;
    if (toolRe.test(label) || entryRe.test(label)) continue;  // the accessibility toolbar itself
    const r = el.getBoundingClientRect();
    if (r.width < 40 || r.height < 20) continue;
    const closeable = /关闭|×|✕/.test(label) && (el.querySelector('img,a,iframe') !== null);
    if (adRe.test(marker) || (closeable && r.width * r.height < 0.5 * vw * vh)) {
      if (!adEls.some(a => a.contains(el))) {
        adEls.push(el);
        ads.push({selector: cssPath(el), kind: adRe.test(marker) ? 'ad-marker' : 'floating-window', text: label.slice(0, 40),
                  position: cs.position});
      }
    }
  }
  // Overflow: sideways scrolling and text clipped by its box.
  const de = document.documentElement;
  const clipped = [];
  for (const el of document.querySelectorAll('body *')) {
    if (clipped.length >= 10) break;
    if (!el.childElementCount && (el.textContent || '').trim() && el.scrollWidth > el.clientWidth + 1 && el.clientWidth > 0) {
      const cs = getComputedStyle(el);
      if (['hidden', 'clip'].includes(cs.overflowX) || cs.textOverflow === 'ellipsis') {
        clipped.push({selector: cssPath(el), text: el.textContent.trim().slice(0, 40)});
      }
    }
  }
  let h = 0;
  const sig = de.outerHTML + '|' + de.className + '|' + document.body.className + '|' + (document.body.getAttribute('style') || '') +
              '|' + getComputedStyle(document.body).fontSize + '|' + (getComputedStyle(document.body).zoom || '');
  for (let i = 0; i < sig.length; i++) { h = (h * 31 + sig.charCodeAt(i)) | 0; }
  const bcs = getComputedStyle(document.body);
  const stable = [de.className, document.body.className, de.getAttribute('style') || '', document.body.getAttribute('style') || '',
                  bcs.fontSize, bcs.zoom || '', bcs.backgroundColor, bcs.color, wmedian(sizes.slice()), controls.length].join('|');
  return {url: location.href, chars, stable, font_px: wmedian(sizes), font_share_below: share(sizes, o.minFont), small,
          line_ratio: wmedian(ratios), line_share_below: share(ratios, o.minRatio), tight,
          entries: entries.slice(0, 8), controls, nudges: nudges.slice(0, 5), ads,
          scroll_width: de.scrollWidth, client_width: de.clientWidth, hscroll: de.scrollWidth > de.clientWidth + 1,
          clipped, hash: h, viewport: [vw, vh]};
}
