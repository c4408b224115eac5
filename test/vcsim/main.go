// Command vcsim serves govmomi's vCenter/ESXi simulator (the `simulator` package of
// github.com/vmware/govmomi, as Debian ships it in golang-github-vmware-govmomi-dev) on a
// loopback port, for Ferry's tests. Debian has the library but not VMware's own vcsim command,
// so this is ours. It is built offline in GOPATH mode by scripts/build-vcsim.sh.
//
// On start it prints one JSON line on stdout (url, certificate thumbprints, credentials, the
// inventory counts and the datastores' local directories), then serves until SIGTERM or SIGINT,
// and exits 0.
//
// As on vCenter, the datastore HTTP interface (/folder/<path>?dcPath=…&dsName=…) answers 401
// unless the request carries a vmware_cgi_ticket cookie from AcquireGenericServiceTicket for its
// method and URL (single use, valid 10 minutes) or a live vmware_soap_session: datastore_http.go.
// VMs support changed-block tracking (VirtualMachine.QueryChangedDiskAreas), simulated from their
// disks' content at each snapshot, unless -no-cbt: cbt.go.
//
//	vcsim -mode vpx -dc 2 -cluster 2 -cluster-host 2 -host 1 -vm 2 -folder 1 -folder-depth 3
//	vcsim -mode esx -vm 4 -plain -username root -password secret -session-idle 2
//	vcsim -mode esx -vm 1 -disk-mb 8
//	vcsim -vm 1 -disk-mb 8 -no-cbt
//	vcsim -vm 6 -page-size 5 -fault-expired-reads -cert-dir /tmp/vcsim-cert -listen 127.0.0.1:18443
package main

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/google/uuid"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

type options struct {
	mode        string
	dc          int
	cluster     int
	clusterHost int
	host        int
	vm          int
	ds          int
	folder      int
	folderDepth int
	listen      string
	plain       bool
	username    string
	password    string
	sessionIdle float64
	duplicate   int
	pageSize    int
	faultReads  bool
	certDir     string
	diskMB      int
	noCBT       bool
}

// started is the one line printed on stdout once the simulator serves.
type started struct {
	URL         string `json:"url"`
	Thumbprint  string `json:"thumbprint"`
	SHA256      string `json:"sha256"`
	Username    string `json:"username"`
	Password    string `json:"password"`
	VMs         int    `json:"vms"`
	Hosts       int    `json:"hosts"`
	Datacenters int    `json:"datacenters"`
	Clusters    int    `json:"clusters"`
	Folders     int    `json:"folders"`
	// where each datastore keeps its files, so that a test can write into a VM's disk
	Datastores []localDatastore `json:"datastores"`
}

