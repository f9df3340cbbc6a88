import { StorageTimeoutError } from './storage-timeout.ts';

const page = (title: string, text: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${title}</title>` +
  `<style>body{font:16px/1.5 system-ui,sans-serif;display:grid;place-items:center;min-height:90vh;margin:0;color:#222}main{text-align:center}h1{font-size:3rem;margin:0}p{color:#666}</style>` +
  `</head><body><main><h1>${title}</h1><p>${text}</p></main></body></html>`;

/** The proxy's own pages, as bytes with their headers, built once. */
export interface Page {
  status: number;
  body: Buffer;
  /** Flat `[name, value, ...]` for `res.writeHead`. */
  headers: string[];
}

const make = (status: number, title: string, text: string, extraHeaders: string[] = []): Page => {
  const body = Buffer.from(page(title, text));
  return {
    status,
    body,
    headers: ['Content-Type', 'text/html; charset=utf-8', 'Content-Length', String(body.length), 'Cache-Control', 'no-store', ...extraHeaders],
  };
};

/** The page for a failed storage read: a timeout is the gateway's 504, anything else a 502. */
export function storageFailurePage(err: unknown): Page {
  return err instanceof StorageTimeoutError ? PAGES.gatewayTimeout : PAGES.badGateway;
}

export const PAGES = {
  notFound: make(404, '404', 'This page could not be found.'),
  unknownHost: make(404, '404', 'No deployment is served at this address.'),
  badRequest: make(400, '400', 'The request was not understood.'),
  uriTooLong: make(414, '414', 'The requested address is too long.'),
  // RFC 9110 §15.5.6: a 405 names the methods that are allowed.
  methodNotAllowed: make(405, '405', 'Only GET and HEAD are served here.', ['Allow', 'GET, HEAD']),
  badGateway: make(502, '502', 'The deployment could not be read from storage. Try again shortly.'),
  gatewayTimeout: make(504, '504', 'Storage took too long to answer. Try again shortly.'),
};
