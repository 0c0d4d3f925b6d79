import { describe, expect, it } from 'vitest';
import { createRedactor } from './redact.js';
import { createStreamRedactor } from './redact-stream.js';

const run = (secrets: string[], pieces: string[]) => {
  const stream = createStreamRedactor(secrets);
  return pieces.map((piece) => stream.push(piece)).join('') + stream.end();
};

describe('createStreamRedactor', () => {
  const secret = 'glpat-Secret-Token-0123';
  const text = `pushing with ${secret} and ${JSON.stringify({ t: secret })} and ${Buffer.from(secret).toString('base64')}\n`;

  it('removes a secret split between two writes, at every split point', () => {
    for (let at = 0; at <= text.length; at += 1) {
      const out = run([secret], [text.slice(0, at), text.slice(at)]);
      expect(out, `split at ${at}`).toBe(createRedactor([secret])(text));
      expect(out).not.toContain(secret);
    }
  });

  it('removes a secret written one character at a time', () => {
    expect(run([secret], [...text])).toBe(createRedactor([secret])(text));
  });

  it('passes text through at once when it cannot be the start of a secret', () => {
    const stream = createStreamRedactor([secret]);
    expect(stream.push('line one\n')).toBe('line one\n');
    // "glpat-" could begin the secret: held back until the next write says otherwise.
    expect(stream.push('a glpat-')).toBe('a ');
    expect(stream.push('other\n')).toBe('glpat-other\n');
    expect(stream.end()).toBe('');
  });

  it('gives back a held tail at the end, and is a no-op without secrets', () => {
    const stream = createStreamRedactor([secret]);
    expect(stream.push('ends with glpat-Sec')).toBe('ends with ');
    expect(stream.end()).toBe('glpat-Sec');
    expect(run([], ['a', secret])).toBe(`a${secret}`);
  });
});
