import express, { Router, type RequestHandler } from 'express';
import { directDeploymentBodySchema, uploadCheckBodySchema } from '@platform/contracts';
import { parseBody } from '../http/errors.ts';
import { ownedProject } from '../projects/access.ts';
import type { Urls } from '../urls.ts';
import { presentDirectDeployment, presentUploaded } from './presenters.ts';
import type { UploadsService } from './uploads-service.ts';

/** Paths whose JSON bodies (manifests of up to 20,000 files) exceed the API's general body limit. */
const MANIFEST_PATHS = /^\/projects\/[^/]+\/(?:uploads\/missing|deployments\/upload)$/;
/** Room for the largest manifest: 100,000 entries of a long path and a hash. */
const MANIFEST_BODY_LIMIT = '64mb';

/**
 * The large manifest bodies, parsed only for a signed-in caller (mounted before the general
 * JSON parser, which then leaves an already parsed body alone).
 */
export function manifestBodyParser(requireUser: RequestHandler): RequestHandler {
  const parse = express.json({ limit: MANIFEST_BODY_LIMIT });
  return (req, res, next) => {
    if (req.method !== 'POST' || !MANIFEST_PATHS.test(req.path)) return next();
    Promise.resolve(requireUser(req, res, (err?: unknown) => (err ? next(err) : parse(req, res, next)))).catch(next);
  };
}

/**
 * Direct uploads, behind the project-owner guard: which contents are missing, one content
 * (raw bytes, checked against the hash in the path), a deployment from a manifest.
 */
export function uploadRoutes(deps: { uploads: UploadsService; urls: Urls }): Router {
  const router = Router();
  const { uploads, urls } = deps;

  router.post('/projects/:projectId/uploads/missing', async (req, res) => {
    const body = parseBody(uploadCheckBodySchema, req.body);
    res.json({ missing: await uploads.missing(ownedProject(res), body) });
  });

  // Any content type: the bytes are the file. The limit is the largest file a deployment may hold.
  // A declared length over the limit is refused before a byte is read, naming the limit.
  const declaredSize: RequestHandler = (req, _res, next) => {
    const length = Number(req.get('content-length') ?? 0);
    next(length > uploads.limits.maxFileBytes ? uploads.tooLarge(length) : undefined);
  };
  const rawBody = express.raw({ type: () => true, limit: uploads.limits.maxFileBytes });
  router.post('/projects/:projectId/uploads/:hash', declaredSize, rawBody, async (req, res) => {
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const path = typeof req.query.path === 'string' ? req.query.path : undefined;
    const stored = await uploads.upload(ownedProject(res), String(req.params.hash), body, path);
    res.status(stored.stored ? 201 : 200).json(presentUploaded(stored));
  });

  router.post('/projects/:projectId/deployments/upload', async (req, res) => {
    const project = ownedProject(res);
    const body = parseBody(directDeploymentBodySchema, req.body);
    const deployment = await uploads.deploy(project, body);
    res.status(202).json({ deployment: presentDirectDeployment(deployment, project, urls) });
  });

  return router;
}
