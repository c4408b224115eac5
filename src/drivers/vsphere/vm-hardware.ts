import { asArray, num, text, xsiType, type XmlNode } from './soap-xml.js';

export interface VmDisk {
  /** the device key, unique within the VM */
  key: number;
  label: string;
  capacityBytes: number;
  /** `[datastore1] web-1/web-1.vmdk` */
  fileName: string;
  /** `SCSI controller 0`, `IDE 0`, … */
  controller: string;
  unitNumber?: number;
  thinProvisioned?: boolean;
  /** changed-block tracking: the disk's state as of this configuration (a snapshot's, for its disks) */
  changeId?: string;
}

export interface VmNic {
  key: number;
  label: string;
  mac: string;
  /** the network (port group) name, or a distributed port group key */
  network: string;
  /** addresses the guest reports on this NIC (VMware Tools) */
  ips: string[];
}

/** Disks and NICs from `config.hardware.device`, NIC addresses from `guest.net`. */
export function readHardware(devicesVal: unknown, guestNetVal: unknown): { disks: VmDisk[]; nics: VmNic[] } {
  const devices = asArray<XmlNode>((devicesVal as XmlNode | undefined)?.VirtualDevice);
  const label = (d: XmlNode) => text((d.deviceInfo as XmlNode | undefined)?.label) ?? '';
  const controllers = new Map(devices.filter((d) => /Controller$/.test(xsiType(d) ?? '')).map((d) => [num(d.key), label(d) || `${xsiType(d)} ${text(d.busNumber) ?? ''}`.trim()]));
  const guestIps = new Map<string, string[]>();
  for (const g of asArray<XmlNode>((guestNetVal as XmlNode | undefined)?.GuestNicInfo)) {
    const mac = text(g.macAddress)?.toLowerCase();
    if (mac) guestIps.set(mac, asArray<unknown>(g.ipAddress).map((ip) => text(ip) ?? '').filter(Boolean));
  }
  const disks: VmDisk[] = [];
  const nics: VmNic[] = [];
  for (const d of devices) {
    const backing = d.backing as XmlNode | undefined;
    if (xsiType(d) === 'VirtualDisk') {
      const bytes = num(d.capacityInBytes) ?? (num(d.capacityInKB) ?? 0) * 1024;
      const thin = text(backing?.thinProvisioned);
      const changeId = text(backing?.changeId);
      disks.push({
        key: num(d.key) ?? 0,
        label: label(d),
        capacityBytes: bytes,
        fileName: text(backing?.fileName) ?? '',
        controller: controllers.get(num(d.controllerKey)) ?? '',
        unitNumber: num(d.unitNumber),
        ...(thin !== undefined && { thinProvisioned: thin === 'true' }),
        ...(changeId && { changeId }),
      });
    } else if (d.macAddress !== undefined) {
      const mac = (text(d.macAddress) ?? '').toLowerCase();
      const port = backing?.port as XmlNode | undefined;
      nics.push({ key: num(d.key) ?? 0, label: label(d), mac, network: text(backing?.deviceName) ?? text(port?.portgroupKey) ?? '', ips: guestIps.get(mac) ?? [] });
    }
  }
  return { disks, nics };
}
