import { fail } from '../../services/errors.js';
import { action, type RestAction, type RestRoutes } from '../action.js';
import type { CodeStyle } from '../envelope.js';

/** An action of the spec that a later capability will implement; until then it says so plainly. */
const pending = (name: string, code: CodeStyle): RestAction =>
  action({
    code,
    run: async () => fail('NOT_IMPLEMENTED', `${name} is not implemented yet in this version of Ferry.`),
    success: '',
  });

const table = (actions: Record<string, CodeStyle>): Record<string, RestAction> =>
  Object.fromEntries(Object.entries(actions).map(([name, code]) => [name, pending(name, code)]));

const vsphere: Record<string, CodeStyle> = {
  AddVSPlatform: 'int', DeleteVSPlatform: 'int', RefreshVSPlatform: 'int', UpdateVSPlatform: 'int',
  ListVSHosts: 'int', VerifyVSPlatformConnection: 'int',
};
const hosts: Record<string, CodeStyle> = {
  AddPackerHost: 'bool', DeletePackerHost: 'bool', RefreshPackerHost: 'bool', VerifyPackerConnection: 'bool',
  UpdatePackerHost: 'bool', ListHosts: 'bool', GetPackerHost: 'bool', ...vsphere,
};

/** Every URL and Action of the spec (NOTES.md), each with its documented `Code` style. */
export const pendingRoutes: RestRoutes = {
  '/MgmtCloudConnection': table({
    ListCloudType: 'int', AddCloudConnection: 'bool', DeleteCloudConnection: 'int', UpdateCloudConnection: 'bool',
    ListCloudConnection: 'int', VerifyCloudConnection: 'bool', ListProject: 'int', ListEnvironment: 'int',
    ListZone: 'int', ListRegion: 'int',
  }),
  '/MgmtTransportConnection': table({
    AddTransportServer: 'bool', VerifyTransportConnection: 'bool', DeleteTransportServer: 'bool',
    RefreshTransportServer: 'bool', UpdateTransportServer: 'bool', ListTransportServer: 'bool',
  }),
  '/portal/MgmtHostConnection': table(hosts),
  '/MgmtHostConnection': table(hosts),
  '/MgmtTask': table({
    PrepareTaskWorkload: 'int', DeleteTask: 'bool', UpdateTask: 'int', ListTasks: 'int', GetTaskDetail: 'int',
    CompleteTask: 'bool', ContinueTask: 'int', CheckTargetHostInfoExisting: 'int', DisplayTaskHistory: 'bool',
    ListSnapshots: 'int', ListVolumeTypes: 'bool', ListStorages: 'int', ListFlavors: 'bool', ListNetworks: 'bool',
    ListSecurityGroups: 'bool', ListQuota: 'int', CreateInstance: 'int', GetInstance: 'bool',
  }),
};
