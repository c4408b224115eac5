import { retrieveOne } from './property-collector.js';
import { moRef, text, textXml, type MoRef, type XmlNode } from './soap-xml.js';
import type { VimSession } from './vim-session.js';
import { VSphereError } from './vsphere-error.js';

/** `[datastore1] web-1/web-1.vmdk` → datastore and path within it. */
export function parseDatastorePath(fileName: string): { datastore: string; path: string } | undefined {
  const m = /^\[([^\]]+)\]\s*(.+)$/.exec(fileName.trim());
  return m ? { datastore: m[1], path: m[2] } : undefined;
}

/** The datastore HTTP address of a file: `/folder/<path>?dcPath=<datacenter path>&dsName=<datastore>`. */
export function datastoreUrl(session: VimSession, datacenterPath: string, datastore: string, path: string): URL {
  const encoded = path.split('/').map(encodeURIComponent).join('/');
  return session.urlFor(`/folder/${encoded}?dcPath=${encodeURIComponent(datacenterPath)}&dsName=${encodeURIComponent(datastore)}`);
}

/** The inventory path of the datacenter holding `ref` (`DC0`, or `Europe/DC1` inside a folder). */
export async function datacenterPathOf(session: VimSession, ref: MoRef): Promise<string> {
  const names: string[] = [];
  let inDatacenter = false;
  for (let at: MoRef | undefined = ref, hops = 0; at; hops++) {
    if (hops > 64) throw new VSphereError('bad-response', session.platform, `find the datacenter of ${ref.value}`, 'the parent chain does not end');
    const props = await retrieveOne(session, at, ['name', 'parent']);
    if (at.type === 'Datacenter') inDatacenter = true;
    const parent = moRef(props.get('parent'));
    // the root folder (no parent) is not part of the path
    if (inDatacenter && parent) names.unshift(text(props.get('name')) ?? '');
    at = parent;
  }
  if (!inDatacenter) throw new VSphereError('bad-response', session.platform, `find the datacenter of ${ref.value}`, 'no datacenter above it');
  return names.join('/');
}

/**
 * A one-time ticket for one HTTP request to the server (SessionManager.AcquireGenericServiceTicket):
 * sent as the cookie `vmware_cgi_ticket`, it lets another machine (the transport) fetch that one
 * URL without ever holding the platform's credentials or a session.
 */
export async function acquireTicket(session: VimSession, url: URL, method: 'httpGet' | 'httpHead' = 'httpGet'): Promise<string> {
  const spec = `<spec xsi:type="SessionManagerHttpServiceRequestSpec">${textXml('method', method)}${textXml('url', url.href)}</spec>`;
  const what = `get a ticket for ${url.pathname} (AcquireGenericServiceTicket)`;
  const answer = await session.call('AcquireGenericServiceTicket', session.content.sessionManager, spec, what);
  const id = text((answer.returnval as XmlNode | undefined)?.id);
  if (!id) throw new VSphereError('bad-response', session.platform, what, 'the answer has no ticket id');
  return id;
}

export const ticketCookie = (ticket: string): string => `vmware_cgi_ticket=${ticket}`;
