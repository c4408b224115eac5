import { z } from 'zod';
import type { TransportView } from '../../services/transports/transport-service.js';
import { action, type RestRoutes } from '../action.js';
import { text } from '../input.js';
import { legacyTime } from '../legacy-time.js';

/** Bounded strings whose rules (and messages) are the service's. */
const field = z.string().max(1024);
const optional = field.optional();
const transportId = z.object({ Id: text(64) });

/** One row of ListTransportServer, keys in the documented order; Offline is Ferry's addition. */
const transportData = (t: TransportView) => ({
  Id: t.id,
  Name: t.name,
  // documented as CLOUD_UUID under the key CloudName: the name is what the key says
  CloudName: t.cloudName ?? null,
  ServType: t.servType,
  MgntAddr: t.mgntAddr,
  CreatedTime: legacyTime(t.createdAt),
  MaxSupportedTasks: t.maxSupportedTasks,
  CurrentTasks: t.currentTasks,
  StorageId: t.storageId ?? '',
  StorageType: t.storageType ?? '',
  Offline: t.offline,
});

export const transportRoutes: RestRoutes = {
  '/MgmtTransportConnection': {
    AddTransportServer: action({
      code: 'bool',
      input: z.object({ ServType: field, Name: field, CloudId: field.nullable().optional(), MgntAddr: field }),
      run: (c, b) => c.services.transports.add({ servType: b.ServType, name: b.Name, cloudId: b.CloudId, mgntAddr: b.MgntAddr }),
      success: 'Add Transport Server Success.',
      data: (t) => ({ ID: t.id }),
    }),
    VerifyTransportConnection: action({
      code: 'bool',
      input: z.object({ MgntAddr: field }),
      run: (c, b) => c.services.transports.verify(b.MgntAddr),
      success: 'Success.',
      data: () => null,
    }),
    DeleteTransportServer: action({
      code: 'bool',
      input: transportId,
      run: (c, b) => c.services.transports.remove(b.Id),
      success: 'Delete Transport Server Success.',
      data: () => null,
    }),
    RefreshTransportServer: action({
      code: 'bool',
      input: transportId,
      run: (c, b) => c.services.transports.refresh(b.Id),
      success: 'Refresh Transport Server Success.',
      data: () => null,
    }),
    UpdateTransportServer: action({
      code: 'bool',
      input: z.object({ Id: text(64), Name: field }),
      run: (c, b) => c.services.transports.update(b.Id, b.Name),
      success: 'Update Transport Server Success.',
      data: () => null,
    }),
    ListTransportServer: action({
      code: 'bool',
      input: z.object({ Ip: optional, Name: optional, ServType: optional }),
      run: (c, b) => c.services.transports.list({ ip: b.Ip, name: b.Name, servType: b.ServType }),
      success: 'Get All Transport Server Success.',
      data: (list) => list.map(transportData),
    }),
  },
};
