import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import express, { Router, type RequestHandler } from 'express';
import { notFound } from '../http/errors.ts';

const ASSETS = join(import.meta.dirname, 'assets');
/** socket.io ships its browser client (ESM build included) beside its server. */
const SOCKET_IO_CLIENT = join(dirname(createRequire(import.meta.url).resolve('socket.io')), '..', 'client-dist');
const SERVED = /\.(?:html|js|css|map|svg)$/;

/**
 * Locks the dashboard's pages down: only its own scripts run (no inline script, so an
 * injected string cannot execute), it connects only to its own origin (REST and the
 * socket.io WebSocket), and no other site can frame it.
 */
const securityHeaders: RequestHandler = (_req, res, next) => {
  res.setHeader(
    'Content-Security-Policy',
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  );
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'same-origin');
  next();
};

/**
 * The web dashboard: static ES modules under /dashboard/ (no build step), the socket.io
 * browser client under /dashboard/vendor/, and index.html for every other dashboard path
 * (client-side routes such as /dashboard/deployments/<id> survive a reload).
 */
export function dashboardRoutes(): Router {
  const router = Router();
  router.get('/', (_req, res) => res.redirect(302, '/dashboard/'));
  router.get(/^\/dashboard$/, (_req, res) => res.redirect(301, '/dashboard/'));
  router.use('/dashboard', securityHeaders);
  router.use('/dashboard/vendor', express.static(SOCKET_IO_CLIENT, { index: false, fallthrough: false, maxAge: '1d' }));
  router.use('/dashboard', (req, res, next) => {
    // Only the browser assets; a .ts file or type declaration beside them is not served.
    if (SERVED.test(req.path)) express.static(ASSETS, { index: false, fallthrough: false })(req, res, next);
    else next();
  });
  router.get(/^\/dashboard\/(?:.*)$/, (req, res, next) => {
    // A file name that is not an asset: no such file (not the page, not the API's 401).
    if (/\.[a-z0-9]+$/i.test(req.path)) return next(notFound(`file ${req.path}`));
    res.setHeader('Cache-Control', 'no-cache');
    res.sendFile(join(ASSETS, 'index.html'));
  });
  return router;
}
