import { describe, expect, it } from 'vitest';
import { formatImageRef, isPinnableDigest, isValidDigest, parseImageRef } from './image-ref.js';

const D = `sha256:${'ab'.repeat(32)}`;

describe('parseImageRef', () => {
  it.each([
    ['hello', { repository: 'hello', tag: null, digest: null }],
    ['127.0.0.1:5000/hello:v1', { repository: '127.0.0.1:5000/hello', tag: 'v1', digest: null }],
    [
      `1234.dkr.ecr.ap-northeast-2.amazonaws.com/team/hello:553640e6@${D}`,
      { repository: '1234.dkr.ecr.ap-northeast-2.amazonaws.com/team/hello', tag: '553640e6', digest: D },
    ],
    [`localhost:5000/a/b@${D}`, { repository: 'localhost:5000/a/b', tag: null, digest: D }],
  ])('%s', (text, expected) => {
    expect(parseImageRef(text)).toEqual(expected);
    expect(formatImageRef(expected)).toBe(text);
  });

  it.each([
    ['team/Upper', /bad repository/],
    ['repo:tag with space', /bad tag/],
    [`repo:${'x'.repeat(129)}`, /bad tag/],
    ['repo@sha256:abc', /bad digest/],
    [`repo@sha256:${'A'.repeat(64)}`, /bad digest/],
    [`repo@md5:${'a'.repeat(32)}`, /bad digest/],
    [`repo@sha384:${'a'.repeat(96)}`, /bad digest/],
    [`repo@sha512:${'A'.repeat(128)}`, /bad digest/],
    ['', /bad repository/],
  ])('rejects %s', (text, message) => {
    expect(() => parseImageRef(text)).toThrow(message);
  });
});

// OCI image-spec v1.1.1 descriptor.md, "Digests" and "Registered algorithms".
describe('digests', () => {
  const hex = (n: number) => '0123456789abcdef'.repeat(8).slice(0, n);
  it.each([
    [`sha256:${hex(64)}`, true, true],
    [`sha512:${hex(128)}`, true, true],
    // Registered algorithms have exact encodings: lowercase hex of the right length.
    [`sha256:${hex(64).toUpperCase()}`, false, false],
    [`sha256:${hex(63)}`, false, false],
    [`sha512:${hex(128).toUpperCase()}`, false, false],
    [`sha512:${hex(64)}`, false, false],
    // Unregistered but grammatical: the registry lets them through (the spec says SHOULD), shipway
    // never pins by them.
    [`md5:${hex(32)}`, true, false],
    [`sha384:${hex(96)}`, true, false],
    [`multihash+base58:${'Qm'.repeat(20)}`, true, false],
    ['sha256:', false, false],
    [':abc', false, false],
    [`SHA256:${hex(64)}`, false, false],
    [`constructor:${hex(64)}`, true, false],
  ])('%s: valid %s, pinnable %s', (digest, valid, pinnable) => {
    expect(isValidDigest(digest)).toBe(valid);
    expect(isPinnableDigest(digest)).toBe(pinnable);
  });
});
