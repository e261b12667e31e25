async (o) => {
  const axe = window.__govaudit_axe || window.axe;
  if (!axe) { return {error: 'axe-core not present in the page'}; }
  const options = {resultTypes: ['violations', 'incomplete'], runOnly: {type: 'tag', values: o.tags},
                   iframes: true, frameWaitTime: 3000, performanceTimer: false,
                   selectors: true, ancestry: false, xpath: false, elementRef: false};
  if (o.disable.length) { options.rules = Object.fromEntries(o.disable.map(id => [id, {enabled: false}])); }
  const r = await axe.run(document, options);
  const trim = (list) => list.map(v => ({
    id: v.id, impact: v.impact, count: v.nodes.length,
    nodes: v.nodes.slice(0, o.maxNodes).map(n => ({target: n.target, html: n.html, impact: n.impact,
      summary: n.failureSummary || [...(n.any || []), ...(n.all || []), ...(n.none || [])].map(c => c.message).filter(Boolean).join('\n')}))}));
  return {version: axe.version, url: location.href, contentType: document.contentType, marked: window.__govaudit_doc === true,
          violations: trim(r.violations), incomplete: trim(r.incomplete)};
}
