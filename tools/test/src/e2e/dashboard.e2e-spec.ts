/**
 * The dashboard in a real headless Chromium (Debian's `chromium`, driven by playwright-core)
 * against a whole isolated platform, as a person uses it: sign in with a token, see an app pushed
 * with the real git client, scale it to 3, map a route and open it, read its live log (follow,
 * pause, filter), change its env (the replaced instances shown STOPPING) and roll back, drain a
 * cell and watch its instances move, all on a laptop-sized window, then on a phone-sized one. Each test saves a screenshot to
 * artifacts/dashboard/<test>.png (and <test>-failed.png when it fails); no page may log an error
 * to the console except the ones a test provokes on purpose.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { ROOT, commitDir, git, startIsolatedPlatform, stopIsolatedPlatform, type TestPlatform } from '@paas/test-platform';
import { api, viaRouter } from './test-platform';
import { pollUntil } from '@paas/local-services';

const CHROMIUM = process.env.PAAS_CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = join(ROOT, 'artifacts', 'dashboard');
const APP = 'dash';

/**
 * The pushed app (the container's init: a Procfile runs it without npm): says its greeting (env
 * GREETING) and index, and logs every request it gets; on SIGTERM it takes 5 s to exit, so a
 * replaced instance is seen STOPPING.
 */
const SERVER = `
const http = require('node:http');
const server = http.createServer((req, res) => {
  console.log('request ' + req.method + ' ' + req.url);
  res.setHeader('content-type', 'text/plain; charset=utf-8');
  res.end('dash says ' + (process.env.GREETING || 'hello') + ' from instance ' + process.env.INSTANCE_INDEX + '\\n');
});
server.listen(Number(process.env.PORT), () => console.log('dash listening'));
process.on('SIGTERM', () => setTimeout(() => server.close(() => process.exit(0)), 5000));
`;

interface Instance {
  index: number;
  state: string;
  cell_id: string;
}

/** Polls `locator.count()` until `want(count)`, within the deadline. */
async function waitForCount(locator: Locator, want: (n: number) => boolean, what: string, timeoutMs = 60_000): Promise<number> {
  const found = await pollUntil(what, async () => {
    const n = await locator.count();
    return want(n) ? { n } : false;
  }, { timeoutMs });
  return found.n;
}

