import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCatalog } from '../../core/i18n/catalog.ts';
import type { MailSource, Store, StoredDevMail } from '../../core/ports.ts';
import { devMailboxReader } from '../../delivery/dev-mailbox.ts';
import { renderSource } from '../../delivery/mail-templates.ts';
import { openStore } from '../../store/open-store.ts';
import { registerDevMailboxRoutes } from './mailbox-routes.ts';

describe('dev mailbox pages', () => {
  let store: Store;
  let app: FastifyInstance;
  let first: StoredDevMail;
  let second: StoredDevMail;
  let third: StoredDevMail;
  const catalog = loadCatalog();
  let catalogCalls = 0;
  const source: MailSource = {
    template: 'recovery-code',
    locale: 'en',
    params: {
      realmName: 'Portal',
      code: '333333',
      link: 'https://portal.example.test/r/main/recovery/def',
      linkLifetimeMinutes: 30,
      codeLifetimeMinutes: 10,
    },
    branding: null,
  };

  beforeAll(async () => {
    store = await openStore({});
    app = Fastify();
    // Every call into the catalogue is counted: the list page must not render anything.
    const counting = new Proxy(catalog, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver);
        return typeof v === 'function'
          ? (...args: unknown[]) => {
              catalogCalls++;
              return v.apply(target, args);
            }
          : v;
      },
    });
    registerDevMailboxRoutes(app, { mailbox: devMailboxReader(store.devMailbox, counting) });
    await app.ready();
    first = await store.devMailbox.add({
      outboxId: null,
      realm: 'main',
      recipient: 'Ivan@Example.test',
      subject: 'Первое <письмо>',
      textBody: 'Ссылка: https://portal.example.test/r/main/recovery/abc?x=1&y=2 — код 111111',
      htmlBody:
        '<!doctype html><html><head><title>x</title></head><body><p style="color:red">"quoted" & <b>bold</b></p><script>alert(1)</script></body></html>',
      source: null,
    });
    second = await store.devMailbox.add({
      outboxId: null,
      realm: 'main',
      recipient: 'ivan@example.test',
      subject: 'Второе',
      textBody: 'код 222222',
      htmlBody: '<p>2</p>',
      source: null,
    });
    // How the outbox worker stores mail: its source only.
    third = await store.devMailbox.add({
      outboxId: null,
      realm: 'main',
      recipient: 'petr@example.test',
      subject: 'Password recovery — Portal',
      textBody: null,
      htmlBody: null,
      source,
    });
  });

  afterAll(async () => {
    await app?.close();
    await store?.close();
  });

  it('lists mail newest first, escaped, with links to each, rendering none of them', async () => {
    catalogCalls = 0;
    const res = await app.inject('/dev/mailbox');
    expect(catalogCalls).toBe(0);
    expect(res.body).toContain('Password recovery — Portal');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    expect(res.body.indexOf('Второе')).toBeLessThan(res.body.indexOf('Первое'));
    expect(res.body).toContain('Первое &lt;письмо&gt;');
    expect(res.body).toContain(`href="/dev/mailbox/${first.id}"`);
    expect(res.body).toContain('href="/assets/dostup.css"');
    expect(res.body).not.toMatch(/ style="/);
  });

  it('shows one mail: HTML escaped into a sandboxed srcdoc, text with clickable links', async () => {
    const res = await app.inject(`/dev/mailbox/${first.id}`);
    expect(res.statusCode).toBe(200);
    const iframe = res.body.match(/<iframe [^>]*>/)?.[0] ?? '';
    expect(iframe).toMatch(/ sandbox="allow-popups allow-popups-to-escape-sandbox"/);
    expect(iframe).not.toMatch(/allow-scripts|allow-same-origin/);
    // The mail's markup exists only inside the attribute, escaped: it cannot break out of it.
    expect(iframe).toContain(
      'srcdoc="&lt;!doctype html&gt;&lt;html&gt;&lt;head&gt;&lt;base target=&quot;_blank&quot;&gt;',
    );
    expect(res.body).not.toContain('<script>');
    expect(res.body).toContain('&lt;p style=&quot;color:red&quot;&gt;&quot;quoted&quot; &amp; &lt;b&gt;bold');
    expect(res.body).toContain(
      '<a class="link" href="https://portal.example.test/r/main/recovery/abc?x=1&amp;y=2" rel="noreferrer" target="_blank">',
    );
    expect(res.headers['content-security-policy']).toMatch(/script-src 'none'/);
    expect((await app.inject('/dev/mailbox/00000000-0000-4000-8000-000000000000')).statusCode).toBe(404);
    expect((await app.inject('/dev/mailbox/..%2F..%2Fetc')).statusCode).toBe(404);
  });

  it('gives one mail as JSON, with the links of its text', async () => {
    const res = await app.inject(`/dev/mailbox/${first.id}.json`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      id: first.id,
      to: 'Ivan@Example.test',
      subject: 'Первое <письмо>',
      links: ['https://portal.example.test/r/main/recovery/abc?x=1&y=2'],
    });
    expect((await app.inject('/dev/mailbox/nope.json')).statusCode).toBe(404);
  });

  it('gives the latest mail to an address, whatever its case', async () => {
    const res = await app.inject(`/dev/mailbox/latest.json?to=${encodeURIComponent('IVAN@example.test')}`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id: second.id, text: 'код 222222' });
    expect((await app.inject('/dev/mailbox/latest.json?to=nobody%40example.test')).statusCode).toBe(404);
    expect((await app.inject('/dev/mailbox/latest.json')).statusCode).toBe(400);
  });

  it('renders a mail stored as its source when it is viewed: the same text, HTML and links as at send', async () => {
    const sent = renderSource(catalog, source);
    const res = await app.inject(`/dev/mailbox/${third.id}.json`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      text: sent.text,
      html: sent.html,
      links: ['https://portal.example.test/r/main/recovery/def'],
    });
    const page = await app.inject(`/dev/mailbox/${third.id}`);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('333333');
    expect((await app.inject('/dev/mailbox/latest.json?to=petr%40example.test')).json()).toMatchObject({
      id: third.id,
      text: sent.text,
    });
  });
});
