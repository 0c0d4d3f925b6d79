import { describe, expect, it } from 'vitest';
import { describeRegistryError } from './registry-error-body.js';

// distribution-spec spec.md, "Error Codes": `{"errors":[{code, message?, detail?}]}` when JSON.
describe('describeRegistryError', () => {
  it('an OCI error body: message, then code and detail', () => {
    expect(
      describeRegistryError(
        '{"errors":[{"code":"MANIFEST_BLOB_UNKNOWN","message":"blob unknown to registry","detail":"sha256:ab"}]}',
      ),
    ).toBe('blob unknown to registry (MANIFEST_BLOB_UNKNOWN: sha256:ab)');
  });

  it('no or empty message: the code; structured detail as JSON; several errors joined', () => {
    expect(
      describeRegistryError(
        JSON.stringify({ errors: [{ code: 'DENIED' }, { code: 'UNAUTHORIZED', message: ' ', detail: { a: 1 } }] }),
      ),
    ).toBe('DENIED; UNAUTHORIZED: {"a":1}');
  });

  it('a message with escaped quotes is kept whole', () => {
    expect(describeRegistryError(JSON.stringify({ errors: [{ code: 'DENIED', message: 'no "push" here' }] }))).toBe(
      'no "push" here (DENIED)',
    );
  });

  it('not JSON, or JSON of another shape: the text itself, on one line', () => {
    expect(describeRegistryError('<h1>502 Bad Gateway</h1>\n')).toBe('<h1>502 Bad Gateway</h1>');
    expect(describeRegistryError('{"message":"x","errors":"nope"}')).toBe('{"message":"x","errors":"nope"}');
    expect(describeRegistryError('{"errors":[]}')).toBe('{"errors":[]}');
    expect(describeRegistryError('{"errors":[{"message":"no code"}]}')).toBe('{"errors":[{"message":"no code"}]}');
    expect(describeRegistryError('')).toBe('');
  });

  it('control characters never reach the terminal, and long text is cut at 200 characters', () => {
    expect(describeRegistryError('bad\u001b]0;title\u0007 news\r\nnext')).toBe('bad ]0;title news next');
    const long = describeRegistryError('x'.repeat(1000));
    expect(long).toHaveLength(200);
    expect(long.endsWith('…')).toBe(true);
  });
});
