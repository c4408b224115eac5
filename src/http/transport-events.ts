import express from 'express';
import { TRANSPORT_EVENTS_PATH } from '../config.js';
import type { Logger } from '../logger.js';
import type { Services } from '../services/index.js';
import { createEventReceiver } from '../transport/event-receiver.js';
import { MAX_JSON_BODY_BYTES } from '../transport/http-util.js';

/**
 * `POST /v1/transport-events`: events from paired transports, signed with their pairing secret
 * (no token). The body is read raw because the signature covers it byte for byte.
 */
export function mountTransportEvents(app: express.Express, services: Services, log: Logger): void {
  const receive = createEventReceiver({
    secretFor: (transportId) => services.transports.secretForTransport(transportId),
    alreadySeen: (eventId) => services.transports.eventSeen(eventId),
    accept: (event) => services.transports.acceptEvent(event),
  });
  app.post(TRANSPORT_EVENTS_PATH, express.raw({ type: () => true, limit: MAX_JSON_BODY_BYTES }), async (req, res) => {
    try {
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      // originalUrl: the path and query exactly as sent, which the transport signed
      const answer = await receive({ method: req.method, path: req.originalUrl, headers: req.headers, body });
      if (answer.status === 401) log.warn({ reason: answer.body.message }, 'transport event refused');
      res.status(answer.status).json(answer.body);
    } catch (err) {
      // the transport keeps the event and delivers it again
      log.error({ err }, 'transport event not recorded');
      res.status(500).json({ ok: false, message: 'the event could not be recorded; retry later' });
    }
  });
}
