async (o) => {
  const axe = window.__govaudit_axe || window.axe;
  // Keep axe's other color-contrast options (large-text size, bold weight…); change only the ratios.
  const base = axe._audit.checks['color-contrast'].options;
  const options = Object.assign({}, base, {contrastRatio: {normal: Object.assign({}, base.contrastRatio.normal, {expected: o.normal}),
                                                            large: Object.assign({}, base.contrastRatio.large, {expected: o.large})}});
  const r = await axe.run(document, {runOnly: {type: 'rule', values: ['color-contrast']}, resultTypes: ['violations'],
                                     checks: {'color-contrast': {options}}});
  const v = r.violations[0];
  return {version: axe.version, count: v ? v.nodes.length : 0,
          nodes: v ? v.nodes.slice(0, 10).map(n => ({selector: n.target.join(' '), html: n.html, summary: n.failureSummary})) : []};
}
