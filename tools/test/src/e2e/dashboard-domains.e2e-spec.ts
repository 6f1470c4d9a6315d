/**
 * The dashboard's Domains & certificates page in a real headless Chromium (Debian's `chromium`,
 * driven by playwright-core) against an isolated platform with pebble as its ACME CA and
 * pebble-challtestsrv as its DNS (every name resolves to 127.0.0.1, where the router listens):
 * the list with each domain's state and the platform's own certificate; a private domain added
 * from the form with its token and verification URL shown; a verification that fails with its
 * reason shown, one that succeeds; an upload refused with the API's message (the form kept); an
 * ACME order for a host followed to issued, then deleted; and the HTTPS redirect and HSTS of a
 * route set from the app page. Each test saves a screenshot to artifacts/dashboard/domains-<test>.png
 * (-failed.png when it fails); no page may log a console error except the refusals a test
 * provokes on purpose. Needs the server side of issue 16.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { freePort } from '@paas/local-services';
import { ROOT, startIsolatedPlatform, stopIsolatedPlatform, type TestPlatform } from '@paas/test-platform';
import { startPebble, type Pebble } from '@paas/testing';
import { api, createOrgManager } from './test-platform';

const CHROMIUM = process.env.PAAS_CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = join(ROOT, 'artifacts', 'dashboard');
const APP = 'dash-tls';
const ORG = 'shop';
const DOMAIN = 'shop.example.test';
/** challtestsrv answers SERVFAIL for it: its verification cannot reach the router. */
const BROKEN = 'broken.example.test';
const ISSUE_MS = 180_000;

