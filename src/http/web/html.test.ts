import { describe, expect, it } from 'vitest';
import { html, unsafeRaw } from './html.ts';

describe('html template', () => {
  it('escapes interpolated text', () => {
    const name = '<script>alert("x")</script>&\'`';
    expect(html`<p>${name}</p>`.value).toBe('<p>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;&#96;</p>');
  });
  it('escapes inside attributes', () => {
    expect(html`<input value="${'" onfocus="x'}">`.value).toBe('<input value="&quot; onfocus=&quot;x">');
  });
  it('nests without double escaping and joins arrays', () => {
    const items = ['a<b', 'c'].map((x) => html`<li>${x}</li>`);
    expect(html`<ul>${items}</ul>`.value).toBe('<ul><li>a&lt;b</li><li>c</li></ul>');
  });
  it('drops null, undefined and false; keeps 0', () => {
    expect(html`${null}${undefined}${false}${0}`.value).toBe('0');
  });
  it('passes trusted raw markup', () => {
    expect(html`${unsafeRaw('<br>')}`.value).toBe('<br>');
  });
});