func main() {
	var o options
	flag.StringVar(&o.mode, "mode", "vpx", "vpx (a vCenter: simulator.VPX()) or esx (a standalone ESXi host: simulator.ESX())")
	flag.IntVar(&o.dc, "dc", 1, "datacenters (vpx)")
	flag.IntVar(&o.cluster, "cluster", 1, "clusters per datacenter (vpx)")
	flag.IntVar(&o.clusterHost, "cluster-host", 3, "hosts per cluster (vpx)")
	flag.IntVar(&o.host, "host", 1, "standalone hosts per datacenter (vpx)")
	flag.IntVar(&o.vm, "vm", 2, "VMs per standalone host and per cluster (its root resource pool); on esx, VMs of the host")
	flag.IntVar(&o.ds, "ds", 1, "local datastores, mounted on every host of a datacenter (VMs need at least one)")
	flag.IntVar(&o.folder, "folder", 0, "datacenters (the last N) placed in a folder F<i> under the root folder, their host/vm/datastore/network items in sub-folders F<i> (simulator Model.Folder; vpx)")
	flag.IntVar(&o.folderDepth, "folder-depth", 0, "nested VM folders per datacenter: a chain <DC>_NF1/<DC>_NF2/.../<DC>_NF<D> under the folder holding its VMs; the VMs are spread over the levels, deepest first (vpx)")
	flag.StringVar(&o.listen, "listen", "127.0.0.1:0", "loopback address and port to serve on (port 0: any free port; a fixed port can be taken again as soon as a previous vcsim on it has exited: Go listens with SO_REUSEADDR)")
	flag.BoolVar(&o.plain, "plain", false, "serve plain http instead of https")
	flag.StringVar(&o.username, "username", "user", "the only user name Login accepts")
	flag.StringVar(&o.password, "password", "pass", "the only password Login accepts")
	flag.Float64Var(&o.sessionIdle, "session-idle", 0, "seconds after which an idle session expires (simulator.SessionIdleTimeout; 0 = never)")
	flag.IntVar(&o.duplicate, "duplicate-uuid", 0, "pairs of VMs made to share one config.uuid (BIOS uuid); their instanceUuid stay distinct")
	flag.IntVar(&o.pageSize, "page-size", 0, "page RetrievePropertiesEx answers as vCenter does: at most min(options.maxObjects, N) objects and a token for the rest, ContinueRetrievePropertiesEx and CancelRetrievePropertiesEx implemented (0 = off: every object at once, no token)")
	flag.BoolVar(&o.faultReads, "fault-expired-reads", false, "RetrieveProperties(Ex) without a valid session fault NotAuthenticated (HTTP 500) as on vCenter, instead of answering 200 with every property in missingSet")
	flag.StringVar(&o.certDir, "cert-dir", "", "serve DIR/cert.pem with DIR/key.pem, first creating a self-signed ECDSA P-256 pair there when both are absent (default: the simulator's built-in certificate)")
	flag.IntVar(&o.diskMB, "disk-mb", 0, "give every VM disk N MiB: its capacity in config.hardware.device, a sparse extent <name>-flat.vmdk of that size and a VMware monolithic flat descriptor <name>.vmdk naming it, to be read over /folder with a ticket from AcquireGenericServiceTicket (single use, valid 10 minutes) (0 = the model's 1 MiB disks, two empty files)")
	flag.BoolVar(&o.noCBT, "no-cbt", false, "changed-block tracking unsupported: every VM reports capability.changeTrackingSupported false. ReconfigVM_Task still sets config.changeTrackingEnabled (the simulator checks no capability), but snapshots give the disks no backing.changeId and QueryChangedDiskAreas faults FileFault, as vSphere does for a disk whose changes are not tracked (default: supported; a snapshot of a VM with config.changeTrackingEnabled gives each disk a changeId, and QueryChangedDiskAreas answers from the flat extents' content in 64 KiB chunks)")
	flag.Parse()

	if err := run(o); err != nil {
		fmt.Fprintf(os.Stderr, "vcsim: %v\n", err)
		os.Exit(2)
	}
}

func validate(o *options) error {
	if flag.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", flag.Args())
	}
	set := map[string]bool{}
	flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
	switch o.mode {
	case "vpx":
		if o.folder > o.dc {
			return fmt.Errorf("-folder %d: at most -dc (%d) datacenters can be placed in folders", o.folder, o.dc)
		}
	case "esx":
		for _, name := range []string{"dc", "cluster", "cluster-host", "host", "folder", "folder-depth"} {
			if set[name] {
				return fmt.Errorf("-%s applies to -mode vpx only (an ESXi host has one datacenter, one host, no folders)", name)
			}
		}
	default:
		return fmt.Errorf("-mode %q: vpx or esx", o.mode)
	}
	if o.plain && o.certDir != "" {
		return errors.New("-cert-dir is for https: not with -plain")
	}
	for name, n := range map[string]int{"dc": o.dc, "cluster": o.cluster, "cluster-host": o.clusterHost, "host": o.host, "vm": o.vm, "ds": o.ds, "folder": o.folder, "folder-depth": o.folderDepth, "duplicate-uuid": o.duplicate, "page-size": o.pageSize, "disk-mb": o.diskMB} {
		if n < 0 {
			return fmt.Errorf("-%s %d: must not be negative", name, n)
		}
	}
	if o.vm > 0 && o.ds < 1 {
		return errors.New("-ds 0: VMs need a datastore")
	}
	if o.username == "" || o.password == "" {
		return errors.New("-username and -password must not be empty")
	}
	if o.sessionIdle < 0 {
		return errors.New("-session-idle must not be negative")
	}
	host, _, err := net.SplitHostPort(o.listen)
	if err != nil {
		return fmt.Errorf("-listen %q: %v", o.listen, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("-listen %q: only a loopback IP address (127.0.0.1, ::1) is allowed", o.listen)
	}
	return nil
}

