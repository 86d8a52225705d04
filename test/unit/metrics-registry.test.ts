// Every metric Latchkey exports is named latchkey_*, has help text, has only
// labels from a bounded set, and is documented in the README's metric table
// (and nothing there is stale); the dashboard and the alert rules only query
// metrics that exist.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { LatchkeyMetrics, METRIC_PREFIX } from '../../server/metrics/registry.ts';

const read = (file: string) => readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8');

// The labels each family may have: a new label must be added here on purpose,
// after checking its values come from a fixed set.
const BOUNDED_LABELS = new Set(['route', 'method', 'status', 'grant_type', 'client_id', 'error', 'outcome', 'kind', 'change', 'limit', 'operation', 'command']);

interface Family { name: string; help: string; type: string; labels: string[] }

async function families(metrics: LatchkeyMetrics): Promise<Family[]> {
  const json = await metrics.registry.getMetricsAsJSON();
  return json.map((m) => ({
    name: m.name,
    help: m.help,
    type: String(m.type),
    labels: [...new Set((m as unknown as { values: { labels: Record<string, unknown> }[] }).values.flatMap((v) => Object.keys(v.labels)))],
  }));
}

/** Latchkey's own families (the process defaults are prom-client's). */
const own = (list: Family[]) => list.filter((f) => !/^latchkey_(process|nodejs)_/.test(f.name));

/** The names a PromQL expression refers to (series selectors), with the _bucket/_sum/_count suffixes. */
const referenced = (expr: string) => [...expr.matchAll(/\b(latchkey_[a-z0-9_]+)/g)].map((m) => m[1]);

/** Every series name the registry can produce, including histogram parts and the process defaults. */
async function exportedNames(): Promise<Set<string>> {
  const metrics = new LatchkeyMetrics();
  const names = new Set<string>();
  for (const family of await families(metrics)) {
    names.add(family.name);
    if (family.type === 'histogram') for (const part of ['_bucket', '_sum', '_count']) names.add(family.name + part);
    if (family.type === 'summary') for (const part of ['_sum', '_count']) names.add(family.name + part);
  }
  return names;
}

test('every metric is latchkey_-prefixed, with help text and bounded labels', async (t) => {
  const list = await families(new LatchkeyMetrics());
  t.true(list.length > 30, 'the process defaults are collected too');
  t.true(list.some((f) => f.name === 'latchkey_nodejs_eventloop_lag_seconds'));
  t.true(list.some((f) => f.name === 'latchkey_nodejs_gc_duration_seconds'));
  t.true(list.some((f) => f.name === 'latchkey_nodejs_heap_size_used_bytes'));
  for (const family of list) {
    t.true(family.name.startsWith(METRIC_PREFIX), family.name);
    t.true(family.help.length > 10, `${family.name} has help text`);
  }
  const metrics = new LatchkeyMetrics({ defaults: false });
  // Labels are declared on the metric objects; read them from there (a family without samples has none to show).
  for (const metric of Object.values(metrics)) {
    const declared = (metric as { labelNames?: string[] }).labelNames;
    if (!declared) continue;
    for (const label of declared) t.true(BOUNDED_LABELS.has(label), `${(metric as { name: string }).name}: label ${label}`);
  }
});

test('the README metric table lists every Latchkey metric, with its type and labels, and nothing else', async (t) => {
  const readme = read('README.md');
  const rows = [...readme.matchAll(/^\| `(latchkey_[a-z_]+)` \| (counter|gauge|histogram) \| ([^|]*) \|/gm)]
    .map(([, name, type, labels]) => ({ name, type, labels: [...labels.matchAll(/`([a-z_]+)`/g)].map((m) => m[1]).sort() }));
  const metrics = new LatchkeyMetrics({ defaults: false });
  const expected = (await families(metrics)).map((f) => ({
    name: f.name,
    type: f.type,
    labels: [...((Object.values(metrics).find((m) => (m as { name?: string }).name === f.name) as { labelNames?: string[] })?.labelNames ?? [])].sort(),
  }));
  t.deepEqual(rows.sort((a, b) => a.name.localeCompare(b.name)), expected.sort((a, b) => a.name.localeCompare(b.name)));
});

test('the Grafana dashboard is valid JSON and queries only exported metrics', async (t) => {
  const dashboard = JSON.parse(read('deploy/grafana/latchkey.json')) as { panels: { title: string; targets?: { expr: string }[] }[] };
  const names = await exportedNames();
  const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((target) => ({ panel: p.title, expr: target.expr })));
  t.true(exprs.length >= 10);
  const used = new Set<string>();
  for (const { panel, expr } of exprs) {
    for (const name of referenced(expr)) {
      used.add(name.replace(/_(bucket|sum|count)$/, ''));
      t.true(names.has(name), `${panel}: ${name} is not exported`);
    }
  }
  // A panel for each family Latchkey defines.
  for (const family of own(await families(new LatchkeyMetrics({ defaults: false })))) {
    t.true(used.has(family.name), `no panel shows ${family.name}`);
  }
});

test('the alert rules query only exported metrics', async (t) => {
  const rules = read('deploy/prometheus/latchkey-rules.yml');
  const names = await exportedNames();
  const used = referenced(rules.split('\n').filter((line) => !line.trim().startsWith('#')).join('\n'))
    .filter((name) => !name.startsWith('latchkey:')); // recording rules' own names
  t.true(used.length > 5);
  for (const name of used) t.true(names.has(name), `${name} is not exported`);
});
