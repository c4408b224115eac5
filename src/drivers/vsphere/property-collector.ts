import { asArray, moRef, moRefXml, text, textXml, xsiType, type MoRef, type XmlNode } from './soap-xml.js';
import type { VimSession } from './vim-session.js';
import { VSphereError } from './vsphere-error.js';

/** One managed object with the properties asked for (absent when vSphere has no value). */
export interface ObjectProps {
  ref: MoRef;
  props: Map<string, unknown>;
}

/**
 * A property read whose properties all came back NotAuthenticated in `missingSet` (how ESXi, and
 * vcsim, answer a session that ended, where vCenter answers the fault): the session is gone.
 */
function failIfSessionEnded(session: VimSession, what: string) {
  return (response: XmlNode): void => {
    for (const o of asArray<XmlNode>((response.returnval as XmlNode | undefined)?.objects)) {
      for (const m of asArray<XmlNode>(o.missingSet)) {
        const fault = (m.fault as XmlNode | undefined)?.fault;
        if (xsiType(fault) === 'NotAuthenticated') throw new VSphereError('not-authenticated', session.platform, what, 'NotAuthenticated: the session ended');
      }
    }
  };
}

/** The session was renewed mid-walk: paging tokens and views of the old one are gone. */
export class SessionRenewed extends Error {}

export interface WalkOptions {
  /** objects per page (500 by default) */
  pageSize?: number;
  /** told after each page, with how many objects were read so far */
  onPage?: (read: number) => void | Promise<void>;
}

/**
 * Every object of the given types under the root folder, with the given properties: one
 * ContainerView, then RetrievePropertiesEx and ContinueRetrievePropertiesEx page by page.
 */
export async function retrieveAll(session: VimSession, pathsByType: Record<string, string[]>, options: WalkOptions = {}): Promise<ObjectProps[]> {
  const { viewManager, rootFolder, propertyCollector } = session.content;
  const generation = session.generation;
  const types = Object.keys(pathsByType);
  const created = await session.call('CreateContainerView', viewManager, moRefXml('container', rootFolder) + types.map((t) => textXml('type', t)).join('') + textXml('recursive', true), 'open a view of the inventory (CreateContainerView)');
  const view = moRef(created.returnval);
  if (!view) throw new VSphereError('bad-response', session.platform, 'open a view of the inventory (CreateContainerView)', 'no view in the answer');
  const found: ObjectProps[] = [];
  try {
    const propSets = types.map((t) => `<propSet>${textXml('type', t)}${textXml('all', false)}${pathsByType[t].map((p) => textXml('pathSet', p)).join('')}</propSet>`).join('');
    const objectSet = `<objectSet>${moRefXml('obj', view)}${textXml('skip', true)}<selectSet xsi:type="TraversalSpec">${textXml('name', 'view')}${textXml('type', 'ContainerView')}${textXml('path', 'view')}${textXml('skip', false)}</selectSet></objectSet>`;
    const what = 'read the inventory (RetrievePropertiesEx)';
    let page = await session.call('RetrievePropertiesEx', propertyCollector, `<specSet>${propSets}${objectSet}</specSet><options>${textXml('maxObjects', options.pageSize ?? 500)}</options>`, what, failIfSessionEnded(session, what));
    for (;;) {
      if (session.generation !== generation) throw new SessionRenewed();
      const result = page.returnval as XmlNode | undefined;
      for (const o of asArray<XmlNode>(result?.objects)) {
        const ref = moRef(o.obj);
        if (!ref) continue;
        found.push({ ref, props: new Map(asArray<XmlNode>(o.propSet).map((p) => [text(p.name) ?? '', p.val])) });
      }
      const token = text(result?.token);
      if (!token) break;
      await options.onPage?.(found.length);
      page = await session.call('ContinueRetrievePropertiesEx', propertyCollector, textXml('token', token), 'read the inventory (ContinueRetrievePropertiesEx)', failIfSessionEnded(session, what));
    }
  } catch (err) {
    // a call that renewed the session was sent again with a token or view of the old one
    if (session.generation !== generation) throw new SessionRenewed();
    throw err;
  } finally {
    if (session.generation === generation) await session.call('DestroyView', view, '', 'close the view (DestroyView)').catch(() => undefined);
  }
  return found;
}

/** Some properties of one object (RetrievePropertiesEx on it alone). */
export async function retrieveOne(session: VimSession, ref: MoRef, paths: string[]): Promise<Map<string, unknown>> {
  const spec = `<specSet><propSet>${textXml('type', ref.type)}${textXml('all', false)}${paths.map((p) => textXml('pathSet', p)).join('')}</propSet><objectSet>${moRefXml('obj', ref)}${textXml('skip', false)}</objectSet></specSet><options/>`;
  const what = `read ${ref.type} ${ref.value}`;
  const answer = await session.call('RetrievePropertiesEx', session.content.propertyCollector, spec, what, failIfSessionEnded(session, what));
  const [object] = asArray<XmlNode>((answer.returnval as XmlNode | undefined)?.objects);
  return new Map(asArray<XmlNode>(object?.propSet).map((p) => [text(p.name) ?? '', p.val]));
}
