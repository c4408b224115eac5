import type { CloudDriver, CloudSettings, CloudType, DriverOptions } from './cloud-driver.js';
import { OpenStackDriver } from './openstack/openstack-driver.js';

export type CloudDriverFactory = (type: CloudType, settings: CloudSettings, options: DriverOptions) => CloudDriver;

/** The driver for a cloud connection's settings. */
export const createCloudDriver: CloudDriverFactory = (type, settings, options) => {
  switch (settings.kind) {
    case 'openstack':
      return new OpenStackDriver(settings, options, type);
    case 'huayun':
    case 'cloudultra':
      throw new Error(`no driver for ${type} yet`);
  }
};

export * from './cloud-driver.js';
