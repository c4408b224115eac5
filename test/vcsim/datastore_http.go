package main

// The datastore HTTP interface (GET/HEAD/PUT /folder/<path>?dcPath=…&dsName=…) guarded as on
// vCenter and ESXi; govmomi 0.24 serves it to anyone. A request is let through when it carries
//   - a cookie vmware_cgi_ticket=<id> of a ticket from SessionManager.AcquireGenericServiceTicket
//     whose spec (SessionManagerHttpServiceRequestSpec) names its method (httpGet for GET, …) and
//     its URL: the same unescaped path and query parameters, scheme and host ignored. A ticket is
//     single use (the first request presenting it spends it, let through or not) and is valid
//     10 minutes;
//   - or a cookie vmware_soap_session naming a live session, as vCenter accepts too.
// Anything else is answered 401.
//
// The simulator's AcquireGenericServiceTicket hands out an id and forgets what it was for, and it
// cannot be overridden as collector.go overrides the PropertyCollector: Registry.SessionManager()
// asserts that the registered object is a *simulator.SessionManager. So the ticket is noted on its
// way through HTTP instead: the call goes to the simulator untouched and the id of its answer is
// recorded with the spec of the request.

import (
	"bytes"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

const (
	ticketLifetime = 10 * time.Minute
	ticketCookie   = "vmware_cgi_ticket"
	folderPrefix   = "/folder/" // where the simulator serves datastores
)

// httpMethods maps a request's method to the name a ticket's spec gives it.
var httpMethods = map[string]types.SessionManagerHttpServiceRequestSpecMethod{
	http.MethodGet:     types.SessionManagerHttpServiceRequestSpecMethodHttpGet,
	http.MethodHead:    types.SessionManagerHttpServiceRequestSpecMethodHttpHead,
	http.MethodPut:     types.SessionManagerHttpServiceRequestSpecMethodHttpPut,
	http.MethodPost:    types.SessionManagerHttpServiceRequestSpecMethodHttpPost,
	http.MethodDelete:  types.SessionManagerHttpServiceRequestSpecMethodHttpDelete,
	http.MethodOptions: types.SessionManagerHttpServiceRequestSpecMethodHttpOptions,
}

// ticket is what a generic service ticket allows: one request.
type ticket struct {
	method  string
	path    string // unescaped
	query   url.Values
	expires time.Time
}

func (t ticket) allows(r *http.Request) bool {
	return time.Now().Before(t.expires) && t.method == string(httpMethods[r.Method]) &&
		t.path == r.URL.Path && reflect.DeepEqual(t.query, r.URL.Query())
}

// tickets are the generic service tickets issued and not yet spent.
type tickets struct {
	mu   sync.Mutex
	byID map[string]ticket
}

func (ts *tickets) issue(id string, t ticket) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	now := time.Now()
	for old, o := range ts.byID { // an expired ticket is no use to anyone: forget it
		if now.After(o.expires) {
			delete(ts.byID, old)
		}
	}
	ts.byID[id] = t
}

// spend removes the ticket of id and says whether it allows r.
func (ts *tickets) spend(id string, r *http.Request) bool {
	ts.mu.Lock()
	t, ok := ts.byID[id]
	delete(ts.byID, id)
	ts.mu.Unlock()
	return ok && t.allows(r)
}

// guardDatastores wraps the simulator's HTTP handler: /folder requests need a ticket or a session,
// the tickets issued by SOAP calls to sdkPath are recorded, and QueryChangedDiskAreas is answered
// here (cbt.go).
func guardDatastores(next http.Handler, sdkPath string) http.Handler {
	issued := &tickets{byID: map[string]ticket{}}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasPrefix(r.URL.Path, folderPrefix): // the mux redirects unclean paths here first
			if !admitted(issued, r) {
				http.Error(w, "401 Unauthorized", http.StatusUnauthorized)
				return
			}
		case r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, sdkPath): // /sdk, /sdk/vimService
			body, err := io.ReadAll(r.Body) // the simulator reads it whole too
			_ = r.Body.Close()
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			if !answerChangedDiskAreas(w, r, body) { // cbt.go: a method the simulator lacks
				recordTickets(issued, next, w, r, body)
			}
			return
		}
		next.ServeHTTP(w, r)
	})
}

// admitted: the request presents a ticket for itself, or a live session.
func admitted(issued *tickets, r *http.Request) bool {
	if c, err := r.Cookie(ticketCookie); err == nil && issued.spend(c.Value, r) {
		return true
	}
	c, err := r.Cookie(soap.SessionCookieName)
	return err == nil && liveSessions()[c.Value]
}

// acquireRequest is the part of an AcquireGenericServiceTicket call that a ticket is for.
type acquireRequest struct {
	Spec struct {
		Method string `xml:"method"`
		URL    string `xml:"url"`
	} `xml:"Body>AcquireGenericServiceTicket>spec"`
}

type acquireResponse struct {
	ID string `xml:"Body>AcquireGenericServiceTicketResponse>returnval>id"`
}

// recordTickets passes a SOAP call (body, read already; r.Body a copy) to the simulator; when it
// is an AcquireGenericServiceTicket for an http service, the answer is held back to record its
// ticket first.
func recordTickets(issued *tickets, next http.Handler, w http.ResponseWriter, r *http.Request, body []byte) {
	var req acquireRequest
	if !bytes.Contains(body, []byte("AcquireGenericServiceTicket")) || xml.Unmarshal(body, &req) != nil || req.Spec.URL == "" {
		next.ServeHTTP(w, r)
		return
	}
	u, err := url.Parse(req.Spec.URL)
	if err != nil {
		next.ServeHTTP(w, r) // nothing a request could match: the simulator answers as ever
		return
	}

	rec := httptest.NewRecorder()
	next.ServeHTTP(rec, r)
	var res acquireResponse
	if rec.Code == http.StatusOK && xml.Unmarshal(rec.Body.Bytes(), &res) == nil && res.ID != "" {
		issued.issue(res.ID, ticket{method: req.Spec.Method, path: u.Path, query: u.Query(), expires: time.Now().Add(ticketLifetime)})
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}
