/**
 * tools/bench/schedule: the scheduler's placement at scale, in process, with the controller's own
 * placement rule (placeInstance + reserve from @paas/scheduling).
 *
 * Scenario 1 (placement only): 1,000 cells (zones z1..z3, 32 GB, 100 containers each) and 400 apps
 * of 50 instances (256-1024 MB), placed one by one, app after app, each app with its own spread
 * maps, as a deployment does. Prints the time, placements/s, how evenly cells are loaded and how
 * evenly each app spread over the zones.
 * Scenario 2 (placement + start): the same, with one FakeRuntime per simulated cell starting each
 * placed instance (startLatencyMs from BENCH_START_LATENCY_MS, default 0); an app's 50 starts run
 * concurrently, as a deployment's do. Then checks every runtime runs what was booked on its cell.
 *
 * BENCH_CELLS, BENCH_APPS and BENCH_INSTANCES_PER_APP change the sizes.
 */
import type { CellPresence } from '@paas/contracts';
// The bench drives the cell-side fake runtime directly: a tools → scope:cell edge, allowed here on
// purpose (a benchmark, never shipped; see the report asking to allow scope:tools → scope:cell).
import { FakeRuntime, type ContainerSpec } from '@paas/runtime';
import { placeInstance, reserve } from '@paas/scheduling';

const CELLS = Number(process.env.BENCH_CELLS ?? 1_000);
const APPS = Number(process.env.BENCH_APPS ?? 400);
const PER_APP = Number(process.env.BENCH_INSTANCES_PER_APP ?? 50);
const START_LATENCY_MS = Number(process.env.BENCH_START_LATENCY_MS ?? 0);
const ZONES = ['z1', 'z2', 'z3'];
const CELL_MEMORY_MB = 32 * 1024;
const CELL_MAX_CONTAINERS = 100;
/** 256, 512, 768, 1024 MB in turn: a deterministic mix, averaging 640 MB. */
const memoryOf = (app: number) => 256 * (1 + (app % 4));

type SpreadMaps = { perCell: Map<string, number>; perZone: Map<string, number> };

function buildCells(): CellPresence[] {
  const startedAt = new Date().toISOString();
  return Array.from({ length: CELLS }, (_, i) => ({
    id: `cell-${String(i).padStart(4, '0')}`,
    address: '127.0.0.1',
    zone: ZONES[i % ZONES.length],
    capacity: { memoryMb: CELL_MEMORY_MB, maxContainers: CELL_MAX_CONTAINERS },
    instances: 0,
    usedMemoryMb: 0,
    state: 'live' as const,
    startedAt,
  }));
}

interface Outcome {
  name: string;
  ms: number;
  placed: number;
  unplaced: number;
  cells: CellPresence[];
  spreads: SpreadMaps[];
}

/** Places one app's instances one by one; returns the chosen cells (undefined: could not place). */
function placeApp(cells: CellPresence[], memoryMb: number, spread: SpreadMaps): Array<CellPresence | undefined> {
  const chosen: Array<CellPresence | undefined> = [];
  for (let i = 0; i < PER_APP; i++) {
    const placed = placeInstance(cells, memoryMb, spread);
    if ('cell' in placed) {
      reserve(placed.cell, memoryMb, spread);
      chosen.push(placed.cell);
    } else {
      chosen.push(undefined);
    }
  }
  return chosen;
}

function placementOnly(): Outcome {
  const cells = buildCells();
  const spreads: SpreadMaps[] = [];
  let placed = 0;
  const t0 = performance.now();
  for (let app = 0; app < APPS; app++) {
    const spread: SpreadMaps = { perCell: new Map(), perZone: new Map() };
    placed += placeApp(cells, memoryOf(app), spread).filter(Boolean).length;
    spreads.push(spread);
  }
  const ms = performance.now() - t0;
  return { name: 'placement only', ms, placed, unplaced: APPS * PER_APP - placed, cells, spreads };
}

