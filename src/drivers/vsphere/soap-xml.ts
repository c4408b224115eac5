import { XMLParser } from 'fast-xml-parser';

/** vim25 SOAP: building request envelopes and reading answers. */

const ENVELOPE_OPEN =
  '<?xml version="1.0" encoding="UTF-8"?>' +
  '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">' +
  '<soapenv:Body>';
const ENVELOPE_CLOSE = '</soapenv:Body></soapenv:Envelope>';

const XML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };
export const escapeXml = (s: string): string => s.replace(/[&<>"']/g, (c) => XML_ESCAPES[c]);

/** A managed object reference as vim25 writes it: `<_this type="Folder">group-d1</_this>`. */
export interface MoRef {
  type: string;
  value: string;
}

export const moRefXml = (tag: string, ref: MoRef): string => `<${tag} type="${escapeXml(ref.type)}">${escapeXml(ref.value)}</${tag}>`;
export const textXml = (tag: string, value: string | number | boolean): string => `<${tag}>${escapeXml(String(value))}</${tag}>`;

/** `<Method xmlns="urn:vim25"><_this …/>…</Method>` in an envelope. */
export function requestEnvelope(method: string, self: MoRef, bodyXml = ''): string {
  return `${ENVELOPE_OPEN}<${method} xmlns="urn:vim25">${moRefXml('_this', self)}${bodyXml}</${method}>${ENVELOPE_CLOSE}`;
}

/**
 * Everything stays text (a VM named "007" is not the number 7) and attributes are kept: `type`
 * of a reference and `xsi:type` of a polymorphic value both read as `@_type` once the namespace
 * prefixes are dropped.
 */
const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  removeNSPrefix: true,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  processEntities: true,
});

export type XmlNode = Record<string, unknown>;

export interface SoapFault {
  /** the vim25 fault type from the detail (`InvalidLogin`, `NotAuthenticated`, …) or the faultcode */
  type: string;
  message: string;
}

/** The first element of the Body: the method's Response, or a Fault. */
export function readEnvelope(xml: string): { response?: XmlNode; fault?: SoapFault } {
  const doc = parser.parse(xml) as XmlNode;
  const body = (doc.Envelope as XmlNode | undefined)?.Body as XmlNode | undefined;
  if (!body || typeof body !== 'object') throw new Error('the answer is not a SOAP envelope');
  const fault = body.Fault as XmlNode | undefined;
  if (fault) {
    const detail = fault.detail as XmlNode | undefined;
    const first = detail && typeof detail === 'object' ? Object.entries(detail).find(([k]) => !k.startsWith('@_')) : undefined;
    const declared = first && typeof first[1] === 'object' ? ((first[1] as XmlNode)['@_type'] as string | undefined) : undefined;
    const type = declared ?? first?.[0].replace(/Fault$/, '') ?? text(fault.faultcode) ?? 'Fault';
    return { fault: { type, message: text(fault.faultstring) ?? type } };
  }
  const [, response] = Object.entries(body).find(([k]) => !k.startsWith('@_')) ?? [];
  return { response: (response && typeof response === 'object' ? response : {}) as XmlNode };
}

/** A node's text: plain text, or `#text` beside attributes. */
export function text(node: unknown): string | undefined {
  if (node === undefined || node === null) return undefined;
  if (typeof node === 'string') return node;
  if (typeof node === 'object' && '#text' in (node as XmlNode)) return String((node as XmlNode)['#text']);
  if (typeof node === 'object') return '';
  return String(node);
}

/** A repeated element: the parser gives one child as an object and several as an array. */
export const asArray = <T = XmlNode>(node: unknown): T[] => (node === undefined || node === null || node === '' ? [] : Array.isArray(node) ? (node as T[]) : [node as T]);

export function moRef(node: unknown): MoRef | undefined {
  if (!node || typeof node !== 'object') return undefined;
  const type = (node as XmlNode)['@_type'];
  const value = text(node);
  return typeof type === 'string' && value ? { type, value } : undefined;
}

export const xsiType = (node: unknown): string | undefined => (node && typeof node === 'object' ? ((node as XmlNode)['@_type'] as string | undefined) : undefined);

export function num(node: unknown): number | undefined {
  const t = text(node);
  if (t === undefined || t === '') return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : undefined;
}
