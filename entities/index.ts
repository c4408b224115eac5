import { LoginAttempt, ServerKey, Session, User } from './auth.js';
import { CloudConnection } from './clouds.js';
import { HostNetInterface, HostVolume, SourceHost } from './hosts.js';
import { License, LicenseLedgerEntry } from './license.js';
import { Task, TaskEvent, TaskNetInterface, TaskProgressSample, TaskSnapshot, TaskVolume } from './tasks.js';
import { TransportEventReceipt, TransportServer } from './transports.js';
import { VsphereCluster, VsphereDatacenter, VsphereFolder, VsphereHost, VspherePlatform } from './vsphere.js';

export * from './auth.js';
export * from './clouds.js';
export * from './hosts.js';
export * from './license.js';
export * from './tasks.js';
export * from './transports.js';
export * from './vsphere.js';

/** Every entity, listed explicitly: no folder scanning, so tsx and vitest see the same set. */
export const allEntities = [
  User, Session, LoginAttempt, ServerKey,
  License, LicenseLedgerEntry,
  CloudConnection, TransportServer, TransportEventReceipt,
  SourceHost, HostVolume, HostNetInterface,
  VspherePlatform, VsphereDatacenter, VsphereCluster, VsphereHost, VsphereFolder,
  Task, TaskVolume, TaskNetInterface, TaskSnapshot, TaskEvent, TaskProgressSample,
];
