/**
 * The dashboard's backing services in a real headless Chromium (Debian's `chromium`, driven by
 * playwright-core) against a whole isolated platform whose cell runs real Postgres and Redis
 * servers in runc containers: the Services page lists an instance with its last operation and
 * status, creates one from the marketplace form (a bad name refused with the API's message, the
 * form kept), refuses to delete a bound one with the API's 409, binds and unbinds from the app
 * page, backs up a Postgres now (pg_dump) and restores that backup after a confirmation
 * (pg_restore), the same with a Redis (an RDB snapshot its cell restores), creates a Postgres
 * from a backup, shows the cell's usage report, and deletes. Each test saves a screenshot to
 * artifacts/dashboard/services-<test>.png (-failed.png when it fails); no page may log a console
 * error except the refusals a test provokes on purpose.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ROOT, startIsolatedPlatform, stopIsolatedPlatform, type TestPlatform } from '@paas/test-platform';
import { pollUntil } from '@paas/local-services';
import { api } from './test-platform';

const CHROMIUM = process.env.PAAS_CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = join(ROOT, 'artifacts', 'dashboard');
const APP = 'dash-svc';
/** Created through the API before the page opens: a Postgres, whose backups and restores the controller runs (pg_dump, pg_restore). */
const SEEDED = 'seeded-db';
/** Created from the page's form. */
const FORMED = 'form-cache';
const MiB = 1024 * 1024;
/** Created from the form with the data of a backup of SEEDED. */
const COPY = 'copied-db';
/** Creating a Redis instance: a volume, a container, a server that answers; slow on a loaded machine. */
const CREATE_MS = 180_000;

