package main

// -disk-mb: VM disks as an ESXi datastore holds them, so that a client can copy one over the
// datastore HTTP interface (/folder). The model's disks claim 1 MiB and are two empty files.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/google/uuid"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

// sizeDisks gives every disk of every VM a capacity of mb MiB: in config.hardware.device, and on
// its datastore as a VMware monolithic flat disk, a descriptor <name>.vmdk naming its extent
// <name>-flat.vmdk, a sparse file of exactly that size.
func sizeDisks(ctx context.Context, c *vim25.Client, mb int) error {
	size := int64(mb) << 20
	for _, e := range simulator.Map.All("VirtualMachine") {
		vm := e.(*simulator.VirtualMachine)
		devices := object.VirtualDeviceList(vm.Config.Hardware.Device)
		for _, d := range devices.SelectByType((*types.VirtualDisk)(nil)) {
			disk := d.(*types.VirtualDisk)
			backing, ok := disk.Backing.(*types.VirtualDiskFlatVer2BackingInfo)
			if !ok {
				continue // the model makes flat disks only
			}
			descriptor, err := localFile(vm, backing.FileName)
			if err != nil {
				return fmt.Errorf("%s: %v", vm.Name, err)
			}
			if backing.Uuid == "" { // vSphere reports the descriptor's ddb.uuid here
				backing.Uuid = uuid.New().String()
			}
			thin := backing.ThinProvisioned != nil && *backing.ThinProvisioned
			if err := writeFlatDisk(descriptor, size, adapterType(devices, disk), hardwareVersion(vm), backing.Uuid, thin); err != nil {
				return fmt.Errorf("%s: %v", vm.Name, err)
			}
			// the registry's own device: what config.hardware.device reports (nothing serves yet)
			disk.CapacityInKB = size >> 10
			disk.CapacityInBytes = size
			if disk.DeviceInfo != nil { // as vSphere summarises a disk: "8,192 KB"
				disk.DeviceInfo.GetDescription().Summary = thousands(disk.CapacityInKB) + " KB"
			}
		}
		// An empty reconfiguration makes the simulator stat the files again, so layoutEx and
		// storage report their new sizes too.
		task, err := object.NewVirtualMachine(c, vm.Self).Reconfigure(ctx, types.VirtualMachineConfigSpec{})
		if err == nil {
			err = task.Wait(ctx)
		}
		if err != nil {
			return fmt.Errorf("%s: refreshing the file layout: %v", vm.Name, err)
		}
	}
	return nil
}

// localFile is where a VM's file `[datastore] dir/name` lives on this machine: under the local
// directory of the VM's datastore of that name (Info.Url).
func localFile(vm *simulator.VirtualMachine, name string) (string, error) {
	var p object.DatastorePath
	if !p.FromString(name) {
		return "", fmt.Errorf("%q is not a datastore path", name)
	}
	for _, ref := range vm.Datastore {
		if ds := simulator.Map.Get(ref).(*simulator.Datastore); ds.Name == p.Datastore {
			return filepath.Join(ds.Info.GetDatastoreInfo().Url, filepath.FromSlash(p.Path)), nil
		}
	}
	return "", fmt.Errorf("%s: the VM has no datastore %q", name, p.Datastore)
}

// writeFlatDisk sizes the extent, which the model created empty beside the descriptor (sparse: it
// reads as zeros until a test writes into it), and writes the descriptor.
func writeFlatDisk(descriptor string, size int64, adapter, hwVersion, diskUUID string, thin bool) error {
	extent := flatExtent(descriptor)
	if err := os.Truncate(extent, size); err != nil {
		return err
	}
	text, err := descriptorText(filepath.Base(extent), size, adapter, hwVersion, diskUUID, thin)
	if err != nil {
		return err
	}
	return os.WriteFile(descriptor, []byte(text), 0o600)
}

// flatExtent is the extent file of a monolithic flat disk's descriptor: disk1.vmdk → disk1-flat.vmdk.
func flatExtent(descriptor string) string {
	return strings.TrimSuffix(descriptor, ".vmdk") + "-flat.vmdk"
}

