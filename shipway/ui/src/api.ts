/** The page's view of its session: whether it may read, act, and the CSRF token every POST carries. */
export interface SessionInfo {
  authenticated: boolean;
  readable: boolean;
  allowActions: boolean;
  csrf: string | null;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

let csrf: string | null = null;

export function setCsrf(token: string | null): void {
  csrf = token;
}

async function answer<T>(response: Response): Promise<T> {
  const body = (await response.json().catch(() => ({}))) as { code?: string; message?: string; hint?: string };
  if (!response.ok)
    throw new ApiError(
      response.status,
      body.code ?? 'HTTP',
      `${body.message ?? response.statusText}${body.hint ? ` (${body.hint})` : ''}`,
    );
  return body as T;
}

export async function get<T>(path: string): Promise<T> {
  return answer<T>(await fetch(path, { credentials: 'same-origin', headers: { accept: 'application/json' } }));
}

export async function post<T>(path: string, body: unknown): Promise<T> {
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
  if (csrf !== null) headers['x-csrf-token'] = csrf;
  return answer<T>(
    await fetch(path, { method: 'POST', credentials: 'same-origin', headers, body: JSON.stringify(body) }),
  );
}

export const appPath = (app: string) => `/api/apps/${encodeURIComponent(app)}`;
