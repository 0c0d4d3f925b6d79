import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { formatKustomization, mergeImages, parseSetImageArgs, readImages, setImagesInDocument } from './set-image.js';

const D = `sha256:${'0123456789abcdef'.repeat(4)}`;
const entry = (name: string, newName = '', newTag = '', digest = '') => ({ name, newName, newTag, digest });

describe('parseSetImageArgs: every form `kustomize edit set image` accepts', () => {
  it.each([
    ['name=newName:tag', 'app=registry.io/team/app:1.2', entry('app', 'registry.io/team/app', '1.2')],
    ['name:tag', 'app:1.2', entry('app', '', '1.2')],
    ['name@digest', `app@${D}`, entry('app', '', '', D)],
    ['name:tag@digest', `app:1.2@${D}`, entry('app', '', '1.2', D)],
    ['name=newName@digest', `app=registry.io/app@${D}`, entry('app', 'registry.io/app', '', D)],
    ['name=newName:tag@digest', `app=registry.io/app:1.2@${D}`, entry('app', 'registry.io/app', '1.2', D)],
    ['name=newName', 'app=registry.io/app', entry('app', 'registry.io/app')],
    ['a registry port is not a tag', 'app=localhost:5000/app', entry('app', 'localhost:5000/app')],
    ['registry port and tag', 'app=localhost:5000/app:v1', entry('app', 'localhost:5000/app', 'v1')],
    ['* keeps a field', 'app=*:v2', entry('app', '*', 'v2')],
  ])('%s', (_form, arg, expected) => {
    expect(parseSetImageArgs([arg])).toEqual([expected]);
  });

  it("fails with kustomize's message when no image is given", () => {
    expect(() => parseSetImageArgs([])).toThrow(/^no image specified$/);
  });

  it.each(['app', 'a=b=c', 'app:bad tag', '', '=x:y', ':v1', `@${D}`, `app@${D}@${D}`, 'a=b@c@d'])(
    'rejects %j with the list of accepted forms',
    (arg) => {
      expect(() => parseSetImageArgs([arg])).toThrow(
        /^invalid format of image, use one of the following options:\n- <image>=<newimage>:<newtag>/,
      );
    },
  );

  it.each([`app@sha256:${'A'.repeat(64)}`, `app@md5:${'a'.repeat(32)}`, 'app=reg/app:v1@sha256:abc'])(
    'rejects %j: only OCI registered digests (sha256, sha512) are pinned',
    (arg) => {
      expect(() => parseSetImageArgs([arg])).toThrow(/^invalid digest /);
    },
  );

  it('accepts sha512 and * for the digest', () => {
    const long = `sha512:${'ab'.repeat(64)}`;
    expect(parseSetImageArgs([`app@${long}`, 'db@*'])).toEqual([entry('app', '', '', long), entry('db', '', '', '*')]);
  });

  it('checks every argument before returning any: one bad one anywhere rejects the call', () => {
    expect(() => parseSetImageArgs(['app:v2', 'db:16', ':v1'])).toThrow(/invalid format/);
  });

  it('a later argument for the same name wins', () => {
    expect(parseSetImageArgs(['app:1', 'app:2'])).toEqual([entry('app', '', '2')]);
  });
});

describe("mergeImages: kustomize's merge rule", () => {
  it('replaces the whole entry of that name: fields not given are dropped', () => {
    const merged = mergeImages([entry('app', 'old/app', 'v1', D)], [entry('app', '', 'v2')]);
    expect(merged).toEqual([entry('app', '', 'v2')]);
  });

  it('* keeps the existing new name, tag or digest', () => {
    const existing = [entry('app', 'reg/app', 'v1', D)];
    expect(mergeImages(existing, [entry('app', '*', 'v2', '*')])).toEqual([entry('app', 'reg/app', 'v2', D)]);
    expect(mergeImages(existing, [entry('app', 'other/app', '*', '')])).toEqual([entry('app', 'other/app', 'v1')]);
  });

  it('* with nothing to keep becomes empty', () => {
    expect(mergeImages([], [entry('app', '*', '*', '*')])).toEqual([entry('app')]);
  });

  it('keeps other entries and sorts by name', () => {
    const merged = mergeImages([entry('zeta', '', '1'), entry('alpha', '', '1')], [entry('mid', '', '2')]);
    expect(merged.map((image) => image.name)).toEqual(['alpha', 'mid', 'zeta']);
  });
});

describe('setImagesInDocument: edits in place', () => {
  const original = `# Overlay for dev.
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization

namespace: dev # where it runs
resources:
  - ../base

images:
  # the database stays pinned
  - name: postgres
    newTag: "16"
  - name: app # set by the pipeline
    newName: old/app
    newTag: v1
`;

  // A comment before the first item belongs to the list in YAML's model, so it stays at its top.
  it("keeps comments, blank lines and the order of other keys; writes kustomize's key order", () => {
    const document = parseDocument(original);
    expect(setImagesInDocument(document, [entry('app', 'reg.io/app', 'v2', D)])).toBe(true);
    expect(formatKustomization(document)).toBe(`# Overlay for dev.
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization

namespace: dev # where it runs
resources:
  - ../base

images:
  # the database stays pinned
  - name: app # set by the pipeline
    newName: reg.io/app
    newTag: v2
    digest: ${D}
  - name: postgres
    newTag: "16"
`);
  });

  it('reports no change when the entry is already there', () => {
    const document = parseDocument(original);
    expect(setImagesInDocument(document, [entry('app', 'old/app', 'v1')])).toBe(false);
    expect(formatKustomization(document)).toBe(original);
  });

  it.each(['553640e6', '1234567', '1e3', '0x1f', 'true', 'yes', 'on', '1_000', '.5'])(
    'quotes the number-like or boolean-like tag %s',
    (tag) => {
      const document = parseDocument('images: []\n');
      setImagesInDocument(document, [entry('app', '', tag)]);
      expect(formatKustomization(document)).toContain(`newTag: "${tag}"`);
      expect(parseDocument(formatKustomization(document), { version: '1.1' }).toJS().images[0].newTag).toBe(tag);
    },
  );

  it('adds an images list when there is none', () => {
    const document = parseDocument('resources:\n  - ../base\n');
    setImagesInDocument(document, [entry('app', 'reg/app', 'abc1234')]);
    expect(formatKustomization(document)).toBe(
      'resources:\n  - ../base\nimages:\n  - name: app\n    newName: reg/app\n    newTag: abc1234\n',
    );
  });

  it('rejects a malformed images list with its path', () => {
    expect(() => setImagesInDocument(parseDocument('images: {a: 1}\n'), [entry('x')])).toThrow('images must be a list');
    expect(() => setImagesInDocument(parseDocument('images:\n  - newTag: v1\n'), [entry('x')])).toThrow(
      'images[0].name is required',
    );
  });
});

describe('readImages: digests in a kustomization are OCI digests', () => {
  it.each([`sha256:${'A'.repeat(64)}`, `md5:${'a'.repeat(32)}`, 'sha256:abc'])(
    'rejects digest: %s with its path',
    (digest) => {
      const document = parseDocument(`images:\n  - name: db\n    newTag: "16"\n  - name: app\n    digest: ${digest}\n`);
      expect(() => readImages(document)).toThrow(`images[1].digest ${JSON.stringify(digest)} is not an OCI digest`);
    },
  );

  it('reads sha256 and sha512 digests', () => {
    const long = `sha512:${'ab'.repeat(64)}`;
    expect(readImages(parseDocument(`images:\n  - name: app\n    digest: ${long}\n`))).toEqual([
      entry('app', '', '', long),
    ]);
  });
});
