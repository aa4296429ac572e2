import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DostupError } from '../errors.ts';
import { loginMachine } from './login/state.ts';
import { canMove, edges, type FlowMachine, isTerminal, move, parseState } from './machine.ts';
import { recoveryMachine } from './recovery/state.ts';

// Every flow kind registered here must have a .mermaid drawing that matches its table exactly.
const MACHINES: [string, FlowMachine<string>][] = [
  ['login/login.mermaid', loginMachine],
  ['recovery/recovery.mermaid', recoveryMachine],
];

function mermaidEdges(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim().match(/^(\w+)\s*-->\s*(\w+)/))
    .filter((m): m is RegExpMatchArray => m !== null && m[1] !== '[*]' && m[2] !== undefined)
    .filter((m) => !m[0].includes('[*]'))
    .map((m) => `${m[1]}->${m[2]}`)
    .sort();
}

describe('flow machines', () => {
  it.each(MACHINES)('%s draws exactly the transitions table', (file, m) => {
    const text = readFileSync(new URL(`./${file}`, import.meta.url), 'utf8');
    expect(mermaidEdges(text)).toEqual(
      edges(m)
        .map(([a, b]) => `${a}->${b}`)
        .sort(),
    );
    expect(text).toContain(`[*] --> ${m.initial}`);
  });

  it('every flow folder with a state.ts is registered above', () => {
    const dirs = readdirSync(new URL('./', import.meta.url), { withFileTypes: true }).filter((d) => d.isDirectory());
    for (const d of dirs) expect(MACHINES.map(([f]) => f.split('/')[0])).toContain(d.name);
  });

  it('refuses a transition that is not in the table', () => {
    expect(canMove(loginMachine, 'awaiting_credentials', 'completed')).toBe(true);
    expect(() => move(loginMachine, 'completed', 'awaiting_credentials')).toThrowError(DostupError);
    try {
      move(loginMachine, 'completed', 'awaiting_credentials');
    } catch (e) {
      expect((e as DostupError).code).toBe('FLOW_STATE_INVALID');
    }
  });

  it('terminal states have no way out', () => {
    expect(isTerminal(loginMachine, 'completed')).toBe(true);
    expect(isTerminal(loginMachine, 'awaiting_credentials')).toBe(false);
  });

  it('narrows states read from storage and refuses unknown ones', () => {
    expect(parseState(loginMachine, 'completed')).toBe('completed');
    expect(() => parseState(loginMachine, 'hacked')).toThrowError(DostupError);
    expect(() => parseState(loginMachine, 'toString')).toThrowError(DostupError);
  });
});
