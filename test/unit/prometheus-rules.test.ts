// needs: promtool
// The shipped alerting rules are valid (promtool check rules) and each alert
// fires on synthetic series of what it is about and stays silent on normal
// ones (promtool test rules, deploy/prometheus/latchkey-rules.test.yml).
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const PROMTOOL = '/usr/bin/promtool';
const dir = fileURLToPath(new URL('../../deploy/prometheus/', import.meta.url));

const promtool = (...args: string[]) => spawnSync(PROMTOOL, args, { cwd: dir, encoding: 'utf8' });

test('promtool check rules accepts latchkey-rules.yml', (t) => {
  const result = promtool('check', 'rules', 'latchkey-rules.yml');
  t.is(result.status, 0, result.stdout + result.stderr);
  t.regex(result.stdout, /SUCCESS: 9 rules found/);
});

test('promtool test rules: every alert fires on its synthetic series and stays silent on normal ones', (t) => {
  const result = promtool('test', 'rules', 'latchkey-rules.test.yml');
  t.is(result.status, 0, result.stdout + result.stderr);
  t.regex(result.stdout, /SUCCESS/);
});

test('the test file covers every alert, each both firing and silent', (t) => {
  const rules = readFileSync(`${dir}latchkey-rules.yml`, 'utf8');
  const tests = readFileSync(`${dir}latchkey-rules.test.yml`, 'utf8');
  const alerts = [...rules.matchAll(/- alert: (\w+)/g)].map((m) => m[1]);
  t.is(alerts.length, 9);
  for (const alert of alerts) {
    // Each alert's cases: "alertname: X" followed by its exp_alerts; at least one empty, one not.
    const cases = [...tests.matchAll(new RegExp(`alertname: ${alert}\\n\\s+exp_alerts:( \\[\\])?`, 'g'))];
    t.true(cases.some((c) => c[1] === ' []'), `${alert} is never tested silent`);
    t.true(cases.some((c) => c[1] === undefined), `${alert} is never tested firing`);
  }
});
