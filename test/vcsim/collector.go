package main

// -page-size and -fault-expired-reads: a PropertyCollector closer to vCenter's than govmomi 0.24's.
//
// The simulator finds a method by name on the object registered for the moref (reflection), and
// gives each session its own instance of the root PropertyCollector made with reflect.New of the
// registered type. So registering a type that embeds simulator.PropertyCollector (by value, for
// reflect.New) overrides and adds methods for every session; its state is package-level.

import (
	"crypto/rand"
	"encoding/hex"
	"sync"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

var collectorOptions struct {
	pageSize          int  // > 0: at most that many objects per RetrievePropertiesEx answer, the rest paged
	faultExpiredReads bool // reads without a valid session fault NotAuthenticated
}

// collector is the PropertyCollector registered in place of the simulator's.
type collector struct {
	simulator.PropertyCollector
}

// installCollector replaces the root PropertyCollector (before the server starts).
func installCollector(ref types.ManagedObjectReference, pageSize int, faultExpiredReads bool) {
	collectorOptions.pageSize, collectorOptions.faultExpiredReads = pageSize, faultExpiredReads
	pc := new(collector)
	pc.Self = ref
	simulator.Map.Put(pc)
}

// CreatePropertyCollector makes collectors of our type too, so they page as well.
func (pc *collector) CreatePropertyCollector(ctx *simulator.Context, _ *types.CreatePropertyCollector) soap.HasFault {
	return &methods.CreatePropertyCollectorBody{Res: &types.CreatePropertyCollectorResponse{
		Returnval: ctx.Session.Put(new(collector)).Reference(),
	}}
}

// notAuthenticated is what vCenter answers a read made without a valid session, as the simulator
// does for other methods (HTTP 500, NotAuthenticatedFault). The simulator answers reads 200 with
// every property in missingSet instead, and Continue/CancelRetrievePropertiesEx never get here
// without a session: it faults NotAuthenticated for them itself.
func notAuthenticated(ctx *simulator.Context, this types.ManagedObjectReference) *soap.Fault {
	if ctx.Session != nil || !collectorOptions.faultExpiredReads {
		return nil
	}
	return simulator.Fault("The session is not authenticated.", &types.NotAuthenticated{
		NoPermission: types.NoPermission{Object: this, PrivilegeId: "System.View"},
	})
}

func (pc *collector) RetrieveProperties(ctx *simulator.Context, r *types.RetrieveProperties) soap.HasFault {
	if f := notAuthenticated(ctx, r.This); f != nil {
		return &methods.RetrievePropertiesBody{Fault_: f}
	}
	return pc.PropertyCollector.RetrieveProperties(ctx, r)
}

func (pc *collector) RetrievePropertiesEx(ctx *simulator.Context, r *types.RetrievePropertiesEx) soap.HasFault {
	if f := notAuthenticated(ctx, r.This); f != nil {
		return &methods.RetrievePropertiesExBody{Fault_: f}
	}
	body := pc.PropertyCollector.RetrievePropertiesEx(ctx, r).(*methods.RetrievePropertiesExBody)
	if body.Res == nil || body.Res.Returnval == nil || ctx.Session == nil || collectorOptions.pageSize <= 0 {
		return body
	}
	limit := collectorOptions.pageSize // the server's own cap, as vCenter has one
	if max := int(r.Options.MaxObjects); max > 0 && max < limit {
		limit = max
	}
	body.Res.Returnval = paging.start(ctx, pc.Self, body.Res.Returnval.Objects, limit)
	return body
}

func (pc *collector) ContinueRetrievePropertiesEx(ctx *simulator.Context, r *types.ContinueRetrievePropertiesEx) soap.HasFault {
	body := new(methods.ContinueRetrievePropertiesExBody)
	if p := paging.take(ctx, pc.Self, r.Token); p == nil {
		body.Fault_ = invalidToken()
	} else {
		body.Res = &types.ContinueRetrievePropertiesExResponse{Returnval: *paging.start(ctx, pc.Self, p.objects, p.limit)}
	}
	return body
}

func (pc *collector) CancelRetrievePropertiesEx(ctx *simulator.Context, r *types.CancelRetrievePropertiesEx) soap.HasFault {
	body := new(methods.CancelRetrievePropertiesExBody)
	if p := paging.take(ctx, pc.Self, r.Token); p == nil {
		body.Fault_ = invalidToken()
	} else {
		body.Res = new(types.CancelRetrievePropertiesExResponse)
	}
	return body
}

// invalidToken: a token that is unknown, used already, cancelled, or not of this session and
// collector. vCenter answers InvalidArgument ("A specified parameter was not correct: token").
func invalidToken() *soap.Fault {
	return simulator.Fault("A specified parameter was not correct: token", &types.InvalidArgument{InvalidProperty: "token"})
}

// page is what remains of a retrieval, behind a token.
type page struct {
	session   string // the session key
	collector types.ManagedObjectReference
	objects   []types.ObjectContent
	limit     int
}

type pages struct {
	mu     sync.Mutex
	tokens map[string]*page
}

var paging = pages{tokens: map[string]*page{}}

// start answers the first `limit` objects, and a token for the rest if any remain.
func (ps *pages) start(ctx *simulator.Context, pc types.ManagedObjectReference, objects []types.ObjectContent, limit int) *types.RetrieveResult {
	if len(objects) <= limit {
		return &types.RetrieveResult{Objects: objects}
	}
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	token := hex.EncodeToString(b)
	live := liveSessions()
	ps.mu.Lock()
	defer ps.mu.Unlock()
	for t, p := range ps.tokens { // the tokens of ended sessions go with them
		if !live[p.session] {
			delete(ps.tokens, t)
		}
	}
	ps.tokens[token] = &page{session: ctx.Session.Key, collector: pc, objects: objects[limit:], limit: limit}
	return &types.RetrieveResult{Objects: objects[:limit], Token: token}
}

// take removes and returns the page of token, if it belongs to this session and collector.
func (ps *pages) take(ctx *simulator.Context, pc types.ManagedObjectReference, token string) *page {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	p := ps.tokens[token]
	if p == nil || p.session != ctx.Session.Key || p.collector != pc {
		return nil
	}
	delete(ps.tokens, token)
	return p
}

// liveSessions are the keys of the sessions that exist now: a session's view of the
// SessionManager lists them all (a blank session will do; the datastore guard has none).
func liveSessions() map[string]bool {
	view := &simulator.Session{Registry: simulator.NewRegistry()}
	sm := view.Get(simulator.Map.SessionManager().Reference()).(*simulator.SessionManager)
	live := map[string]bool{}
	for _, s := range sm.SessionList {
		live[s.Key] = true
	}
	return live
}