func run(o options) (err error) {
	if err := validate(&o); err != nil {
		return err
	}

	var m *simulator.Model
	if o.mode == "esx" {
		m = simulator.ESX()
	} else {
		m = simulator.VPX()
		m.Datacenter = o.dc
		m.Cluster = o.cluster
		m.ClusterHost = o.clusterHost
		m.Host = o.host
		m.Folder = o.folder
	}
	m.Machine = o.vm
	m.Datastore = o.ds

	if err := m.Create(); err != nil {
		return fmt.Errorf("creating the model: %v", err)
	}
	defer m.Remove() // the datastores' temporary directories

	if o.mode != "esx" {
		// every vCenter has its own instance UUID; 0.24's VPX model means to draw one but keeps its
		// fixed one (it sets a copy), so two vcsims would look like one vCenter
		si := simulator.Map.Get(vim25.ServiceInstance).(*simulator.ServiceInstance)
		si.Content.About.InstanceUuid = uuid.New().String()
	}

	ctx := context.Background()
	// The simulator's in-process client (no HTTP), as Model.Create uses it.
	c, err := vim25.NewClient(ctx, m.Service)
	if err != nil {
		return err
	}
	if o.folderDepth > 0 {
		if err := nestFolders(ctx, c, o.folderDepth); err != nil {
			return fmt.Errorf("nesting folders: %v", err)
		}
	}
	if o.duplicate > 0 {
		if err := duplicateUUIDs(ctx, c, o.duplicate); err != nil {
			return err
		}
	}

	if o.diskMB > 0 {
		if err := sizeDisks(ctx, c, o.diskMB); err != nil {
			return fmt.Errorf("-disk-mb: %v", err)
		}
	}

	installChangeTracking(o.noCBT) // cbt.go

	simulator.SessionIdleTimeout = time.Duration(o.sessionIdle * float64(time.Second))
	if o.pageSize > 0 || o.faultReads {
		installCollector(c.ServiceContent.PropertyCollector, o.pageSize, o.faultReads)
	}

	// A user other than simulator.DefaultLogin (even user/pass) makes Login check both fields;
	// with DefaultLogin it accepts any non-empty pair.
	m.Service.Listen = &url.URL{Host: o.listen, User: url.UserPassword(o.username, o.password)}
	if !o.plain {
		m.Service.TLS = new(tls.Config) // the simulator's self-signed certificate (127.0.0.1, ::1)
		if o.certDir != "" {
			cert, err := loadOrCreateCert(o.certDir)
			if err != nil {
				return fmt.Errorf("-cert-dir: %v", err)
			}
			m.Service.TLS.Certificates = []tls.Certificate{cert}
		}
	}
	defer func() {
		if r := recover(); r != nil { // NewServer panics when it cannot listen
			err = fmt.Errorf("%v", r)
		}
	}()
	s := m.Service.NewServer()
	// NewServer starts serving its own mux, and 0.24 offers no way in before (registering /folder/
	// again panics), so the guard goes in just after: no client knows the URL before it is printed.
	s.Config.Handler = guardDatastores(s.Config.Handler, simulator.Map.Path)

	u := *s.URL
	u.User = nil
	out := started{URL: u.String(), Username: o.username, Password: o.password}
	if !o.plain {
		der := s.Certificate().Raw
		s1 := sha1.Sum(der)
		s256 := sha256.Sum256(der)
		out.Thumbprint = colonHex(s1[:])
		out.SHA256 = colonHex(s256[:])
	}
	out.Datastores = localDatastores()
	count := m.Count()
	out.VMs, out.Hosts, out.Datacenters, out.Clusters, out.Folders = count.Machine, count.Host, count.Datacenter, count.Cluster, count.Folder
	line, _ := json.Marshal(out)
	fmt.Println(string(line))

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	<-stop

	// Close waits for requests in flight; a WaitForUpdatesEx without a timeout could hold it.
	closed := make(chan struct{})
	go func() { s.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(3 * time.Second):
	}
	return nil
}

