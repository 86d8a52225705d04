// The token path counts through cells (server/metrics/cells.ts); Prometheus
// must see exactly what prom-client's own Counter and Histogram would print
// for the same events.
import test from 'ava';
import { Counter, Histogram, Registry } from 'prom-client';
import { CellCounter, CellHistogram } from '../../server/metrics/cells.ts';

const BUCKETS = [0.001, 0.01, 0.1, 1];
const OBSERVED = [0.0005, 0.001, 0.002, 0.05, 0.05, 0.5, 3, 0, 0.1];

/** The exposition of one registry, with the one name swapped so the two can be compared. */
const text = async (registry: Registry) => (await registry.metrics()).replaceAll('reference_', 'm_');

test('a CellHistogram prints what prom-client\'s Histogram prints', async (t) => {
  const ours = new Registry();
  const reference = new Registry();
  const cells = new CellHistogram({ name: 'm_seconds', help: 'h', labelNames: ['route', 'method'] as const, buckets: BUCKETS, registers: [ours] });
  const histogram = new Histogram({ name: 'reference_seconds', help: 'h', labelNames: ['route', 'method'] as const, buckets: BUCKETS, registers: [reference] });
  const token = cells.cell('/token', 'POST');
  const auth = cells.cell('/auth', 'GET');
  for (const value of OBSERVED) {
    token.observe(value);
    histogram.labels('/token', 'POST').observe(value);
  }
  auth.observe(0.02);
  histogram.labels('/auth', 'GET').observe(0.02);
  t.is(cells.cell('/token', 'POST'), token, 'one cell per label set');
  t.is(await text(ours), await text(reference));
  const json = async (registry: Registry) => (await registry.getMetricsAsJSON())[0].values
    .map(({ labels, value, metricName }: { labels: object; value: number; metricName?: string }) => ({ labels, value, metricName: metricName?.replace('reference_', 'm_') }));
  t.deepEqual(await json(ours), await json(reference));
});

test('a CellCounter prints what prom-client\'s Counter prints, a new cell at 0 included', async (t) => {
  const ours = new Registry();
  const reference = new Registry();
  const cells = new CellCounter({ name: 'm_total', help: 'h', labelNames: ['grant_type', 'client_id'] as const, registers: [ours] });
  const counter = new Counter({ name: 'reference_total', help: 'h', labelNames: ['grant_type', 'client_id'] as const, registers: [reference] });
  const a = cells.cell('client_credentials', 'a');
  cells.cell('authorization_code', 'b');
  counter.labels('client_credentials', 'a').inc(0);
  counter.labels('authorization_code', 'b').inc(0);
  t.is(await text(ours), await text(reference));
  for (let i = 0; i < 5; i++) { a.inc(); counter.labels('client_credentials', 'a').inc(); }
  t.is(await text(ours), await text(reference));
  // Counts between two scrapes are added once, not again.
  a.inc();
  counter.labels('client_credentials', 'a').inc();
  t.is(await text(ours), await text(reference));
  t.regex(await text(ours), /^m_total\{grant_type="client_credentials",client_id="a"\} 6$/m);
});
