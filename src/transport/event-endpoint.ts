import type { ReceivedRequest, ReceiverAnswer } from './event-receiver.js';
import { readBody, sendJson, serveRoutes, type ListeningServer } from './http-util.js';

/**
 * Serves an event receiver over HTTP on its own port (a stand-alone controller such as
 * `ferry sync`); `onAnswer` runs after each answer, e.g. to wake whoever waits for events.
 */
export function serveEventReceiver(
  receive: (req: ReceivedRequest) => Promise<ReceiverAnswer>,
  host: string,
  port: number,
  onAnswer: () => void = () => {},
): Promise<ListeningServer> {
  return serveRoutes(
    host,
    port,
    async (req, res) => {
      const answer = await receive({ method: req.method ?? 'POST', path: req.url ?? '/', headers: req.headers, body: await readBody(req) });
      sendJson(res, answer.status, answer.body);
      onAnswer();
    },
    () => {},
  );
}