describe('dashboard', { timeout: 15 * 60_000 }, () => {
  let platform: TestPlatform | undefined;
  let browser: Browser | undefined;
  let context: BrowserContext;
  let page: Page;
  let work: string;
  /** Console errors and uncaught exceptions of every page, checked (and emptied) after each test. */
  let consoleErrors: string[] = [];
  const host = () => `${APP}.${platform!.appsDomain}`;
  const instances = async (): Promise<Instance[]> => (await api(platform!, 'GET', `/v1/apps/${APP}/instances`)).json.resources;

  /** Runs a test body, then saves its screenshot (or a `-failed` one) and checks the console stayed clean. */
  async function step(name: string, body: () => Promise<void>, options: { allowErrors?: RegExp } = {}): Promise<void> {
    try {
      await body();
      await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
    } catch (error) {
      await page?.screenshot({ path: join(ARTIFACTS, `${name}-failed.png`), fullPage: true }).catch(() => undefined);
      throw error;
    }
    // Chromium aborts requests in flight when this host's interfaces change, and the cells add and
    // remove veths as containers come and go: the dashboard retries those; they are not its errors.
    const unexpected = consoleErrors.filter((e) => !options.allowErrors?.test(e) && !e.includes('net::ERR_NETWORK_CHANGED'));
    consoleErrors = [];
    assert.deepEqual(unexpected, [], 'no console errors');
  }

  before(async () => {
    assert.ok(existsSync(join(ROOT, 'apps', 'dashboard', 'dist', 'index.html')), 'the dashboard is built (tools/bootstrap.sh builds it)');
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} exists (apt-get install chromium; tools/bootstrap.sh installs it)`);
    await mkdir(ARTIFACTS, { recursive: true });
    work = await mkdtemp(join(tmpdir(), 'paas-e2e-dashboard-'));
    platform = await startIsolatedPlatform(2);
    // The app, pushed as a user does.
    assert.equal((await api(platform, 'POST', '/v1/apps', { name: APP })).status, 201);
    const dir = join(work, APP);
    await cp(join(ROOT, 'examples', 'hello-node'), dir, { recursive: true });
    await writeFile(join(dir, 'server.js'), SERVER);
    await writeFile(join(dir, 'Procfile'), 'web: node server.js\n');
    await commitDir(dir);
    const push = await git(['push', `http://paas:${platform.adminToken}@127.0.0.1:${platform.controllerPort}/git/${APP}.git`, 'main'], dir);
    assert.equal(push.code, 0, push.output);

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      // App hostnames resolve to this machine's router (Chromium also does so for *.localhost itself).
      args: [`--host-resolver-rules=MAP *.${platform.appsDomain} 127.0.0.1`],
    });
    context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
    context.setDefaultTimeout(30_000);
    context.on('page', (p) => {
      p.on('console', (m) => {
        if (m.type() === 'error') consoleErrors.push(`${p.url()}: ${m.text()}`);
      });
      p.on('pageerror', (e) => consoleErrors.push(`${p.url()}: uncaught ${e.message}`));
    });
    page = await context.newPage();
  });

  after(async () => {
    try {
      await browser?.close();
    } finally {
      const leftovers = await stopIsolatedPlatform(platform);
      if (work) await rm(work, { recursive: true, force: true });
      assert.deepEqual(leftovers, [], 'stopping the platform leaves nothing behind');
    }
  });

  test('the controller serves the production build at / with caching headers, without shadowing the API', async () => {
    const index = await fetch(`${platform!.apiUrl}/`);
    assert.equal(index.status, 200);
    assert.equal(index.headers.get('cache-control'), 'no-cache');
    const html = await index.text();
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    assert.ok(asset, `index.html loads a hashed script: ${html}`);
    const js = await fetch(`${platform!.apiUrl}${asset}`);
    assert.equal(js.status, 200);
    assert.equal(js.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    const deep = await fetch(`${platform!.apiUrl}/apps/${APP}`, { headers: { accept: 'text/html' } });
    assert.equal(deep.status, 200, 'a reload of a dashboard page gets index.html');
    assert.equal(await deep.text(), html);
    const apiAnswer = await fetch(`${platform!.apiUrl}/v1/apps`, { headers: { accept: 'text/html' } });
    assert.equal(apiAnswer.status, 401, 'the API still answers under /v1');
    assert.equal((await fetch(`${platform!.apiUrl}/health`)).status, 200);
  });

  test('sign in with an API token (a wrong one is refused with the API message), see the pushed app and the API error of a failed action', async () => {
    await step(
      'sign-in-and-apps',
      async () => {
        await page.goto(`${platform!.apiUrl}/`);
        await page.getByRole('heading', { name: 'Sign in to paas' }).waitFor();
        await page.getByLabel('API token').fill('not-a-token');
        await page.getByRole('button', { name: 'Sign in' }).click();
        await page.getByRole('alert').filter({ hasText: 'The API refused this token' }).waitFor();
        await page.getByLabel('API token').fill(platform!.adminToken);
        await page.getByRole('button', { name: 'Sign in' }).click();
        await page.getByRole('heading', { name: 'Apps' }).waitFor();
        const row = page.locator(`tr[data-app="${APP}"]`);
        await row.getByText('STARTED').waitFor();
        await row.getByLabel('1 of 1 instances running').waitFor();
        assert.equal(await row.getByRole('link', { name: `${APP}.${platform!.appsDomain}` }).getAttribute('href'), `http://${host()}:${platform!.routerPort}/`);
        await row.getByText('v1').waitFor();
        assert.equal(await page.evaluate('window.localStorage.getItem("paas.token")'), platform!.adminToken, 'the token is kept in localStorage');
        // A failing action shows the API's own message.
        await page.getByRole('textbox', { name: 'New app' }).fill('Bad_Name');
        await page.getByRole('button', { name: 'Create app' }).click();
        await page.getByRole('alert').filter({ hasText: /validation-failed.*lowercase DNS label/ }).waitFor();
      },
      { allowErrors: /status of (400|401)/ },
    );
  });

  test('scale to 3 from the app page and watch 3 instances become running', async () => {
    await step('scale-to-3', async () => {
      await page.getByRole('link', { name: APP, exact: true }).click();
      await page.getByRole('heading', { name: APP }).first().waitFor();
      await page.locator('#instances tbody tr[data-state="RUNNING"]').first().waitFor();
      await page.getByRole('spinbutton', { name: 'Instances' }).fill('3');
      await page.getByRole('button', { name: 'Scale', exact: true }).click();
      await page.getByRole('status').filter({ hasText: 'Scaled web to 3 instances' }).waitFor();
      await waitForCount(page.locator('#instances tbody tr[data-state="RUNNING"]'), (n) => n === 3, '3 RUNNING rows in the instances table', 90_000);
      const running = (await instances()).filter((i) => i.state === 'RUNNING');
      assert.equal(running.length, 3, 'the API agrees');
      assert.equal(new Set(running.map((i) => i.cell_id)).size, 2, 'spread over both cells');
    });
  });

  test('map a route to the app and open it', async () => {
    await step('map-route', async () => {
      const routes = page.locator('#routes');
      await routes.getByRole('textbox', { name: 'Host', exact: true }).fill('dash-extra');
      await routes.getByRole('button', { name: 'Map route' }).click();
      await routes.getByRole('status').filter({ hasText: 'Mapped dash-extra.' }).waitFor();
      const link = routes.getByRole('link', { name: `dash-extra.${platform!.appsDomain}` });
      await link.waitFor();
      const href = await link.getAttribute('href');
      assert.equal(href, `http://dash-extra.${platform!.appsDomain}:${platform!.routerPort}/`);
      const opened = await context.newPage();
      try {
        await pollUntil('the new route answers', async () => {
          const res = await opened.goto(href!);
          return res?.status() === 200 && /dash says hello/.test(await opened.content());
        }, { timeoutMs: 30_000 });
      } finally {
        await opened.close();
      }
      assert.match((await viaRouter(platform!, `dash-extra.${platform!.appsDomain}`)).text, /dash says hello/);
      // A path of a host another space owns: the form shows the API's refusal (a host belongs to one space).
      const org = (await api(platform!, 'POST', '/v1/orgs', { name: 'dash-other' })).json.id;
      const space = (await api(platform!, 'POST', '/v1/spaces', { name: 'theirs', org_id: org })).json.id;
      const domainId = ((await api(platform!, 'GET', '/v1/domains')).json.resources as Array<{ id: string; default: boolean }>).find((d) => d.default)!.id;
      assert.equal((await api(platform!, 'POST', '/v1/routes', { host: 'dash-owned', domain_id: domainId, space_id: space })).status, 201);
      await routes.getByRole('textbox', { name: 'Host', exact: true }).fill('dash-owned');
      await routes.getByRole('textbox', { name: 'Path', exact: true }).fill('/api');
      await routes.getByRole('button', { name: 'Map route' }).click();
      await routes.getByRole('alert').filter({ hasText: /host-taken.*belongs to space theirs of org dash-other: a host belongs to one space/ }).waitFor();
      await routes.getByRole('button', { name: 'Dismiss' }).click();
    }, { allowErrors: /status of 409/ });
  });

  test('the live log follows new lines, pauses and filters by source', async () => {
    await step('live-logs', async () => {
      const logs = page.locator('#logs');
      await logs.scrollIntoViewIfNeeded();
      await logs.getByTestId('log-status').filter({ hasText: /^Live$/ }).waitFor();
      const box = logs.getByRole('log');
      const marker = `/seen-${Date.now()}`;
      await viaRouter(platform!, host(), marker);
      const line = box.locator('.log-line', { hasText: `request GET ${marker}` });
      await line.first().waitFor({ timeout: 30_000 });
      const source = (await line.first().getAttribute('data-source'))!;
      assert.match(source, /^APP\/PROC\/WEB\/\d$/, 'an app line is tagged like Cloud Foundry');

      // Paused: lines keep arriving (counted) but the view holds still; Resume shows them.
      await logs.getByRole('button', { name: 'Pause' }).click();
      const later = `/while-paused-${Date.now()}`;
      await viaRouter(platform!, host(), later);
      await logs.getByRole('button', { name: /^Resume \(\d+ new\)$/ }).waitFor({ timeout: 30_000 });
      assert.equal(await box.locator('.log-line', { hasText: later }).count(), 0, 'a paused view does not move');
      await logs.getByRole('button', { name: /^Resume/ }).click();
      await box.locator('.log-line', { hasText: `request GET ${later}` }).first().waitFor();

      // Filter by source: only APP lines, then one instance's.
      await logs.getByRole('combobox', { name: 'Source' }).selectOption('APP');
      const shown = box.locator('.log-line');
      await waitForCount(shown, (n) => n > 0, 'lines of the APP sources');
      for (const s of await shown.evaluateAll((els) => els.map((e) => e.getAttribute('data-source') ?? ''))) assert.match(s, /^APP\//);
      await logs.getByRole('combobox', { name: 'Source' }).selectOption(source);
      for (const s of await shown.evaluateAll((els) => els.map((e) => e.getAttribute('data-source') ?? ''))) assert.equal(s, source);
      await logs.getByRole('combobox', { name: 'Source' }).selectOption('');
    });
  });

  test('change the env (a new release: the v1 instances show STOPPING while it replaces them), then roll back to v1 from the releases', async () => {
    await step('env-and-rollback', async () => {
      const env = page.locator('#env');
      await env.getByRole('button', { name: 'Add variable' }).click();
      await env.getByPlaceholder('NAME').last().fill('GREETING');
      await env.getByPlaceholder('value').last().fill('hola');
      await env.getByRole('button', { name: 'Save changes' }).click();
      await env.getByRole('status').filter({ hasText: 'release v2 is rolling out' }).waitFor();
      // While v2 replaces them, the v1 instances are shown STOPPING with their release, and the counts do not call them running.
      const instancesSection = page.locator('#instances');
      await Promise.all([
        instancesSection.locator('tbody tr[data-state="STOPPING"]').filter({ hasText: 'v1' }).first().waitFor({ timeout: 90_000 }),
        instancesSection.locator('li[data-process="web"]').filter({ hasText: /^web: [0-3]\/3 running \(\+[^)]*\d stopping/ }).waitFor({ timeout: 90_000 }),
      ]);
      await page.screenshot({ path: join(ARTIFACTS, 'env-and-rollback-stopping.png'), fullPage: true });
      const releases = page.locator('#releases');
      await releases.locator('tr[data-version="2"]').getByText('current').waitFor({ timeout: 60_000 });
      await pollUntil('every instance greets with hola', async () => {
        const answers = await Promise.all([1, 2, 3, 4, 5, 6].map(() => viaRouter(platform!, host())));
        return answers.every((a) => /dash says hola/.test(a.text));
      }, { timeoutMs: 90_000 });

      await releases.getByRole('button', { name: 'Roll back to v1' }).click();
      await releases.getByRole('button', { name: 'Confirm rollback to v1' }).click();
      await releases.getByRole('status').filter({ hasText: 'Rolled back to v1: release v3 is rolling out' }).waitFor();
      await releases.locator('tr[data-version="3"]').getByText('current').waitFor({ timeout: 60_000 });
      await pollUntil('every instance greets with hello again', async () => {
        const answers = await Promise.all([1, 2, 3, 4, 5, 6].map(() => viaRouter(platform!, host())));
        return answers.every((a) => /dash says hello/.test(a.text));
      }, { timeoutMs: 90_000 });
      await page.locator('#deploys tbody tr').first().getByText('DEPLOYED').waitFor({ timeout: 60_000 });
      await waitForCount(page.locator('#instances tbody tr[data-state="RUNNING"]'), (n) => n === 3, '3 instances of v3 running', 90_000);

      // The deploy history keeps the push's build log.
      const deploys = page.locator('#deploys');
      await deploys.getByRole('button', { name: 'Show log' }).first().click();
      await deploys.getByLabel('Build log').getByText(/Node\.js app detected/).waitFor();
    });
  });

  test('drain a cell from the cells page and watch its instances move, then undrain it', async () => {
    await step('drain-cell', async () => {
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Cells' }).click();
      await page.getByRole('heading', { name: 'Cells' }).waitFor();
      const counts = new Map<string, number>();
      for (const i of (await instances()).filter((x) => x.state === 'RUNNING')) counts.set(i.cell_id, (counts.get(i.cell_id) ?? 0) + 1);
      const [target] = [...counts.entries()].sort((a, b) => b[1] - a[1])[0];
      const other = platform!.cells.map((c) => c.id).find((id) => id !== target)!;
      const card = page.locator(`li[data-cell="${target}"]`);
      await card.locator(`li[data-app="${APP}"]`).waitFor();
      await card.getByRole('meter', { name: `Memory of ${target}` }).waitFor();

      await card.getByRole('button', { name: `Drain ${target}` }).click();
      await card.getByRole('button', { name: `Confirm drain of ${target}` }).click();
      await page.getByRole('status').filter({ hasText: `Draining ${target}` }).waitFor();
      await page.locator(`li[data-cell="${target}"][data-state="draining"]`).waitFor({ timeout: 30_000 });
      await page.locator(`li[data-cell="${other}"] li[data-app="${APP}"][data-instances="3"]`).waitFor({ timeout: 120_000 });
      await card.locator(`li[data-app="${APP}"]`).waitFor({ state: 'detached', timeout: 60_000 });
      const moved = await instances();
      assert.ok(moved.every((i) => i.cell_id === other), `every instance on ${other}: ${JSON.stringify(moved)}`);
      await page.screenshot({ path: join(ARTIFACTS, 'drain-cell-drained.png'), fullPage: true });

      await card.getByRole('button', { name: `Undrain ${target}` }).click();
      await page.locator(`li[data-cell="${target}"][data-state="live"]`).waitFor({ timeout: 30_000 });

      // The audit log has it, filterable by type.
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Events' }).click();
      await page.getByRole('combobox', { name: 'Types' }).fill('cell-drain-requested,cell-undrained');
      await waitForCount(page.locator('tbody tr:not([data-type^="cell-"])'), (n) => n === 0, 'only the filtered types', 10_000);
      await page.locator('tr[data-type="cell-drain-requested"]').first().waitFor();
      await page.locator('tr[data-type="cell-undrained"]').first().waitFor();
    });
  });

  test('readable and keyboard reachable on a phone-sized window; sign out forgets the token', async () => {
    await step('phone', async () => {
      await page.setViewportSize({ width: 390, height: 844 });
      await page.goto(`${platform!.apiUrl}/apps/${APP}`);
      await page.getByRole('heading', { name: APP }).first().waitFor();
      await waitForCount(page.locator('#instances tbody tr[data-state="RUNNING"]'), (n) => n === 3, '3 instances shown');
      // The cells' usage samples show as bars against the instance's limits.
      const memory = page.getByRole('meter', { name: 'Memory of instance 0' });
      await memory.waitFor({ timeout: 30_000 });
      assert.equal(await memory.getAttribute('aria-valuemax'), '256');
      await page.getByRole('meter', { name: 'CPU of instance 0' }).waitFor();
      const overflow = Number(await page.evaluate('document.documentElement.scrollWidth - window.innerWidth'));
      assert.ok(overflow <= 1, `no sideways scrolling of the page (${overflow}px too wide)`);
      // The first Tab reaches the skip link, which takes focus into the page.
      await page.keyboard.press('Tab');
      assert.equal(await page.evaluate('document.activeElement?.textContent'), 'Skip to content');
      await page.keyboard.press('Enter');
      assert.equal(await page.evaluate('document.activeElement?.id'), 'main');
      await page.screenshot({ path: join(ARTIFACTS, 'phone-app.png'), fullPage: true });
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Apps' }).click();
      await page.locator(`tr[data-app="${APP}"]`).getByLabel('3 of 3 instances running').waitFor();
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('heading', { name: 'Sign in to paas' }).waitFor();
      assert.equal(await page.evaluate('window.localStorage.getItem("paas.token")'), null);
    });
  });
});
