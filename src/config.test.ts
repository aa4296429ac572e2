import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, insecureSettings, loadConfig, publicUrl } from './config.ts';

const problems = (env: Record<string, string>) => {
  try {
    loadConfig(env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).problems.join('\n');
  }
  throw new Error('expected ConfigError');
};

describe('configuration', () => {
  it('has documented defaults: loopback, port 8080, PGlite in ./data, OWASP argon2id', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      PORT: 8080,
      HOST: '127.0.0.1',
      ARGON2_MEMORY_KIB: 19456,
      ARGON2_ITERATIONS: 2,
      ARGON2_PARALLELISM: 1,
    });
    expect(c.DOSTUP_DATA_DIR).toBe(path.resolve('./data'));
    expect(c.DATABASE_URL).toBeUndefined();
    expect(publicUrl(c)).toBe('http://localhost:8080');
  });

  it('refuses bad values naming the variable', () => {
    expect(problems({ PORT: 'eighty' })).toMatch(/^PORT:/m);
    expect(problems({ PORT: '70000' })).toMatch(/^PORT:/m);
    expect(problems({ DATABASE_URL: 'mysql://x' })).toMatch(/^DATABASE_URL: must start with postgres/m);
    expect(problems({ DOSTUP_ADMIN_TOKEN: 'short' })).toMatch(/^DOSTUP_ADMIN_TOKEN:/m);
    expect(problems({ DOSTUP_SECRETS: `${'a'.repeat(40)},short` })).toMatch(/^DOSTUP_SECRETS:/m);
    expect(problems({ ARGON2_MEMORY_KIB: '1024' })).toMatch(/^ARGON2_MEMORY_KIB:/m);
    expect(problems({ TRUST_PROXY: 'maybe' })).toMatch(/^TRUST_PROXY:/m);
  });

  it('reads a YAML file named by DOSTUP_CONFIG; the environment wins; unknown keys are refused', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'dostup-cfg-'));
    const file = path.join(dir, 'dostup.yaml');
    writeFileSync(file, 'PORT: 9090\nLOG_LEVEL: warn\n');
    expect(loadConfig({ DOSTUP_CONFIG: file })).toMatchObject({ PORT: 9090, LOG_LEVEL: 'warn' });
    expect(loadConfig({ DOSTUP_CONFIG: file, PORT: '9191' }).PORT).toBe(9191);
    writeFileSync(file, 'PROT: 9090\n');
    expect(problems({ DOSTUP_CONFIG: file })).toMatch(/PROT/);
    expect(problems({ DOSTUP_CONFIG: path.join(dir, 'missing.yaml') })).toMatch(/^DOSTUP_CONFIG/);
  });

  it('warns about insecure choices', () => {
    expect(
      insecureSettings(loadConfig({ DOSTUP_PUBLIC_URL: 'http://portal.example', SMTP_URL: 'smtp://x:25' })).join('\n'),
    ).toMatch(/plain http/);
    expect(insecureSettings(loadConfig({ ARGON2_ITERATIONS: '1', SMTP_URL: 'smtp://x:25' })).join('\n')).toMatch(
      /OWASP/,
    );
    expect(
      insecureSettings(loadConfig({ DATABASE_URL: 'postgres://h/db', SMTP_URL: 'smtp://x:25' })).join('\n'),
    ).toMatch(/DOSTUP_SECRETS/);
    expect(insecureSettings(loadConfig({})).join('\n')).toMatch(/dev mailbox/);
    expect(
      insecureSettings(loadConfig({ DOSTUP_PUBLIC_URL: 'https://portal.example', SMTP_URL: 'smtp://x:25' })),
    ).toEqual([]);
  });
});
