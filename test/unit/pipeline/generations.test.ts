import { describe, expect, it } from 'vitest';
import { Generations } from '../../../src/pipeline/generations.js';
import type { Deps } from '../../../src/pipeline/index.js';

const deps = (name: string) => ({ name }) as unknown as Deps;

describe('Generations', () => {
  it('a request keeps the generation it took; the swapped-out one is released when its last request ends', () => {
    const generations = new Generations(deps('a'));
    const first = generations.current;
    first.active++; // a request in flight on `a`
    first.active++; // and another
    const released: string[] = [];
    generations.swap(deps('b'), () => released.push('a'));
    expect(generations.current.deps).toEqual({ name: 'b' });
    expect(first.deps).toEqual({ name: 'a' });
    first.leave();
    expect(released).toEqual([]);
    first.leave();
    expect(released).toEqual(['a']);
  });

  it('an idle generation is released at once, and only once', () => {
    const generations = new Generations(deps('a'));
    const first = generations.current;
    const released: string[] = [];
    generations.swap(deps('b'), () => released.push('a'));
    expect(released).toEqual(['a']);
    first.active++;
    first.leave();
    expect(released).toEqual(['a']);
  });

  it('swaps in a row release each generation on its own', () => {
    const generations = new Generations(deps('a'));
    const a = generations.current;
    a.active++;
    const released: string[] = [];
    generations.swap(deps('b'), () => released.push('a'));
    const b = generations.current;
    b.active++;
    generations.swap(deps('c'), () => released.push('b'));
    b.leave();
    expect(released).toEqual(['b']);
    a.leave();
    expect(released).toEqual(['b', 'a']);
  });
});
