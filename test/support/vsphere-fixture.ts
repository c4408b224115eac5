import { rest } from './clients.js';
import type { FerryProcess } from './transport-fixture.js';

/** Registers a running `ferry transport` as the datacenter-side transport of vSphere platforms; returns its id. */
export async function addDatacenterTransport(base: string, token: string, transport: FerryProcess): Promise<string> {
  const added = await rest(base, '/MgmtTransportConnection', { Action: 'AddTransportServer', ServType: 'On-Premises', Name: 'dc-side', MgntAddr: transport.addr }, token);
  if (added.body?.Code !== true) throw new Error(`AddTransportServer failed: ${added.text}`);
  return added.body.Data.ID as string;
}
