// axe-core in the page. The page's CSP forbids injected scripts, so tests that audit call
// `page.setBypassCSP(true)` before navigating (Chromium); where that needs CDP (Firefox over
// WebDriver BiDi), axe's source is evaluated through the protocol instead, which CSP does not
// govern.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const AXE_PATH = require.resolve('axe-core/axe.min.js');

/** The serious and critical violations on the page as it is now. */
export async function seriousViolations(page) {
  await page.bringToFront(); // axe waits on animation frames, which background tabs never get
  const loaded = () => page.evaluate(() => typeof window.axe !== 'undefined');
  if (!(await loaded())) await page.addScriptTag({ path: AXE_PATH }).catch(() => {});
  if (!(await loaded())) await page.evaluate(readFileSync(AXE_PATH, 'utf8'));
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { resultTypes: ['violations'], rules: { 'color-contrast': { enabled: true } } });
    // Colour contrast is a serious-impact rule: make sure it really looked at the page.
    const contrast = [...r.passes, ...r.violations, ...r.incomplete].filter((x) => x.id === 'color-contrast');
    if (!contrast.some((x) => x.nodes.length > 0)) throw new Error('axe did not check colour contrast');
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 5),
    }));
  });
  return result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}
