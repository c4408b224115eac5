import type { CloudDriver, CloudSettings, CloudType, DriverOptions } from './cloud-driver.js';
import { CloudUltraDriver } from './cloudultra/cloudultra-driver.js';
import { HuayunDriver } from './huayun/huayun-driver.js';
import { OpenStackDriver } from './openstack/openstack-driver.js';

export type CloudDriverFactory = (type: CloudType, settings: CloudSettings, options: DriverOptions) => CloudDriver;

/** The driver for a cloud connection's settings. */
export const createCloudDriver: CloudDriverFactory = (type, settings, options) => {
  switch (settings.kind) {
    case 'openstack':
      return new OpenStackDriver(settings, options, type);
    case 'huayun':
      return new HuayunDriver(settings, options);
    case 'cloudultra':
      return new CloudUltraDriver(settings, options);
  }
};

export * from './cloud-driver.js';