// colonHex is how vSphere shows certificate thumbprints: AA:BB:CC...
func colonHex(b []byte) string {
	parts := make([]string, len(b))
	for i, x := range b {
		parts[i] = fmt.Sprintf("%02X", x)
	}
	return strings.Join(parts, ":")
}

func entityName(ref types.ManagedObjectReference) string {
	return simulator.Map.Get(ref).(mo.Entity).Entity().Name
}

// vmsUnder lists the VMs below folder (recursively), sorted by name.
func vmsUnder(folder types.ManagedObjectReference) []types.ManagedObjectReference {
	var vms []types.ManagedObjectReference
	var walk func(types.ManagedObjectReference)
	walk = func(ref types.ManagedObjectReference) {
		f, ok := simulator.Map.Get(ref).(*simulator.Folder)
		if !ok {
			return
		}
		for _, child := range f.ChildEntity {
			switch child.Type {
			case "VirtualMachine":
				vms = append(vms, child)
			case "Folder":
				walk(child)
			}
		}
	}
	walk(folder)
	sort.Slice(vms, func(i, j int) bool { return entityName(vms[i]) < entityName(vms[j]) })
	return vms
}

// nestFolders makes, in every datacenter, a chain of `depth` VM folders under the folder that
// holds its VMs (vm/ or, with -folder, vm/F<i>/), and moves the VMs into it: VM j (by name) goes
// to level depth-(j mod (depth+1)), so the deepest level is filled first and level 0 (where the
// model put them) keeps some once every level has one. The model itself only nests one level.
func nestFolders(ctx context.Context, c *vim25.Client, depth int) error {
	dcs := simulator.Map.All("Datacenter")
	sort.Slice(dcs, func(i, j int) bool { return dcs[i].Entity().Name < dcs[j].Entity().Name })
	for _, e := range dcs {
		dc := e.(*simulator.Datacenter)
		vms := vmsUnder(dc.VmFolder)
		base := dc.VmFolder
		if len(vms) > 0 {
			base = *simulator.Map.Get(vms[0]).(mo.Entity).Entity().Parent
		}
		levels := []*object.Folder{object.NewFolder(c, base)}
		for level := 1; level <= depth; level++ {
			f, err := levels[level-1].CreateFolder(ctx, fmt.Sprintf("%s_NF%d", dc.Name, level))
			if err != nil {
				return err
			}
			levels = append(levels, f)
		}
		moves := make([][]types.ManagedObjectReference, depth+1)
		for j, vm := range vms {
			level := depth - j%(depth+1)
			moves[level] = append(moves[level], vm)
		}
		for level := 1; level <= depth; level++ {
			if len(moves[level]) == 0 {
				continue
			}
			task, err := levels[level].MoveInto(ctx, moves[level])
			if err != nil {
				return err
			}
			if err := task.Wait(ctx); err != nil {
				return err
			}
		}
	}
	return nil
}

// duplicateUUIDs gives VM 2k+1 the config.uuid of VM 2k (VMs sorted by name), as
// ReconfigVM_Task with spec.uuid does on a real vSphere; instanceUuid is left alone.
func duplicateUUIDs(ctx context.Context, c *vim25.Client, pairs int) error {
	all := simulator.Map.All("VirtualMachine")
	if 2*pairs > len(all) {
		return fmt.Errorf("-duplicate-uuid %d needs %d VMs, the inventory has %d", pairs, 2*pairs, len(all))
	}
	vms := make([]*simulator.VirtualMachine, len(all))
	for i, e := range all {
		vms[i] = e.(*simulator.VirtualMachine)
	}
	sort.Slice(vms, func(i, j int) bool { return vms[i].Name < vms[j].Name })
	for k := 0; k < pairs; k++ {
		src, dst := vms[2*k], vms[2*k+1]
		task, err := object.NewVirtualMachine(c, dst.Self).Reconfigure(ctx, types.VirtualMachineConfigSpec{Uuid: src.Config.Uuid})
		if err != nil {
			return err
		}
		if err := task.Wait(ctx); err != nil {
			return fmt.Errorf("duplicating the uuid of %s onto %s: %v", src.Name, dst.Name, err)
		}
	}
	return nil
}
