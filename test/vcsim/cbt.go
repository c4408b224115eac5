package main

// Changed-block tracking (CBT), as vSphere offers it to backup software, and -no-cbt.
//
// vSphere counts the writes to a disk whose VM has config.changeTrackingEnabled: each snapshot
// gives the disk's backing a new changeId, and VirtualMachine.QueryChangedDiskAreas answers which
// areas were written between the snapshot of one changeId and a later snapshot. govmomi 0.24's
// simulator has no such method and sees no writes (tests write into the flat extents directly),
// so changes are simulated from the content: each changeId names an "epoch", the hash of every
// 64 KiB chunk of the disk's flat extent when its snapshot was taken, and the changed areas are
// the chunks whose hashes differ. A chunk rewritten with the same bytes is thus not reported,
// where vSphere would report it: harmless for a copy, which needs a superset of the changes.
//
// Two hooks, as the simulator cannot be given methods on its VirtualMachine type (it asserts
// *simulator.VirtualMachine in many places, so the type cannot be replaced as collector.go
// replaces the PropertyCollector's):
//   - the snapshot hook is a Registry handler (RegisterObject), the simulator's own extension point
//     for watching objects: CreateSnapshot_Task ends by updating the VM's snapshot.currentSnapshot
//     through Registry.Update, which calls every handler synchronously, inside the task and under
//     the VM's lock the simulator holds for the call. So the new snapshot is adjusted before any
//     client learns of it, whoever made it (SOAP or the in-process client);
//   - QueryChangedDiskAreas is answered by the HTTP wrapper (datastore_http.go), which sees the
//     SOAP call before the simulator would fault MethodNotFound.

import (
	"bytes"
	"crypto/sha1"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"reflect"
	"sync"

	"github.com/google/uuid"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
	"github.com/vmware/govmomi/vim25/xml"
)

// cbtChunk is the granularity of the simulated tracking (ESXi's own is finer, but areas are what
// a client sees, and 64 KiB areas are as valid an answer).
const cbtChunk = 64 << 10

// diskID names one virtual disk: its VM and its device key.
type diskID struct {
	vm  types.ManagedObjectReference
	key int32
}

// chunkSum is what an epoch keeps of one chunk.
type chunkSum struct {
	sum  [sha1.Size]byte
	zero bool // every byte 0: not allocated, as far as changeId "*" is concerned
}

// epoch is a disk's content when a snapshot gave it a changeId.
type epoch struct {
	disk     diskID
	capacity int64
	chunks   []chunkSum
}

// tracking is a disk's change-tracking identity: vSphere's changeId is the uuid of the disk's
// tracking file and a sequence number moving on with every snapshot.
type tracking struct {
	id  uuid.UUID
	seq int
}

// changeTracker holds the epochs. It is the Registry handler that sees snapshots being made.
type changeTracker struct {
	mu       sync.Mutex
	disabled bool                                  // -no-cbt
	seen     map[types.ManagedObjectReference]bool // snapshots already handled (reverts set currentSnapshot too)
	disks    map[diskID]*tracking
	epochs   map[string]*epoch // by changeId; kept after their snapshot is removed, as vSphere keeps accepting the changeId
}

var cbt = &changeTracker{
	seen:   map[types.ManagedObjectReference]bool{},
	disks:  map[diskID]*tracking{},
	epochs: map[string]*epoch{},
}

// installChangeTracking makes every VM, those of the model and any made later, report whether it
// supports CBT, and starts watching for snapshots (before the server starts).
func installChangeTracking(disabled bool) {
	cbt.disabled = disabled
	for _, e := range simulator.Map.All("VirtualMachine") {
		cbt.describe(e.(*simulator.VirtualMachine))
	}
	simulator.Map.AddHandler(cbt)
}

// describe sets the VM's capability.changeTrackingSupported, and config.changeTrackingEnabled
// false where the simulator leaves it unset (vSphere always reports it).
func (t *changeTracker) describe(vm *simulator.VirtualMachine) {
	vm.Capability.ChangeTrackingSupported = types.NewBool(!t.disabled)
	if vm.Config != nil && vm.Config.ChangeTrackingEnabled == nil {
		vm.Config.ChangeTrackingEnabled = types.NewBool(false)
	}
}

// Reference names the handler in the Registry's handler map: a type no managed object has, so
// that Registry.Remove of an object never drops it.
func (t *changeTracker) Reference() types.ManagedObjectReference {
	return types.ManagedObjectReference{Type: "FerryChangeTracker", Value: "cbt"}
}

// PutObject: a VM created, cloned or registered after the start reports its capability too.
func (t *changeTracker) PutObject(item mo.Reference) {
	if vm, ok := item.(*simulator.VirtualMachine); ok {
		t.describe(vm)
	}
}

