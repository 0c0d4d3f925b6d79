import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const FROM_BASE = 'FROM ${BASE_IMAGE}';
const root = fileURLToPath(new URL('../../', import.meta.url));
const dockerfile = readFileSync(`${root}service/Dockerfile`, 'utf8');
const ignored = readFileSync(`${root}service/.dockerignore`, 'utf8')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line !== '' && !line.startsWith('#'));
const instructions = dockerfile
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line !== '' && !line.startsWith('#'));

describe('service/Dockerfile', () => {
  it('is multi-stage on a current LTS slim base, overridable with BASE_IMAGE', () => {
    expect(instructions[0]).toMatch(/^ARG BASE_IMAGE=node:(22|24)-[a-z]+-slim$/);
    expect(instructions.filter((line) => line.startsWith('FROM '))).toEqual([
      `${FROM_BASE} AS deps`,
      `${FROM_BASE} AS build`,
      FROM_BASE,
    ]);
  });

  it('installs production dependencies before any source is copied, so code changes reuse that layer', () => {
    const deps = instructions.slice(
      instructions.indexOf(`${FROM_BASE} AS deps`),
      instructions.indexOf(`${FROM_BASE} AS build`),
    );
    expect(deps.some((line) => line.startsWith('RUN ') && line.includes('npm ci') && line.includes('--omit=dev'))).toBe(
      true,
    );
    expect(deps.some((line) => line.startsWith('COPY ') && line.includes('src'))).toBe(false);
  });

  it('installs from the lockfile with npm ci, never npm install', () => {
    const runs = instructions.filter((line) => line.startsWith('RUN '));
    expect(runs.some((line) => line.includes('npm ci'))).toBe(true);
    expect(runs.some((line) => /npm (install|i)\b/.test(line))).toBe(false);
    expect(runs.some((line) => line.includes('--omit=dev'))).toBe(true);
  });

  it('runs as a non-root user with NODE_ENV=production, port 8080 and node as PID 1', () => {
    const runtime = instructions.slice(instructions.lastIndexOf(FROM_BASE));
    expect(runtime).toContain('ENV NODE_ENV=production');
    expect(runtime).toContain('EXPOSE 8080');
    expect(runtime.find((line) => line.startsWith('USER '))).toMatch(/^USER [1-9]\d*(:[1-9]\d*)?$/);
    expect(runtime.at(-1)).toBe('CMD ["node", "dist/server.js"]');
  });

  it('copies only files that exist in the repository and that .dockerignore lets through', () => {
    const sources = instructions
      .filter((line) => line.startsWith('COPY ') && !line.includes('--from='))
      .flatMap((line) => line.split(/\s+/).slice(1, -1));
    expect(sources.length).toBeGreaterThan(4);
    for (const source of sources) {
      expect(existsSync(`${root}${source}`), `${source} exists`).toBe(true);
      expect(ignored.some((pattern) => source === pattern || source.startsWith(`${pattern}/`))).toBe(false);
    }
  });
});

describe('service/.dockerignore', () => {
  it('keeps what the original ignored, plus tests, coverage and local state', () => {
    for (const pattern of [
      '.git',
      '.dockerignore',
      'deployment',
      '**/node_modules',
      '**/npm-debug.log',
      '.gitlab',
      '**/test',
      '**/coverage',
      '.shipway',
    ]) {
      expect(ignored).toContain(pattern);
    }
  });
});
