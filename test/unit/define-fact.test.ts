import { describe, expect, it } from 'vitest';
import { distinctFacts } from '../../src/engine/gather.js';
import { defineFact, factKey, stableStringify } from '../../src/facts/define.js';
import { packagesFact } from '../../src/facts/packages.js';
import { pathFact } from '../../src/facts/stat.js';
import { sysctlFact } from '../../src/facts/sysctl.js';
import { ufwState } from '../../src/facts/ufw.js';

describe('defineFact: keys derived from name + arguments', () => {
  it('serialises arguments stably (object keys sorted, arrays in order)', () => {
    expect(stableStringify({ b: 1, a: [2, { d: null, c: 'x' }] })).toBe('{"a":[2,{"c":"x","d":null}],"b":1}');
    expect(factKey('path.stat', ['/srv'])).toBe('path.stat("/srv")');
    expect(factKey('ufw.state', [])).toBe('ufw.state');
    expect(factKey('x', [{ b: 1, a: 2 }])).toBe(factKey('x', [{ a: 2, b: 1 }]));
  });

  it('the factories keep their signatures and set-like arguments give one key whatever the order', () => {
    expect(pathFact('/srv')).toMatchObject({ key: 'path.stat("/srv")', name: 'path.stat', args: ['/srv'] });
    expect(packagesFact(['ufw', 'curl', 'ufw']).key).toBe(packagesFact(['curl', 'ufw']).key);
    expect(sysctlFact(['b', 'a']).key).toBe('host.sysctl(["a","b"])');
    expect(ufwState.key).toBe('ufw.state');
    // A path with quotes or commas cannot collide with another argument list.
    expect(pathFact('/a","b').key).not.toBe(factKey('path.stat', ['/a', 'b']));
  });

  it('gathering probes equal keys once and refuses two different probes under one key', () => {
    expect(distinctFacts([pathFact('/srv'), pathFact('/srv'), pathFact('/opt')]).map((f) => f.key)).toEqual([
      'path.stat("/srv")',
      'path.stat("/opt")',
    ]);
    const a = defineFact('t', [1], 'echo a', () => 'a');
    const b = defineFact('t', [1], 'echo b', () => 'b');
    expect(() => distinctFacts([a, b])).toThrow('two different facts share the key t(1)');
  });
});