func (t *changeTracker) RemoveObject(types.ManagedObjectReference) {}

// UpdateObject watches for a VM's snapshot.currentSnapshot naming a snapshot never seen: one that
// CreateSnapshot_Task has just made (it runs synchronously, under the VM's lock).
func (t *changeTracker) UpdateObject(obj mo.Reference, changes []types.PropertyChange) {
	if obj.Reference().Type != "VirtualMachine" {
		return
	}
	for _, c := range changes {
		if c.Name != "snapshot.currentSnapshot" {
			continue
		}
		var ref types.ManagedObjectReference
		switch v := c.Val.(type) {
		case types.ManagedObjectReference:
			ref = v
		case *types.ManagedObjectReference: // RemoveSnapshot_Task sets the parent, maybe nil
			if v == nil {
				continue
			}
			ref = *v
		default:
			continue
		}
		vm, ok := simulator.Map.Get(obj.Reference()).(*simulator.VirtualMachine)
		snap, isSnap := simulator.Map.Get(ref).(*simulator.VirtualMachineSnapshot)
		if ok && isSnap && t.firstSight(ref) {
			t.snapshotTaken(vm, snap)
		}
	}
}

func (t *changeTracker) firstSight(snap types.ManagedObjectReference) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	first := !t.seen[snap]
	t.seen[snap] = true
	return first
}

// snapshotTaken gives each disk of a new snapshot of a VM tracking changes a fresh changeId, and
// records the disk's content under it. The simulator made the snapshot's config as a shallow copy
// of the VM's, so both share one device slice (and its disks): the snapshot gets a copy of the
// slice, of the disk and of its backing before the changeId is set, so that setting it changes
// neither the VM nor earlier snapshots. The VM's disk gets the same changeId (vSphere's current
// changeId moves on with the snapshot) in a copy of its own, so the snapshot's stays as it is.
func (t *changeTracker) snapshotTaken(vm *simulator.VirtualMachine, snap *simulator.VirtualMachineSnapshot) {
	if t.disabled || vm.Config.ChangeTrackingEnabled == nil || !*vm.Config.ChangeTrackingEnabled {
		return
	}
	snapDevices := append([]types.BaseVirtualDevice(nil), snap.Config.Hardware.Device...)
	vmDevices := append([]types.BaseVirtualDevice(nil), vm.Config.Hardware.Device...)
	for i, d := range snapDevices {
		disk, ok := d.(*types.VirtualDisk)
		if !ok {
			continue
		}
		backing, ok := disk.Backing.(*types.VirtualDiskFlatVer2BackingInfo)
		if !ok {
			continue // the model makes flat disks only
		}
		id := diskID{vm: vm.Self, key: disk.Key}
		e, err := readEpoch(vm, id, backing.FileName, diskCapacity(disk))
		if err != nil { // the disk goes untracked: QueryChangedDiskAreas faults FileFault for it
			log.Printf("change tracking: %s: %v", backing.FileName, err)
			continue
		}
		changeID := t.record(e)
		snapDevices[i] = withChangeID(disk, backing, changeID)
		for j, v := range vmDevices {
			if vd, ok := v.(*types.VirtualDisk); ok && vd.Key == disk.Key {
				if vb, ok := vd.Backing.(*types.VirtualDiskFlatVer2BackingInfo); ok {
					vmDevices[j] = withChangeID(vd, vb, changeID)
				}
			}
		}
	}
	// Registry.Update, as the simulator changes devices: property collectors hear of it.
	simulator.Map.Update(snap, []types.PropertyChange{{Name: "config.hardware.device", Val: snapDevices}})
	simulator.Map.Update(vm, []types.PropertyChange{{Name: "config.hardware.device", Val: vmDevices}})
}

// withChangeID is a copy of disk whose backing is a copy of backing with that changeId.
func withChangeID(disk *types.VirtualDisk, backing *types.VirtualDiskFlatVer2BackingInfo, changeID string) *types.VirtualDisk {
	b := *backing
	b.ChangeId = changeID
	d := *disk
	d.Backing = &b
	return &d
}

// record files the epoch under the disk's next changeId, in vSphere's format:
// "52 3c 7d 1e 9a 44 0b 2f-8e 61 5d 7a 2c 90 13 ef/17".
func (t *changeTracker) record(e *epoch) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	tr := t.disks[e.disk]
	if tr == nil {
		tr = &tracking{id: uuid.New()}
		t.disks[e.disk] = tr
	}
	tr.seq++
	changeID := fmt.Sprintf("%s/%d", ddbUUID(tr.id), tr.seq)
	t.epochs[changeID] = e
	return changeID
}

