import { randomUUID } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from '../logger.js';
import type { Services } from '../services/index.js';
import type { RestAction, RestCall, RestRoutes } from './action.js';
import { sendFailure, successEnvelope, type CodeStyle } from './envelope.js';
import { describeInvalidInput } from './input.js';
import { tokenFrom } from '../http/authorization.js';

export const BODY_LIMIT_BYTES = 1024 * 1024;

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function pickAction(url: string, actions: Record<string, RestAction>, body: Record<string, unknown>): RestAction | string {
  if (actions['']) return actions[''];
  const valid = Object.keys(actions).join(', ');
  const name = body.Action;
  if (name === undefined || name === null || name === '') return `Action is required; valid actions for ${url}: ${valid}.`;
  if (typeof name !== 'string') return `Action must be a string; valid actions for ${url}: ${valid}.`;
  return Object.hasOwn(actions, name) ? actions[name] : `Unknown Action "${name.slice(0, 64)}" for ${url}; valid actions: ${valid}.`;
}

/** One dispatcher for every legacy URL: URL + Action → a service call → the documented reply. */
export function restRouter(services: Services, log: Logger, routes: RestRoutes): express.Router {
  const router = express.Router({ caseSensitive: true });
  const parseJson = express.json({ limit: BODY_LIMIT_BYTES, type: () => true, strict: false });

  async function dispatch(url: string, actions: Record<string, RestAction>, req: Request, res: Response): Promise<void> {
    // an empty body reads as {}: the message then names what is missing
    const body: unknown = req.body === undefined ? {} : req.body;
    if (!isPlainObject(body)) {
      return sendFailure(res, 'bool', { code: 'INVALID_INPUT', message: 'The request body must be a JSON object.' });
    }
    const picked = pickAction(url, actions, body);
    if (typeof picked === 'string') return sendFailure(res, 'bool', { code: 'INVALID_INPUT', field: 'Action', message: picked });
    const def = picked;
    const call: RestCall = { services, token: tokenFrom(req.get('authorization')) };
    if (def.access !== 'public') {
      const auth = await services.auth.authenticate(call.token);
      if (!auth.ok) return sendFailure(res, def.code, auth.error);
      if (auth.value.isFirstLogin && def.access !== 'firstLogin') {
        return sendFailure(res, def.code, {
          code: 'FORBIDDEN',
          message: 'Change the initial password first (MgntSetting, Action ChangePassword).',
        });
      }
      call.auth = auth.value;
    }
    let input: unknown = body;
    if (def.input) {
      const parsed = def.input.safeParse(body);
      if (!parsed.success) return sendFailure(res, def.code, describeInvalidInput(parsed.error, body));
      input = parsed.data;
    }
    const result = await def.run(call, input);
    if (!result.ok) return sendFailure(res, def.code, result.error);
    if (def.bare) {
      res.json(def.bare(result.value));
      return;
    }
    const envelope = successEnvelope(def.code, def.message ? def.message(result.value) : def.success, def.data ? def.data(result.value) : result.value);
    if (def.successCode && def.code === 'int') envelope.Code = def.successCode(result.value);
    res.json(envelope);
  }

  for (const [url, actions] of Object.entries(routes)) {
    router.post(url, parseJson, async (req, res) => {
      const started = Date.now();
      try {
        await dispatch(url, actions, req, res);
      } catch (err) {
        const ref = randomUUID();
        log.error({ err, url, ref }, 'REST action failed');
        if (!res.headersSent) sendFailure(res, 'bool', { code: 'UNAVAILABLE', message: `Internal error (reference ${ref}); the failure was logged.` }, 500);
      } finally {
        log.debug({ url, action: typeof req.body?.Action === 'string' ? req.body.Action : undefined, status: res.statusCode, ms: Date.now() - started }, 'rest');
      }
    });
    router.all(url, (_req, res) => {
      res.setHeader('Allow', 'POST');
      sendFailure(res, 'bool', { code: 'INVALID_INPUT', message: `${url} accepts only POST with a JSON body.` }, 405);
    });
  }

  // Malformed or oversized bodies never reach an action.
  router.use((err: { type?: string; status?: number; message?: string }, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(err);
    const style: CodeStyle = 'bool';
    if (err.type === 'entity.too.large') {
      return void res.status(413).json({ Code: false, Msg: `The request body is larger than ${BODY_LIMIT_BYTES} bytes (1 MiB).`, Data: null });
    }
    if (err.type === 'entity.parse.failed') {
      return sendFailure(res, style, { code: 'INVALID_INPUT', message: `The request body is not valid JSON: ${err.message}` });
    }
    if (err.type === 'encoding.unsupported' || err.type === 'charset.unsupported') {
      return void res.status(415).json({ Code: false, Msg: 'The request body must be JSON in UTF-8.', Data: null });
    }
    if (err.status && err.status >= 400 && err.status < 500) {
      return void res.status(err.status).json({ Code: false, Msg: 'The request could not be read.', Data: null });
    }
    next(err);
  });
  return router;
}
