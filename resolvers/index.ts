import type { NonEmptyArray } from 'type-graphql';
import { AuthResolver } from './auth.js';
import { CloudDirectoryResolver, CloudResolver } from './clouds.js';
import { SourceHostResolver, TransportServerSourceHostsResolver } from './hosts.js';
import { LicenseResolver } from './license.js';
import { TaskSubscriptionResolver } from './task-subscriptions.js';
import { SourceHostTasksResolver, TaskResolver } from './tasks.js';
import { NodeResolver } from './node.js';
import { CloudTransportServersResolver, TransportServerResolver } from './transports.js';
import { VirtualMachineResolver, VmFolderResolver, VsphereClusterResolver, VsphereDatacenterResolver, VsphereHostResolver, VspherePlatformResolver } from './vsphere.js';

export const resolvers: NonEmptyArray<Function> = [NodeResolver, AuthResolver, LicenseResolver, CloudResolver, CloudDirectoryResolver, TransportServerResolver, CloudTransportServersResolver, SourceHostResolver, TransportServerSourceHostsResolver, TaskResolver, SourceHostTasksResolver, TaskSubscriptionResolver,
  VspherePlatformResolver, VsphereDatacenterResolver, VsphereClusterResolver, VsphereHostResolver, VmFolderResolver, VirtualMachineResolver];