func (t *changeTracker) epoch(changeID string) *epoch {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.epochs[changeID]
}

func diskCapacity(disk *types.VirtualDisk) int64 {
	if disk.CapacityInBytes > 0 {
		return disk.CapacityInBytes
	}
	return disk.CapacityInKB << 10
}

// readEpoch hashes the disk's flat extent chunk by chunk. What lies past the end of the file (or
// a missing file: the model's disks without -disk-mb) reads as zeros, as a sparse extent does.
func readEpoch(vm *simulator.VirtualMachine, id diskID, fileName string, capacity int64) (*epoch, error) {
	descriptor, err := localFile(vm, fileName)
	if err != nil {
		return nil, err
	}
	e := &epoch{disk: id, capacity: capacity, chunks: make([]chunkSum, (capacity+cbtChunk-1)/cbtChunk)}
	f, err := os.Open(flatExtent(descriptor))
	if err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	if f != nil {
		defer f.Close()
	}
	buf := make([]byte, cbtChunk)
	zeros := make([]byte, cbtChunk)
	for i := range e.chunks {
		n := 0
		if f != nil {
			if n, err = io.ReadFull(f, buf); err == io.EOF || err == io.ErrUnexpectedEOF {
				f = nil // the rest is zeros
			} else if err != nil {
				return nil, err
			}
		}
		copy(buf[n:], zeros) // the tail of the last chunk read, and chunks past the end
		e.chunks[i] = chunkSum{sum: sha1.Sum(buf), zero: bytes.Equal(buf, zeros)}
	}
	return e, nil
}

// changedAreas are the chunks of cur that are allocated (base nil: changeId "*") or differ from
// base, from start on (an area across start is cut there), adjacent ones merged.
func changedAreas(cur, base *epoch, start int64) []types.DiskChangeExtent {
	var areas []types.DiskChangeExtent
	for i, c := range cur.chunks {
		changed := !c.zero
		if base != nil && i < len(base.chunks) { // past the end of base: the disk grew since
			changed = c.sum != base.chunks[i].sum
		}
		from, to := int64(i)*cbtChunk, int64(i+1)*cbtChunk
		if to > cur.capacity {
			to = cur.capacity
		}
		if !changed || to <= start {
			continue
		}
		if from < start {
			from = start
		}
		if n := len(areas); n > 0 && areas[n-1].Start+areas[n-1].Length == from {
			areas[n-1].Length += to - from
		} else {
			areas = append(areas, types.DiskChangeExtent{Start: from, Length: to - from})
		}
	}
	return areas
}

// queryChangedDiskAreas answers VirtualMachine.QueryChangedDiskAreas as vSphere does, faults
// included: InvalidArgument for an argument naming nothing of this VM, FileFault ("Error caused
// by file <disk>") when the disk's changes are not tracked.
func queryChangedDiskAreas(r *http.Request, req *types.QueryChangedDiskAreas) (*types.DiskChangeInfo, *soap.Fault) {
	if c, err := r.Cookie(soap.SessionCookieName); err != nil || !liveSessions()[c.Value] {
		return nil, simulator.Fault("The session is not authenticated.", &types.NotAuthenticated{
			NoPermission: types.NoPermission{Object: req.This, PrivilegeId: "System.View"},
		})
	}
	vm, ok := simulator.Map.Get(req.This).(*simulator.VirtualMachine)
	if !ok { // as the simulator answers a call on an unknown object
		return nil, simulator.Fault(fmt.Sprintf("managed object not found: %s", req.This), &types.ManagedObjectNotFound{Obj: req.This})
	}
	invalid := func(property string) *soap.Fault {
		return simulator.Fault("A specified parameter was not correct: "+property, &types.InvalidArgument{InvalidProperty: property})
	}

	var disk *types.VirtualDisk
	var backing *types.VirtualDiskFlatVer2BackingInfo
	var fault *soap.Fault
	// The VM's lock, as the simulator takes it for a call on the VM: snapshots are made and
	// removed under it, and the changeIds set.
	simulator.Map.WithLock(vm, func() {
		if req.Snapshot == nil {
			fault = invalid("snapshot")
			return
		}
		snap, ok := simulator.Map.Get(*req.Snapshot).(*simulator.VirtualMachineSnapshot)
		if !ok || snap.Vm != vm.Self {
			fault = invalid("snapshot")
			return
		}
		for _, d := range snap.Config.Hardware.Device {
			if vd, ok := d.(*types.VirtualDisk); ok && vd.Key == req.DeviceKey {
				disk = vd
			}
		}
		if disk == nil {
			fault = invalid("deviceKey")
			return
		}
		backing, _ = disk.Backing.(*types.VirtualDiskFlatVer2BackingInfo)
		enabled := vm.Config.ChangeTrackingEnabled != nil && *vm.Config.ChangeTrackingEnabled
		if backing == nil || cbt.disabled || !enabled || backing.ChangeId == "" {
			file := ""
			if fb, ok := disk.Backing.(types.BaseVirtualDeviceFileBackingInfo); ok {
				file = fb.GetVirtualDeviceFileBackingInfo().FileName
			}
			fault = simulator.Fault("Error caused by file "+file, &types.FileFault{File: file})
		}
	})
	if fault != nil {
		return nil, fault
	}

	cur := cbt.epoch(backing.ChangeId)
	if cur == nil { // not recorded: the content could not be read when the snapshot was taken
		return nil, simulator.Fault("Error caused by file "+backing.FileName, &types.FileFault{File: backing.FileName})
	}
	if req.StartOffset < 0 || req.StartOffset >= cur.capacity {
		return nil, invalid("startOffset")
	}
	var base *epoch
	if req.ChangeId != "*" {
		if base = cbt.epoch(req.ChangeId); base == nil || base.disk != cur.disk {
			return nil, invalid("changeId")
		}
	}
	return &types.DiskChangeInfo{
		StartOffset: req.StartOffset,
		Length:      cur.capacity - req.StartOffset,
		ChangedArea: changedAreas(cur, base, req.StartOffset),
	}, nil
}

