import test from 'ava';
import { escapeHtml, html, raw, SafeHtml } from '../../views/html.ts';

test('escapes every interpolated string', (t) => {
  const evil = `<script>alert("x")</script>&'`;
  t.is(html`<p>${evil}</p>`.value, '<p>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;</p>');
});

test('escapes inside quoted attributes', (t) => {
  t.is(html`<input value="${'" onfocus="alert(1)'}">`.value, '<input value="&quot; onfocus=&quot;alert(1)">');
});

test('nested templates compose without double escaping', (t) => {
  const inner = html`<b>${'a&b'}</b>`;
  t.true(inner instanceof SafeHtml);
  t.is(html`<p>${inner}</p>`.value, '<p><b>a&amp;b</b></p>');
});

test('arrays are joined, escaping plain items', (t) => {
  const items = ['<x>', 'y'].map((item) => html`<li>${item}</li>`);
  t.is(html`<ul>${items}</ul>`.value, '<ul><li>&lt;x&gt;</li><li>y</li></ul>');
  t.is(html`${['<a>', raw('<b>')]}`.value, '&lt;a&gt;<b>');
});

test('raw() passes markup through; null, undefined and false render nothing', (t) => {
  t.is(html`${raw('<hr>')}|${null}|${undefined}|${false}|${0}`.value, '<hr>||||0');
});

test('objects that merely look safe are still escaped', (t) => {
  t.is(html`${{ value: '<i>', toString: () => '<i>' }}`.value, '&lt;i&gt;');
  t.is(escapeHtml(`&<>"'`), '&amp;&lt;&gt;&quot;&#39;');
});
