/**
 * The API documentation: the OpenAPI document is generated from the same schemas that
 * validate requests, and its reader at /api/docs works in a browser under our CSP.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, startServer, watchForProblems } from './browser.js';

describe('API documentation', () => {
  let server: Awaited<ReturnType<typeof startServer>>;
  let browser: Browser;
  beforeAll(async () => {
    server = await startServer();
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('documents every API route with the schemas the server validates with', async () => {
    const spec = (await server.app.inject({ method: 'GET', url: '/api/docs/json' })).json() as {
      openapi: string;
      paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { required?: string[] } }> } }>>;
    };
    expect(spec.openapi).toMatch(/^3\./);
    const documented = Object.entries(spec.paths).flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`));
    for (const route of [
      'POST /api/v1/auth/register',
      'POST /api/v1/auth/login',
      'GET /api/v1/rooms',
      'POST /api/v1/rooms/{roomId}/messages',
      'GET /api/v1/rooms/{roomId}/messages',
      'POST /api/v1/invites/{code}/accept',
      'PUT /api/v1/rooms/{roomId}/bans/{userId}',
      'POST /api/v1/rooms/{roomId}/files',
      'GET /api/v1/files/{fileId}',
      'GET /api/v1/files/{fileId}/thumbnail',
      'GET /api/v1/search',
    ]) {
      expect(documented).toContain(route);
    }
    // Search: its query (words and filters), the page it answers and the 503 while the index is built.
    const search = spec.paths['/api/v1/search']!.get! as unknown as {
      parameters: Array<{ name: string; in: string; required?: boolean }>;
      responses: Record<string, { content: Record<string, { schema: { required: string[]; properties: Record<string, { items?: { required: string[] } }> } }> }>;
    };
    expect(search.parameters.map((p) => `${p.in}:${p.name}${p.required ? '!' : ''}`).sort()).toEqual(['query:before', 'query:limit', 'query:q!', 'query:roomId']);
    const searchPage = search.responses['200']!.content['application/json']!.schema;
    expect(searchPage.required).toEqual(['results']);
    expect(searchPage.properties.results!.items!.required).toEqual(['message', 'room']);
    expect(Object.keys(search.responses)).toEqual(expect.arrayContaining(['400', '401', '404', '429', '503']));
    const register = spec.paths['/api/v1/auth/register']!.post!.requestBody!.content['application/json']!.schema;
    expect(register.required).toEqual(['username', 'email', 'password', 'confirmPassword']);
    // The upload is a multipart body (a stream the handler reads), documented as such.
    const upload = spec.paths['/api/v1/rooms/{roomId}/files']!.post!.requestBody!.content;
    expect(Object.keys(upload)).toEqual(['multipart/form-data']);
    expect(upload['multipart/form-data']!.schema.required).toEqual(['file']);
    // Attachments: the send takes file ids (1 to 10, each once), and every message lists its files.
    const send = spec.paths['/api/v1/rooms/{roomId}/messages']!.post! as unknown as {
      requestBody: { content: Record<string, { schema: { properties: Record<string, object>; required: string[] } }> };
      responses: Record<string, { content: Record<string, { schema: { properties: { message: { properties: Record<string, object>; required: string[] } } } }> }>;
    };
    const sendBody = send.requestBody.content['application/json']!.schema;
    expect(sendBody.properties.attachments).toMatchObject({ type: 'array', minItems: 1, maxItems: 10, uniqueItems: true, items: { type: 'string' }, description: expect.stringContaining('invalid_attachment') });
    expect(sendBody.required).not.toContain('attachments');
    const message = send.responses['201']!.content['application/json']!.schema.properties.message;
    expect(message.required).toContain('attachments');
    expect(message.properties.attachments).toMatchObject({ type: 'array', items: { required: ['id', 'name', 'size', 'mime'] } });
  });

  it('renders the documentation page in the browser without CSP violations', async () => {
    const page = await browser.newPage();
    const problems = watchForProblems(page);
    await page.goto(`${server.url}/api/docs`);
    await expect.poll(() => page.locator('.opblock').count(), { timeout: 15_000 }).toBeGreaterThan(10);
    expect(await page.locator('body').innerText()).toContain('/api/v1/auth/register');
    expect(problems).toEqual([]);
  });
});