describe('dashboard: domains and certificates', { timeout: 15 * 60_000 }, () => {
  let platform: TestPlatform | undefined;
  let pebble: Pebble | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let consoleErrors: string[] = [];
  let managerToken = '';
  const domainCard = (name: string) => page.locator(`li[data-domain="${name}"]`);
  const certificateRow = (names: string) => page.locator(`tr[data-certificate="${names}"]`);

  async function step(name: string, body: () => Promise<void>, options: { allowErrors?: RegExp } = {}): Promise<void> {
    try {
      await body();
      await page.screenshot({ path: join(ARTIFACTS, `domains-${name}.png`), fullPage: true });
    } catch (error) {
      await page?.screenshot({ path: join(ARTIFACTS, `domains-${name}-failed.png`), fullPage: true }).catch(() => undefined);
      throw error;
    }
    const unexpected = consoleErrors.filter((e) => !options.allowErrors?.test(e) && !e.includes('net::ERR_NETWORK_CHANGED'));
    consoleErrors = [];
    assert.deepEqual(unexpected, [], 'no console errors');
  }

  before(async () => {
    assert.ok(existsSync(join(ROOT, 'apps', 'dashboard', 'dist', 'index.html')), 'the dashboard is built (tools/bootstrap.sh builds it)');
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} exists (apt-get install chromium; tools/bootstrap.sh installs it)`);
    await mkdir(ARTIFACTS, { recursive: true });
    const routerPort = await freePort();
    pebble = await startPebble({ httpPort: routerPort });
    platform = await startIsolatedPlatform(1, { routerPort, acme: { directoryUrl: pebble.directoryUrl, caFile: pebble.caFile, dnsResolver: pebble.dns.address } });
    await pebble.dns.setServfail(BROKEN);
    // The org's manager (a space admin, not a platform admin) uses the page: own domains start pending.
    const manager = await createOrgManager(platform, ORG, 'owner');
    managerToken = manager.token;
    assert.equal((await api(platform, 'POST', '/v1/apps', { name: APP, space_id: manager.spaceId })).status, 201);
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true });
    const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
    context.setDefaultTimeout(30_000);
    page = await context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(`${page.url()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => consoleErrors.push(`${page.url()}: uncaught ${e.message}`));
  });

  after(async () => {
    try {
      await browser?.close();
    } finally {
      try {
        const leftovers = await stopIsolatedPlatform(platform);
        assert.deepEqual(leftovers, [], 'stopping the platform leaves nothing behind');
      } finally {
        await pebble?.stop();
      }
    }
  });

  test('the page lists the shared domain as verified and the platform\'s own certificate as issued', async () => {
    await step('list', async () => {
      await page.goto(`${platform!.apiUrl}/`);
      await page.getByLabel('API token').fill(managerToken);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: 'Apps' }).waitFor();
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Domains' }).click();
      await page.getByRole('heading', { name: 'Domains & certificates', level: 1 }).waitFor();
      await page.locator(`li[data-domain="${platform!.appsDomain}"][data-state="verified"]`).waitFor();
      await domainCard(platform!.appsDomain).getByText('shared (default)').waitFor();
      const own = page.locator('tr[data-state="issued"]').filter({ hasText: `*.${platform!.appsDomain}` });
      await own.waitFor();
      await own.getByRole('cell', { name: 'platform', exact: true }).waitFor();
      await own.getByText(/^in \d+ d$/).first().waitFor();
    });
  });

  test('add a private domain: its token and verification URL are shown; a failed check shows why; a good one verifies it', async () => {
    await step(
      'verify',
      async () => {
        await page.getByText('Add a private domain', { exact: true }).click();
        const form = page.getByRole('form', { name: 'Add a private domain' });
        const name = form.getByRole('textbox', { name: 'Domain' });
        await name.fill(BROKEN);
        await form.getByRole('combobox', { name: 'Org' }).selectOption({ label: ORG });
        await form.getByRole('button', { name: 'Add domain' }).click();
        await page.getByRole('status').filter({ hasText: `Added ${BROKEN} (pending)` }).waitFor();
        const steps = page.getByRole('definition').filter({ hasText: `http://${BROKEN}/.well-known/paas-domain-verification/` });
        await steps.first().waitFor();
        const broken = domainCard(BROKEN);
        await page.locator(`li[data-domain="${BROKEN}"][data-state="pending"]`).waitFor();
        await broken.getByRole('button', { name: 'Verify', exact: true }).click();
        await broken.getByRole('alert').filter({ hasText: `${BROKEN} is not verified:` }).waitFor({ timeout: 60_000 });
        const view = (await api(platform!, 'GET', `/v1/domains?names=${BROKEN}`)).json.resources[0];
        assert.equal(view.verification.state, 'pending', 'the API agrees');
        assert.ok(view.verification.last_error, 'with the reason');
        await broken.getByText(`Last check: ${view.verification.last_error}`).waitFor();

        await name.fill(DOMAIN);
        await form.getByRole('button', { name: 'Add domain' }).click();
        await page.getByRole('status').filter({ hasText: `Added ${DOMAIN} (pending)` }).waitFor();
        const shop = domainCard(DOMAIN);
        await shop.getByRole('button', { name: 'Verify', exact: true }).click();
        await shop.getByRole('status').filter({ hasText: `Verified ${DOMAIN}` }).waitFor({ timeout: 60_000 });
        await page.locator(`li[data-domain="${DOMAIN}"][data-state="verified"]`).waitFor();
        assert.equal((await api(platform!, 'GET', `/v1/domains?names=${DOMAIN}`)).json.resources[0].verification.state, 'verified');
      },
      { allowErrors: /status of 4\d\d/ },
    );
  });

  test('certificates: an upload refused with the API\'s message keeps the form; an ACME order is issued, then deleted', async () => {
    await step(
      'certificates',
      async () => {
        await page.getByText('Upload a certificate', { exact: true }).click();
        const upload = page.getByRole('form', { name: 'Upload a certificate' });
        const chain = upload.getByRole('textbox', { name: 'Certificate chain (PEM, leaf first)' });
        await chain.fill('-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n');
        await upload.getByRole('textbox', { name: 'Private key (PEM)' }).fill('-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n');
        await upload.getByRole('button', { name: 'Upload' }).click();
        await page.locator('#certificates').getByRole('alert').filter({ hasText: /certificate|PEM|key/i }).first().waitFor();
        assert.match(await chain.inputValue(), /not a certificate/, 'nothing typed is lost on a failed action');

        const order = page.getByRole('form', { name: 'Order a certificate' });
        await order.getByRole('textbox', { name: 'Host' }).fill(`www.${DOMAIN}`);
        await order.getByRole('button', { name: 'Order by ACME' }).click();
        await page.getByRole('status').filter({ hasText: `Ordered a certificate for www.${DOMAIN}` }).waitFor();
        await page.locator(`tr[data-certificate="www.${DOMAIN}"][data-state="issued"]`).waitFor({ timeout: ISSUE_MS });
        const row = certificateRow(`www.${DOMAIN}`);
        await row.getByRole('cell', { name: 'acme', exact: true }).waitFor();
        await row.getByText(/Pebble/).waitFor();
        await row.getByRole('button', { name: `Delete the certificate for www.${DOMAIN}` }).click();
        await row.getByRole('button', { name: `Delete the certificate for www.${DOMAIN}`, exact: true }).last().click();
        await page.getByRole('status').filter({ hasText: `Deleted the certificate for www.${DOMAIN}` }).waitFor();
        await row.waitFor({ state: 'detached' });
        const left = (await api(platform!, 'GET', '/v1/certificates')).json.resources as Array<{ names: string[] }>;
        assert.ok(!left.some((c) => c.names.includes(`www.${DOMAIN}`)), 'the API agrees');
      },
      { allowErrors: /status of 4\d\d/ },
    );
  });

  test('the app page sets a route\'s HTTPS redirect and HSTS', async () => {
    await step('route-https', async () => {
      await page.goto(`${platform!.apiUrl}/apps/${APP}`);
      const url = `${APP}.${platform!.appsDomain}`;
      const form = page.getByRole('form', { name: `HTTPS settings of ${url}` });
      await form.getByRole('checkbox', { name: 'Redirect HTTP to HTTPS' }).check();
      await form.getByRole('spinbutton', { name: /HSTS max-age/ }).fill('600');
      await form.getByRole('button', { name: 'Save HTTPS' }).click();
      await page.getByRole('status').filter({ hasText: `${url}: HTTP redirects to HTTPS, HSTS max-age 600 s` }).waitFor();
      const [route] = (await api(platform!, 'GET', `/v1/routes?hosts=${APP}`)).json.resources as Array<{ https_redirect: boolean; hsts_max_age: number | null }>;
      assert.deepEqual([route?.https_redirect, route?.hsts_max_age], [true, 600], 'the API agrees');
      await form.getByRole('spinbutton', { name: /HSTS max-age/ }).fill('');
      await form.getByRole('button', { name: 'Save HTTPS' }).click();
      await page.getByRole('status').filter({ hasText: `${url}: HTTP redirects to HTTPS, no HSTS` }).waitFor();
    });
  });
});