describe('dashboard: backing services', { timeout: 15 * 60_000 }, () => {
  let platform: TestPlatform | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let consoleErrors: string[] = [];
  /** Whether the controller has the backups API; without it, every page load's one probe of it is a 404 in the console. */
  let backupsApi = true;
  const card = (name: string) => page.locator(`li[data-instance="${name}"]`);
  const instance = async (name: string) => (await api(platform!, 'GET', `/v1/service_instances/${name}`)).json;

  async function step(name: string, body: () => Promise<void>, options: { allowErrors?: RegExp } = {}): Promise<void> {
    try {
      await body();
      await page.screenshot({ path: join(ARTIFACTS, `services-${name}.png`), fullPage: true });
    } catch (error) {
      await page?.screenshot({ path: join(ARTIFACTS, `services-${name}-failed.png`), fullPage: true }).catch(() => undefined);
      throw error;
    }
    const unexpected = consoleErrors.filter(
      (e) => !options.allowErrors?.test(e) && !e.includes('net::ERR_NETWORK_CHANGED') && (backupsApi || !/status of 404/.test(e)),
    );
    consoleErrors = [];
    assert.deepEqual(unexpected, [], 'no console errors');
  }

  before(async () => {
    assert.ok(existsSync(join(ROOT, 'apps', 'dashboard', 'dist', 'index.html')), 'the dashboard is built (tools/bootstrap.sh builds it)');
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} exists (apt-get install chromium; tools/bootstrap.sh installs it)`);
    await mkdir(ARTIFACTS, { recursive: true });
    platform = await startIsolatedPlatform(1);
    assert.equal((await api(platform, 'POST', '/v1/apps', { name: APP })).status, 201);
    const seeded = await api(platform, 'POST', '/v1/service_instances', { name: SEEDED, offering: 'postgresql', plan: 'small' });
    assert.equal(seeded.status, 202, JSON.stringify(seeded.json));
    const probe = await api(platform, 'GET', `/v1/service_instances/${SEEDED}/backups`);
    backupsApi = !(probe.status === 404 && /no such API endpoint/.test(probe.json?.error?.message));
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
      const leftovers = await stopIsolatedPlatform(platform);
      assert.deepEqual(leftovers, [], 'stopping the platform leaves nothing behind');
    }
  });

  test('the Services page lists an instance with its type, offering, plan, last operation and status', async () => {
    await step('list', async () => {
      await page.goto(`${platform!.apiUrl}/`);
      await page.getByLabel('API token').fill(platform!.adminToken);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: 'Apps' }).waitFor();
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Services' }).click();
      await page.getByRole('heading', { name: 'Services', level: 1 }).waitFor();
      const seeded = card(SEEDED);
      await seeded.waitFor();
      for (const text of ['managed', 'postgresql', 'small']) await seeded.locator('dd', { hasText: new RegExp(`^${text}`) }).first().waitFor();
      // While it is created the card says so; then the server runs.
      await page.locator(`li[data-instance="${SEEDED}"][data-operation="create succeeded"][data-status="available"]`).waitFor({ timeout: CREATE_MS });
      await seeded.getByText('available', { exact: true }).waitFor();
      await seeded.locator('dd', { hasText: /^none$/ }).waitFor();
      const view = await instance(SEEDED);
      assert.equal(view.status, 'available', 'the API agrees');
      // Its cell's usage report: memory and disk bars against the plan's limits, and the connections.
      const memory = seeded.getByRole('meter', { name: `Memory of ${SEEDED}` });
      const disk = seeded.getByRole('meter', { name: `Disk of ${SEEDED}` });
      await Promise.all([memory.waitFor({ timeout: 60_000 }), disk.waitFor({ timeout: 60_000 })]);
      assert.equal(await memory.getAttribute('aria-valuemax'), String(256 * MiB), 'the small plan\'s 256 MB');
      assert.equal(await disk.getAttribute('aria-valuemax'), String(1024 * MiB), 'the small plan\'s 1 GB');
      assert.ok(Number(await memory.getAttribute('aria-valuenow')) > 0, 'a running Postgres uses memory');
      assert.ok(Number(await disk.getAttribute('aria-valuenow')) > 0, 'its data is on the volume');
      const usage = (await instance(SEEDED)).usage;
      assert.equal(usage.memory_limit_bytes, 256 * MiB, 'the API agrees');
      await seeded.getByRole('group', { name: `Usage of ${SEEDED}` }).getByText(/^\d+ \(reported/).waitFor();
    });
  });

  test('create an instance from the form: a bad name is refused with the API message and kept; a good one is created', async () => {
    await step(
      'create',
      async () => {
        await page.getByText('New service instance', { exact: true }).click();
        const form = page.getByRole('form', { name: 'New service instance' });
        await form.getByRole('combobox', { name: 'Offering' }).selectOption('redis');
        await form.getByRole('combobox', { name: 'Plan' }).selectOption('small');
        const name = form.getByRole('textbox', { name: 'Name' });
        await name.fill('Bad_Cache');
        await form.getByRole('button', { name: 'Create service' }).click();
        await page.getByRole('alert').filter({ hasText: /validation-failed.*lowercase/ }).waitFor();
        assert.equal(await name.inputValue(), 'Bad_Cache', 'nothing typed is lost on a failed action');

        await name.fill(FORMED);
        await form.getByRole('button', { name: 'Create service' }).click();
        await page.getByRole('status').filter({ hasText: `Creating ${FORMED} (redis small)` }).waitFor();
        assert.equal(await name.inputValue(), '', 'the form is cleared once the API took it');
        await page.locator(`li[data-instance="${FORMED}"][data-operation="create succeeded"][data-status="available"]`).waitFor({ timeout: CREATE_MS });
        const view = await instance(FORMED);
        assert.equal(view.offering, 'redis');
        assert.equal(view.plan, 'small');
        assert.equal(view.last_operation.state, 'succeeded');
      },
      { allowErrors: /status of 400/ },
    );
  });

  test('bind from the app page; a bound instance cannot be deleted (the API 409 shown); unbind from the app page', async () => {
    await step(
      'bind-unbind',
      async () => {
        await page.goto(`${platform!.apiUrl}/apps/${APP}`);
        const section = page.locator('#services');
        await section.getByText('No service bound').waitFor();
        await section.getByRole('combobox', { name: 'Service instance' }).selectOption({ label: `${FORMED} (redis small)` });
        await section.getByRole('button', { name: 'Bind service' }).click();
        await section.getByRole('status').filter({ hasText: `Bound ${FORMED} to ${APP}` }).waitFor({ timeout: 60_000 });
        await section.locator(`li[data-binding="${FORMED}"]`).waitFor();
        const bindings = (await api(platform!, 'GET', `/v1/apps/${APP}/service_bindings`)).json.resources as Array<{ service_instance_name: string }>;
        assert.deepEqual(bindings.map((b) => b.service_instance_name), [FORMED], 'the API agrees');

        // The Services page shows the app as bound, and the API refuses to delete the instance.
        await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Services' }).click();
        const formed = card(FORMED);
        await formed.getByRole('link', { name: APP }).waitFor();
        await formed.getByRole('button', { name: 'Delete', exact: true }).click();
        await formed.getByRole('button', { name: `Delete ${FORMED} and its data` }).click();
        await formed.getByRole('alert').filter({ hasText: /service-instance-in-use.*is bound to dash-svc: unbind it first/ }).waitFor();
        assert.equal((await instance(FORMED)).last_operation.state, 'succeeded', 'nothing was changed');

        await formed.getByRole('link', { name: APP }).click();
        await page.getByRole('heading', { name: APP }).first().waitFor();
        const binding = page.locator(`#services li[data-binding="${FORMED}"]`);
        await binding.getByRole('button', { name: 'Unbind' }).click();
        await binding.getByRole('button', { name: `Unbind ${FORMED} from ${APP}` }).click();
        await section.getByRole('status').filter({ hasText: `Unbound ${FORMED} from ${APP}` }).waitFor({ timeout: 60_000 });
        await binding.waitFor({ state: 'detached' });
        assert.deepEqual((await api(platform!, 'GET', `/v1/apps/${APP}/service_bindings`)).json.resources, []);
      },
      { allowErrors: /status of 409/ },
    );
  });

  test('backups: back up now, then restore a backup after a confirmation that the current data is replaced', async (t) => {
    if (!backupsApi) {
      // A controller without the backups API: the card says so instead of failing.
      await step('backups-unavailable', async () => {
        await page.goto(`${platform!.apiUrl}/services`);
        await card(SEEDED).getByText('Backups are not available on this platform').waitFor();
      });
      t.skip('the controller has no backups API: only the fallback was checked');
      return;
    }
    await step('backups', async () => {
      await page.goto(`${platform!.apiUrl}/services`);
      const seeded = card(SEEDED);
      await seeded.getByText('No backup yet').waitFor();
      await seeded.getByRole('button', { name: 'Back up now' }).click();
      await seeded.getByRole('status').filter({ hasText: `Backed up ${SEEDED}` }).waitFor({ timeout: 120_000 });
      const row = seeded.locator('tr[data-state="succeeded"]');
      await row.waitFor();
      await row.getByText('manual').waitFor();
      const backups = (await api(platform!, 'GET', `/v1/service_instances/${SEEDED}/backups`)).json.resources as Array<{ id: string; state: string; size_bytes: number }>;
      assert.equal(backups.length, 1);
      assert.equal(backups[0].state, 'succeeded');
      assert.equal(await row.getAttribute('data-backup'), backups[0].id);

      await row.getByRole('button', { name: /^Restore the backup of / }).click();
      const confirm = row.getByRole('button', { name: `Replace the current data of ${SEEDED} with this backup` });
      await confirm.waitFor();
      assert.equal(
        await page.evaluate('document.activeElement?.textContent'),
        `Replace the current data of ${SEEDED} with this backup`,
        'the confirmation takes the focus (Enter confirms, Tab reaches Cancel)',
      );
      // Cancel first: nothing happens.
      await row.getByRole('button', { name: 'Cancel' }).click();
      assert.equal((await instance(SEEDED)).last_operation.type, 'create', 'a cancelled restore asks nothing');
      await row.getByRole('button', { name: 'Restore' }).click();
      await confirm.click();
      await seeded.getByRole('status').filter({ hasText: `Restoring ${SEEDED}` }).first().waitFor();
      await seeded.getByRole('status').filter({ hasText: `Restored ${SEEDED} from the backup of` }).waitFor({ timeout: 180_000 });
      const view = await instance(SEEDED);
      assert.deepEqual([view.last_operation.type, view.last_operation.state], ['restore', 'succeeded']);
      await page.locator(`li[data-instance="${SEEDED}"][data-operation="restore succeeded"]`).waitFor();

      // The audit log has both, and its targets lead back to the Services page.
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Events' }).click();
      await page.getByRole('combobox', { name: 'Types' }).fill('service-backup-succeeded,service-instance-restore-succeeded');
      await page.locator('tr[data-type="service-backup-succeeded"]').getByRole('link', { name: SEEDED }).waitFor();
      await page.locator('tr[data-type="service-instance-restore-succeeded"]').getByRole('link', { name: SEEDED }).click();
      await card(SEEDED).waitFor();

      // A Redis: an RDB snapshot, restored by its cell (restore-service).
      const cache = card(FORMED);
      await cache.getByRole('button', { name: 'Back up now' }).click();
      await cache.getByRole('status').filter({ hasText: `Backed up ${FORMED}` }).waitFor({ timeout: 120_000 });
      const rdb = cache.locator('tr[data-state="succeeded"]');
      await rdb.getByRole('button', { name: /^Restore the backup of / }).click();
      await rdb.getByRole('button', { name: `Replace the current data of ${FORMED} with this backup` }).click();
      await cache.getByRole('status').filter({ hasText: `Restored ${FORMED} from the backup of` }).waitFor({ timeout: 180_000 });
      const restored = await instance(FORMED);
      assert.deepEqual([restored.last_operation.type, restored.last_operation.state, restored.status], ['restore', 'succeeded', 'available']);
    });
  });

  test('a new instance from the form that starts with the data of a backup', async (t) => {
    if (!backupsApi) {
      t.skip('the controller has no backups API');
      return;
    }
    await step('from-backup', async () => {
      const [backup] = (await api(platform!, 'GET', `/v1/service_instances/${SEEDED}/backups`)).json.resources as Array<{ id: string }>;
      await page.goto(`${platform!.apiUrl}/services`);
      await page.getByText('New service instance', { exact: true }).click();
      const form = page.getByRole('form', { name: 'New service instance' });
      await form.getByRole('combobox', { name: 'Offering' }).selectOption('postgresql');
      const start = form.getByRole('combobox', { name: 'Start with' });
      await start.selectOption(backup.id);
      // Another offering has no such backup (and a backup restores into its own offering only): the choice goes back to an empty server.
      await form.getByRole('combobox', { name: 'Offering' }).selectOption('redis');
      await start.waitFor({ state: 'detached' });
      await form.getByRole('combobox', { name: 'Offering' }).selectOption('postgresql');
      assert.equal(await start.inputValue(), '', 'a choice no longer offered is not sent');
      await start.selectOption(backup.id);
      await form.getByRole('textbox', { name: 'Name' }).fill(COPY);
      await form.getByRole('button', { name: 'Create service' }).click();
      await page.getByRole('status').filter({ hasText: `Creating ${COPY} (postgresql small) in default / default with the data of the chosen backup` }).waitFor();
      await page.locator(`li[data-instance="${COPY}"][data-operation="create succeeded"][data-status="available"]`).waitFor({ timeout: CREATE_MS });
      const copy = await instance(COPY);
      const created = (await api(platform!, 'GET', `/v1/events?types=service-instance-created&target_id=${copy.id}`)).json.resources as Array<{ data: { restore_from_backup?: string } }>;
      assert.equal(created[0]?.data.restore_from_backup, backup.id, 'the API was asked to start it from that backup');
    });
  });

  test('delete an unbound instance from the page: it goes', async () => {
    await step('delete', async () => {
      await page.goto(`${platform!.apiUrl}/services`);
      const formed = card(FORMED);
      await formed.getByRole('button', { name: 'Delete', exact: true }).click();
      await formed.getByRole('button', { name: `Delete ${FORMED} and its data` }).click();
      await formed.waitFor({ state: 'detached', timeout: 120_000 });
      await pollUntil(`${FORMED} is gone from the API`, async () => (await api(platform!, 'GET', `/v1/service_instances/${FORMED}`)).status === 404, { timeoutMs: 30_000 });
      await card(SEEDED).waitFor();
    });
  });

  test('readable on a phone-sized window, and the create form works from the keyboard', async () => {
    await step('phone', async () => {
      await page.setViewportSize({ width: 390, height: 844 });
      await page.goto(`${platform!.apiUrl}/services`);
      await card(SEEDED).waitFor();
      const overflow = async () => Number(await page.evaluate('document.documentElement.scrollWidth - window.innerWidth'));
      assert.ok((await overflow()) <= 1, `no sideways scrolling of the Services page (${await overflow()}px too wide)`);
      await page.goto(`${platform!.apiUrl}/apps/${APP}`);
      await page.locator('#services').getByRole('combobox', { name: 'Service instance' }).waitFor();
      assert.ok((await overflow()) <= 1, `no sideways scrolling of the app page (${await overflow()}px too wide)`);
      await page.goto(`${platform!.apiUrl}/services`);
      await card(SEEDED).waitFor();
      // The form's summary, its fields and its button are reached with Tab and used with the keyboard alone.
      const summary = page.getByText('New service instance', { exact: true });
      await summary.focus();
      await page.keyboard.press('Enter');
      const form = page.getByRole('form', { name: 'New service instance' });
      await form.getByRole('combobox', { name: 'Offering' }).waitFor();
      await page.keyboard.press('Tab');
      assert.equal(await page.evaluate('document.activeElement?.closest("label")?.textContent?.startsWith("Offering")'), true, 'Tab reaches the offering');
      await page.keyboard.press('Tab');
      await page.keyboard.press('Tab');
      await page.keyboard.type('Bad!');
      assert.equal(await form.getByRole('textbox', { name: 'Name' }).inputValue(), 'Bad!', 'Tab reaches the name');
      await page.keyboard.press('Enter');
      await page.getByRole('alert').filter({ hasText: /validation-failed/ }).waitFor();
    }, { allowErrors: /status of 400/ });
  });
});
