import { setTimeout as sleep } from 'node:timers/promises';
import { retrieveOne } from './property-collector.js';
import { moRef, text, type MoRef, type XmlNode } from './soap-xml.js';
import type { VimSession } from './vim-session.js';
import { VSphereError } from './vsphere-error.js';

/** Calls a `…_Task` method and waits until its Task succeeds; its error becomes a VSphereError. */
export async function runTask(session: VimSession, method: string, self: MoRef, bodyXml: string, what: string, timeoutMs = 60_000): Promise<unknown> {
  const started = await session.call(method, self, bodyXml, what);
  const task = moRef(started.returnval);
  if (!task) throw new VSphereError('bad-response', session.platform, what, `${method} answered no Task`);
  for (const end = Date.now() + timeoutMs; ; await sleep(100)) {
    const props = await retrieveOne(session, task, ['info.state', 'info.error', 'info.result']);
    const state = text(props.get('info.state'));
    if (state === 'success') return props.get('info.result');
    if (state === 'error') {
      const error = props.get('info.error') as XmlNode | undefined;
      const fault = (error?.fault as XmlNode | undefined)?.['@_type'] as string | undefined;
      throw new VSphereError('fault', session.platform, what, `${fault ?? 'Fault'}: ${text(error?.localizedMessage) ?? 'the task failed'}`, fault);
    }
    if (Date.now() > end) throw new VSphereError('timeout', session.platform, what, `the task is still ${state} after ${timeoutMs / 1000} s`);
  }
}