// descriptorText is a descriptor as ESXi writes one for a disk on VMFS (thin or thick: the
// extent is one flat file either way, the DDB says which).
func descriptorText(extent string, size int64, adapter, hwVersion, diskUUID string, thin bool) (string, error) {
	cid := make([]byte, 4)
	if _, err := rand.Read(cid); err != nil {
		return "", err
	}
	id, err := uuid.Parse(diskUUID)
	if err != nil {
		return "", fmt.Errorf("disk uuid %q: %v", diskUUID, err)
	}
	sectors := size / 512
	heads, perTrack := int64(255), int64(63) // the BIOS geometry of a SCSI disk
	if adapter == "ide" {
		heads = 16
	}
	cylinders := sectors / (heads * perTrack)
	if cylinders < 1 {
		cylinders = 1
	}
	thinLine := ""
	if thin {
		thinLine = "ddb.thinProvisioned = \"1\"\n"
	}
	return fmt.Sprintf(`# Disk DescriptorFile
version=1
encoding="UTF-8"
CID=%s
parentCID=ffffffff
createType="vmfs"

# Extent description
RW %d VMFS "%s"

# The Disk Data Base
#DDB

ddb.adapterType = "%s"
ddb.geometry.cylinders = "%d"
ddb.geometry.heads = "%d"
ddb.geometry.sectors = "%d"
%sddb.uuid = "%s"
ddb.virtualHWVersion = "%s"
`, hex.EncodeToString(cid), sectors, extent, adapter, cylinders, heads, perTrack, thinLine, ddbUUID(id), hwVersion), nil
}

// ddbUUID writes a uuid as descriptors do: "60 00 c2 9b 6f 9d 8b 9f-0b 6f 1f 0e 18 42 a9 a5".
func ddbUUID(id uuid.UUID) string {
	hexes := make([]string, len(id))
	for i, b := range id {
		hexes[i] = fmt.Sprintf("%02x", b)
	}
	return strings.Join(hexes[:8], " ") + "-" + strings.Join(hexes[8:], " ")
}

// thousands writes n with a comma every three digits.
func thousands(n int64) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// adapterType is the descriptor's name for the bus the disk sits on. Descriptors know ide,
// buslogic and lsilogic (qemu-img, for one, knows no other), so a SCSI disk on any other
// controller (LSI Logic SAS, PVSCSI) says lsilogic.
func adapterType(devices object.VirtualDeviceList, disk *types.VirtualDisk) string {
	switch devices.FindByKey(disk.ControllerKey).(type) {
	case *types.VirtualIDEController:
		return "ide"
	case *types.VirtualBusLogicController:
		return "buslogic"
	default:
		return "lsilogic"
	}
}

// hardwareVersion is the VM's virtual hardware version as a number: "vmx-13" gives "13".
func hardwareVersion(vm *simulator.VirtualMachine) string {
	if v := strings.TrimPrefix(vm.Config.Version, "vmx-"); v != "" && v != vm.Config.Version {
		return v
	}
	return "13" // the simulator's default (esx.HardwareVersion)
}

// localDatastore is where a datastore keeps its files on this machine, for the started line: a
// test writes into a VM's flat extent there.
type localDatastore struct {
	Datacenter string `json:"datacenter"` // the datacenter's inventory path: DC0, F0/DC2, ha-datacenter
	Name       string `json:"name"`
	Path       string `json:"path"`
}

// localDatastores lists every datastore, sorted by datacenter then name.
func localDatastores() []localDatastore {
	list := []localDatastore{}
	for _, e := range simulator.Map.All("Datastore") {
		ds := e.(*simulator.Datastore)
		list = append(list, localDatastore{Datacenter: datacenterPath(ds), Name: ds.Name, Path: ds.Info.GetDatastoreInfo().Url})
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].Datacenter != list[j].Datacenter {
			return list[i].Datacenter < list[j].Datacenter
		}
		return list[i].Name < list[j].Name
	})
	return list
}

// datacenterPath is the inventory path of the datacenter holding e, as dcPath takes it: the names
// of the datacenter and of the folders above it, the root folder excluded.
func datacenterPath(e mo.Entity) string {
	var names []string
	inDatacenter := false
	for e.Entity().Parent != nil { // the root folder has no parent
		if _, ok := e.(*simulator.Datacenter); ok {
			inDatacenter = true
		}
		if inDatacenter {
			names = append([]string{e.Entity().Name}, names...)
		}
		e = simulator.Map.Get(*e.Entity().Parent).(mo.Entity)
	}
	return strings.Join(names, "/")
}
