// Drives simsum serve's web page in headless Chromium, as a person would with the keyboard and
// mouse: search, filter by an entity chip, open an initiative and its similar ones, open the themes map, upload a
// document and find it. Screenshots go to OUT_DIR. Usage: node run.mjs BASE_URL OUT_DIR
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';

const [base, out] = process.argv.slice(2);
if (!base || !out) { console.error('usage: node run.mjs BASE_URL OUT_DIR'); process.exit(2); }
mkdirSync(out, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
const page = await browser.newPage({ viewport: { width: 1366, height: 800 } });
const errors = [];
page.on('pageerror', (e) => errors.push(String(e)));
// A 404 is an answer the page handles (no theme report yet; no favicon): Chromium logs it as a
// console error, so those are left out; any server error fails the test.
page.on('console', (m) => { if (m.type() === 'error' && !/status of 404/.test(m.text())) errors.push(m.text()); });
page.on('response', (r) => { if (r.status() >= 500) errors.push(`${r.status()} from ${r.url()}`); });
// No request may leave the server (no CDN, no fonts from elsewhere).
page.on('request', (r) => { if (!r.url().startsWith(base)) errors.push('off-server request: ' + r.url()); });
const shot = (name) => page.screenshot({ path: `${out}/${name}.png`, fullPage: false });
const step = (s) => console.log('step: ' + s);

try {
  step('search from the keyboard');
  await page.goto(base + '/');
  await page.keyboard.press('/');
  await page.keyboard.type('international cooperation of chambers of commerce');
  await page.keyboard.press('Enter');
  await page.waitForSelector('article.hit');
  const hits = await page.locator('article.hit').count();
  if (hits < 3) throw new Error(`only ${hits} results`);
  const marked = await page.locator('article.hit mark').count();
  if (marked < 1) throw new Error('no best sentence highlighted');
  // Hybrid search: the query's words in bold, and why each hit matched.
  const terms = await page.locator('article.hit strong.term').allInnerTexts();
  if (!terms.some((t) => /chamber|commerce|cooperation|international/i.test(t))) {
    throw new Error('no query term highlighted: ' + JSON.stringify(terms.slice(0, 5)));
  }
  if ((await page.locator('article.hit .why').count()) < 1) throw new Error('no why line');
  const first = await page.locator('article.hit').first().innerText();
  if (!/\d\.\d{3}/.test(first)) throw new Error('no score shown: ' + first);
  await shot('1-search');

  step('filter the results by a country chip, then drop the filter');
  const chip = page.locator('article.hit .chips a.chip-country').first();
  const country = await chip.innerText();
  await chip.click();
  await page.waitForSelector('#active-filters');
  if (!/country=/.test(page.url())) throw new Error('the chip did not filter: ' + page.url());
  await page.waitForSelector('article.hit');
  for (const text of await page.locator('article.hit .chips').allInnerTexts()) {
    if (!text.includes(country)) throw new Error(`a result without ${country}: ${text}`);
  }
  await shot('1b-filtered');
  await page.locator('#active-filters a').first().click();
  await page.waitForSelector('#active-filters', { state: 'detached' });
  await page.waitForSelector('article.hit');

  step('open an initiative and its similar ones');
  const firstId = await page.locator('article.hit h3 a').first().innerText();
  await page.locator('article.hit h3 a').first().click();
  await page.waitForSelector('#item');
  await page.waitForSelector('text=Similar initiatives in other documents');
  const itemDoc = await page.locator('#item .meta a').first().innerText();
  const similarDocs = await page.locator('article.hit .meta a').allInnerTexts();
  if (similarDocs.length < 1) throw new Error('no similar initiatives');
  // Similar items name their best-aligned sentences and mark them in the text.
  if ((await page.locator('article.hit ul.aligned li').count()) < 1) throw new Error('no aligned sentences');
  if ((await page.locator('article.hit mark').count()) < 1) throw new Error('no aligned sentence marked');
  if (similarDocs.some((d) => d === itemDoc)) throw new Error('a similar initiative from the same document');
  if (!(await page.locator('#item h2').innerText()).includes(firstId)) throw new Error('wrong item page');
  await shot('2-initiative');
  await page.locator('article.hit h3 a').first().click();
  await page.waitForFunction((id) => !location.hash.includes(encodeURIComponent(id)), firstId);
  await page.waitForSelector('#item');

  step('open the themes map');
  await page.getByRole('link', { name: 'Themes' }).click();
  const find = page.getByRole('button', { name: 'Find themes now' });
  await page.waitForSelector('canvas#map, button:has-text("Find themes now")');
  const clustered = (await find.count()) > 0;
  if (clustered) await find.click();
  await page.waitForSelector('canvas#map', { timeout: 60000 });
  await page.waitForSelector('article.theme');
  const themeCount = await page.locator('article.theme').count();
  if (themeCount < 1) throw new Error('no themes listed');
  // Clustered from the page: each theme shows its members per year.
  if (clustered && (await page.locator('article.theme .over').count()) < themeCount) {
    throw new Error('a theme without its over-time chart');
  }
  const painted = await page.evaluate(() => {
    const c = document.getElementById('map'); const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let coloured = 0; for (let i = 0; i < d.length; i += 4) if (Math.abs(d[i] - d[i + 1]) > 40 || Math.abs(d[i + 1] - d[i + 2]) > 40) coloured++;
    return coloured;
  });
  if (painted < 50) throw new Error('the map has no coloured points');
  await page.locator('canvas#map').focus();
  await page.keyboard.press('ArrowRight');
  const tip = await page.locator('#tip').innerText();
  if (!tip.includes('#')) throw new Error('the keyboard did not select a point: ' + tip);
  await shot('3-themes');

  step('cluster again: the themes carry on, and say so');
  await page.getByRole('button', { name: 'Cluster again' }).click();
  await page.waitForSelector('p.changes', { timeout: 60000 });
  const changes = await page.locator('p.changes').innerText();
  if (!changes.startsWith('Since the last report')) throw new Error('no changes line: ' + changes);
  const badges = await page.locator('article.theme .change').allInnerTexts();
  if (badges.length !== (await page.locator('article.theme').count()) || !badges.every((b) => /^(kept|grown)/.test(b))) {
    throw new Error('the same items again should keep every theme: ' + badges.join(' | '));
  }
  await shot('3b-themes-again');
  await page.getByRole('button', { name: 'Cluster from scratch' }).click();
  await page.waitForFunction(() => !document.querySelector('p.changes') && document.querySelector('article.theme'), null, { timeout: 60000 });
  if ((await page.locator('article.theme .change').count()) > 0) throw new Error('a fresh report shows changes');

  step('upload a document and find it');
  await page.getByRole('link', { name: 'Upload' }).click();
  await page.fill('#up-name', 'lighthouse-keepers.md');
  await page.fill('#up-text', '# Lighthouse keepers\n\nThe coast guard trains lighthouse keepers to restore old lighthouses along the northern coast.\n\nEach lighthouse keeper also teaches schoolchildren about maritime safety.\n');
  await page.getByRole('button', { name: 'Index document' }).click();
  await page.waitForSelector('#up-result a', { timeout: 60000 });
  await shot('4-upload');
  await page.fill('#q', 'lighthouse keepers restore old lighthouses');
  await page.keyboard.press('Enter');
  await page.waitForSelector('article.hit');
  const top = await page.locator('article.hit .meta a').first().innerText();
  if (top !== 'Lighthouse keepers') throw new Error('the upload is not the top result: ' + top);
  await shot('5-found');

  step('open the document page');
  await page.locator('article.hit .meta a').first().click();
  await page.waitForSelector('section.sec');
  await shot('6-document');

  if (errors.length) throw new Error('page errors: ' + errors.join('; '));
  console.log('browser test passed');
} catch (e) {
  await shot('failure').catch(() => {});
  console.error('browser test failed: ' + (e && e.message ? e.message : e));
  process.exitCode = 1;
} finally {
  await browser.close();
}
