import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type HelloServer } from '../src/create-server.js';

const info = { version: '1.2.3', revision: 'deadbeef', imageDigest: 'sha256:feed' };
let server: HelloServer | undefined;

function build(): HelloServer {
  server = createServer({ info });
  return server;
}

afterEach(async () => {
  await server?.app.close();
  server = undefined;
});

describe('hello service routes', () => {
  it('GET / answers Hello world as text/plain', async () => {
    const response = await build().app.inject({ method: 'GET', url: '/' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(response.body).toBe('Hello world');
  });

  it('GET /healthz is live', async () => {
    const response = await build().app.inject({ method: 'GET', url: '/healthz' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ok' });
  });

  it('GET /readyz is ready until draining starts, then 503 while /healthz stays 200', async () => {
    const { app, startDraining } = build();
    expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
    startDraining();
    const draining = await app.inject({ method: 'GET', url: '/readyz' });
    expect(draining.statusCode).toBe(503);
    expect(draining.json()).toEqual({ status: 'draining' });
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });

  it('GET /version reports package version, revision and image digest', async () => {
    const response = await build().app.inject({ method: 'GET', url: '/version' });
    expect(response.json()).toEqual(info);
  });

  it('GET /metrics counts requests by route template, method and status, with a duration histogram', async () => {
    const { app } = build();
    await app.inject({ method: 'GET', url: '/' });
    await app.inject({ method: 'GET', url: '/' });
    await app.inject({ method: 'GET', url: '/missing/1' });
    await app.inject({ method: 'GET', url: '/missing/2' });
    const response = await app.inject({ method: 'GET', url: '/metrics' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(response.body).toContain('http_requests_total{route="/",method="GET",status="200"} 2');
    // Unknown paths share one series, so a scanner cannot blow up the series count.
    expect(response.body).toContain('http_requests_total{route="unmatched",method="GET",status="404"} 2');
    expect(response.body).toMatch(
      /http_request_duration_seconds_bucket\{le="\+Inf",route="\/",method="GET",status="200"\} 2/,
    );
    expect(response.body).toContain('# TYPE http_request_duration_seconds histogram');
  });

  it('unknown routes answer 404 JSON', async () => {
    const response = await build().app.inject({ method: 'POST', url: '/nope?x=1' });
    expect(response.statusCode).toBe(404);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(response.json()).toEqual({ error: 'Not Found', message: 'no route for POST /nope', statusCode: 404 });
  });

  it('a thrown error answers 500 JSON without leaking the message or stack', async () => {
    const { app } = build();
    app.get('/boom', () => {
      throw new Error('secret database password in message');
    });
    const response = await app.inject({ method: 'GET', url: '/boom' });
    expect(response.statusCode).toBe(500);
    expect(response.json()).toEqual({ error: 'Internal Server Error', statusCode: 500 });
    expect(response.body).not.toContain('secret');
    expect(response.body).not.toContain('at ');
  });

  it('a client error keeps its status and says what was wrong', async () => {
    const { app } = build();
    app.post('/echo', (request) => request.body);
    const response = await app.inject({
      method: 'POST',
      url: '/echo',
      headers: { 'content-type': 'application/json' },
      payload: '{not json',
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ statusCode: 400 });
  });
});