function specFor(cell: CellPresence, app: number, index: number, memoryMb: number): ContainerSpec {
  return {
    id: `${cell.id}-a${app}-${index}`,
    layers: [`/droplets/app-${app}`],
    command: ['/bin/sh', '-c', 'cd /home/vcap/app && exec node server.js'],
    cwd: '/home/vcap/app',
    env: { PORT: '8080', INSTANCE_INDEX: String(index) },
    user: { uid: 2000, gid: 2000 },
    memoryMb,
    pidsLimit: 1024,
    containerPort: 8080,
    labels: { app: String(app), index: String(index) },
  };
}

async function placementAndStart(): Promise<Outcome & { runtimes: Map<string, FakeRuntime> }> {
  const cells = buildCells();
  const runtimes = new Map(cells.map((cell, i) => [cell.id, new FakeRuntime({ prefix: cell.id, startLatencyMs: START_LATENCY_MS, subnet: `10.${100 + (i >> 8)}.${i & 255}.0/24` })]));
  const spreads: SpreadMaps[] = [];
  let placed = 0;
  const t0 = performance.now();
  for (let app = 0; app < APPS; app++) {
    const spread: SpreadMaps = { perCell: new Map(), perZone: new Map() };
    const memoryMb = memoryOf(app);
    const chosen = placeApp(cells, memoryMb, spread);
    const started = await Promise.all(
      chosen.map((cell, index) => (cell ? runtimes.get(cell.id)!.start(specFor(cell, app, index, memoryMb)) : undefined)),
    );
    placed += started.filter(Boolean).length;
    spreads.push(spread);
  }
  const ms = performance.now() - t0;
  return { name: `placement + FakeRuntime.start (latency ${START_LATENCY_MS} ms)`, ms, placed, unplaced: APPS * PER_APP - placed, cells, spreads, runtimes };
}

function minMax(values: number[]): { min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { min, max };
}

function row(o: Outcome): string[] {
  const perCell = minMax(o.cells.map((c) => c.instances));
  const memory = minMax(o.cells.map((c) => c.usedMemoryMb));
  const zoneSkew = o.spreads.map((s) => {
    const counts = ZONES.map((z) => s.perZone.get(z) ?? 0);
    return Math.max(...counts) - Math.min(...counts);
  });
  const skew = minMax(zoneSkew);
  const perAppCells = minMax(o.spreads.map((s) => Math.max(...s.perCell.values())));
  return [
    o.name,
    `${(o.ms / 1000).toFixed(2)} s`,
    `${Math.round(o.placed / (o.ms / 1000)).toLocaleString('en-US')}/s`,
    `${o.placed.toLocaleString('en-US')} (${o.unplaced} unplaced)`,
    `${perCell.min}..${perCell.max}`,
    `${memory.min}..${memory.max} MB`,
    `${skew.max} (worst app)`,
    `${perAppCells.max}`,
  ];
}

function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join(' | ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('-+-'));
  for (const r of rows) console.log(line(r));
}

async function main(): Promise<void> {
  console.log(`schedule: ${CELLS} cells (zones ${ZONES.join('/')}, ${CELL_MEMORY_MB / 1024} GB, ${CELL_MAX_CONTAINERS} containers each), ${APPS} apps x ${PER_APP} instances (256-1024 MB)\n`);
  const first = placementOnly();
  const second = await placementAndStart();

  // The fake runtimes must run exactly what the placement booked on each cell.
  let mismatches = 0;
  for (const cell of second.cells) {
    if (second.runtimes.get(cell.id)!.runningCount() !== cell.instances) mismatches++;
  }
  const sameAsFirst = first.cells.every((c, i) => c.instances === second.cells[i].instances);

  printTable(
    ['scenario', 'total', 'placements', 'placed', 'instances/cell (min..max)', 'memory/cell (min..max)', 'zone spread max-min per app', 'max instances of one app on a cell'],
    [row(first), row(second)],
  );
  console.log(`\nfake runtimes agree with the booked placements: ${mismatches === 0 ? 'yes' : `no, ${mismatches} cells differ`}`);
  console.log(`both scenarios made the same placements: ${sameAsFirst ? 'yes' : 'no'}`);
  if (mismatches > 0 || first.unplaced > 0) process.exitCode = 1;
}

main().catch((error: Error) => {
  console.error(error.stack ?? error.message);
  process.exit(1);
});