// answerChangedDiskAreas answers a SOAP call to QueryChangedDiskAreas, and says whether body was
// one; anything else is left to the simulator.
func answerChangedDiskAreas(w http.ResponseWriter, r *http.Request, body []byte) bool {
	if !bytes.Contains(body, []byte("QueryChangedDiskAreas")) {
		return false
	}
	method, err := simulator.UnmarshalBody(types.TypeFunc(), body)
	if err != nil || method.Name != "QueryChangedDiskAreas" {
		return false
	}
	info, fault := queryChangedDiskAreas(r, method.Body.(*types.QueryChangedDiskAreas))
	if fault != nil {
		writeSOAP(w, http.StatusInternalServerError, struct{ Fault *soapFault }{&soapFault{
			Code:   fault.Code,
			String: fault.String,
			Detail: struct{ Fault *faultDetail }{&faultDetail{fault.Detail.Fault}},
		}})
		return true
	}
	writeSOAP(w, http.StatusOK, struct {
		Res *types.QueryChangedDiskAreasResponse `xml:"urn:vim25 QueryChangedDiskAreasResponse"`
	}{&types.QueryChangedDiskAreasResponse{Returnval: *info}})
	return true
}

// The envelope as the simulator writes it (simulator.go: soapEnvelope, soapFault, faultDetail are
// unexported), so that a client sees the same shape as for the simulator's own answers.

type soapEnvelope struct {
	XMLName xml.Name    `xml:"soapenv:Envelope"`
	Enc     string      `xml:"xmlns:soapenc,attr"`
	Env     string      `xml:"xmlns:soapenv,attr"`
	XSD     string      `xml:"xmlns:xsd,attr"`
	XSI     string      `xml:"xmlns:xsi,attr"`
	Body    interface{} `xml:"soapenv:Body"`
}

type soapFault struct {
	XMLName xml.Name `xml:"soapenv:Fault"`
	Code    string   `xml:"faultcode"`
	String  string   `xml:"faultstring"`
	Detail  struct {
		Fault *faultDetail
	} `xml:"detail"`
}

type faultDetail struct {
	Fault types.AnyType
}

// MarshalXML names the detail element after the fault's type: <InvalidArgumentFault
// xmlns="urn:vim25" xsi:type="InvalidArgument">.
func (d *faultDetail) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	kind := reflect.TypeOf(d.Fault).Elem().Name()
	start.Name.Local = kind + "Fault"
	start.Attr = append(start.Attr,
		xml.Attr{Name: xml.Name{Local: "xmlns"}, Value: "urn:vim25"},
		xml.Attr{Name: xml.Name{Local: "xsi:type"}, Value: kind})
	return e.EncodeElement(d.Fault, start)
}

func writeSOAP(w http.ResponseWriter, status int, body interface{}) {
	var out bytes.Buffer
	out.WriteString(xml.Header)
	err := xml.NewEncoder(&out).Encode(&soapEnvelope{
		Enc:  "http://schemas.xmlsoap.org/soap/encoding/",
		Env:  "http://schemas.xmlsoap.org/soap/envelope/",
		XSD:  "http://www.w3.org/2001/XMLSchema",
		XSI:  "http://www.w3.org/2001/XMLSchema-instance",
		Body: body,
	})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(out.Bytes())
}
