package compile

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/literal"
	"cuelang.org/go/cue/token"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/fleetc/fleetc/internal/argocd"
	"github.com/fleetc/fleetc/internal/diag"
	"github.com/fleetc/fleetc/internal/load"
)

// numericHost reports whether every dot-separated label of host is a
// number, decimal or 0x-hexadecimal: URL parsers (WHATWG's, browsers',
// curl's through getaddrinfo) read such a host as an IPv4 address, in
// forms such as 2130706433, 0x7f.1 or 010.0.0.1 that name another address
// than they seem to, or none (999.1.1.1): only the usual dotted quad is a
// host fleetc can compare.
func numericHost(host string) bool {
	for _, label := range strings.Split(host, ".") {
		digits := label
		if len(label) >= 2 && label[0] == '0' && (label[1] == 'x' || label[1] == 'X') {
			digits = label[2:]
			if strings.Trim(digits, "0123456789abcdefABCDEF") != "" {
				return false
			}
			continue
		}
		if digits == "" || strings.Trim(digits, "0123456789") != "" {
			return false
		}
	}
	return true
}

// serverField is the field of a cluster that holds its API server URL.
const serverField = "server"

// serverProblem says what makes s unfit to be a cluster's `server`, or ""
// if nothing does. A server is an https URL with a host (a DNS name, an
// IPv4 address or a bracketed IPv6 literal), an optional port from 1 to
// 65535 and an optional path, as Argo CD supports servers behind a path
// prefix; no user information, query or fragment. defs' #Server says as
// much as a regular expression can, and accepts everything this accepts
// (TestServerAgreesWithDefs), so that `cue vet` and fleetc never disagree
// on a valid server.
//
// The message never holds the user information of s: it may be a
// password.
func serverProblem(s string) string {
	if _, after, ok := strings.Cut(s, "://"); ok {
		if authority, _, _ := strings.Cut(after, "/"); strings.Contains(authority, "@") {
			return "the URL has user information (user@ or user:password@ before the host): Argo CD authenticates with the cluster's credentials, never with the server URL, which it shows to everyone who may see the cluster; remove it"
		}
	}
	if !strings.HasPrefix(s, "https://") {
		return fmt.Sprintf("%q is not an https URL: Argo CD reaches a cluster's API server at https://<host>[:<port>][/<path>]", s)
	}
	if strings.ContainsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) {
		return fmt.Sprintf("%q has a space or a control character", s)
	}
	if strings.Contains(s, "?") {
		return fmt.Sprintf("%q has a query (?…): an API server URL has a host, an optional port and path, and no query", s)
	}
	if strings.Contains(s, "#") {
		return fmt.Sprintf("%q has a fragment (#…): an API server URL has a host, an optional port and path, and no fragment", s)
	}
	authority, _, _ := strings.Cut(strings.TrimPrefix(s, "https://"), "/")
	if authority == "" || strings.HasPrefix(authority, ":") {
		return fmt.Sprintf("%q has no host", s)
	}
	u, err := url.Parse(s)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // without the URL, which the message has
		}
		return fmt.Sprintf("%q is not a valid URL: %v", s, err)
	}
	host := u.Hostname()
	if host == "" {
		return fmt.Sprintf("%q has no host", s)
	}
	if strings.HasPrefix(authority, "[") {
		addr, err := netip.ParseAddr(host)
		if err != nil || !addr.Is6() || addr.Zone() != "" || strings.Contains(authority, "%") {
			return fmt.Sprintf("%q: %s between brackets is not an IPv6 address (without a zone)", s, host)
		}
	} else if msgs := validation.IsDNS1123Subdomain(strings.ToLower(host)); len(msgs) > 0 || strings.Contains(authority, "%") {
		return fmt.Sprintf("%q: host %s is not a DNS name or an IP address: a DNS name is labels of letters, digits and '-', separated by dots", s, host)
	} else if numericHost(host) {
		if a, err := netip.ParseAddr(host); err != nil || !a.Is4() || a.String() != host {
			return fmt.Sprintf("%q: host %s is not a DNS name or an IP address: its labels are all numbers, so it is read as an IPv4 address, and it is none written the usual way (four numbers from 0 to 255 without leading zeros, such as 10.0.0.1)", s, host)
		}
	}
	for _, seg := range strings.Split(u.Path, "/") {
		if seg == "." || seg == ".." {
			return fmt.Sprintf("%q: its path has a %q segment: clients resolve it to another path than written, so write the path it stands for", s, seg)
		}
	}
	if strings.HasSuffix(authority, ":") {
		return fmt.Sprintf("%q has an empty port after its host: leave out the colon, or give the port", s)
	}
	if port := u.Port(); port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 || port[0] == '0' {
			return fmt.Sprintf("%q: port %s is not a port: a port is a number from 1 to 65535, without leading zeros", s, port)
		}
	}
	return ""
}

// fleetServer is a cluster's server, for the checks of the whole fleet.
type fleetServer struct {
	file   *load.ClusterFile
	server string
}

// duplicateServers reports clusters that register the same API server
// (argocd.ServerKey, which diff uses too) and clusters whose
// registrations get the same Secret name (argocd.SecretName, a hash of the server as written): Argo CD keys
// clusters by server URL and a Secret by its name, so the second would
// replace the first or register one API server twice. The cluster met
// later in servers is the one reported, naming the one that already has
// the server or name, with its file and position.
func duplicateServers(root string, servers []fleetServer) diag.List {
	type owner struct {
		at     int
		server string
	}
	byKey := map[string]owner{}
	byName := map[string]owner{}
	var out diag.List
	for i, fs := range servers {
		s := fs.server
		if s == "" {
			continue
		}
		key := argocd.ServerKey(s)
		if o, ok := byKey[key]; ok {
			where := fieldAt(root, servers[o.at].file)
			msg := fmt.Sprintf("%s is also the server of cluster %q (%s): Argo CD keys clusters by server URL", s, servers[o.at].file.Name, where)
			if o.server != s {
				msg = fmt.Sprintf("%s is the API server of cluster %q (%s), written %s there: a host's case, a trailing slash and the default port :443 make no other server, and Argo CD would register the one API server twice", s, servers[o.at].file.Name, where, o.server)
			}
			out = append(out, serverDiag(fs.file, msg))
			continue
		}
		byKey[key] = owner{at: i, server: s}
		name, err := argocd.SecretName(s)
		if err != nil {
			continue // the cluster's render step reports it
		}
		if o, ok := byName[name]; ok {
			out = append(out, serverDiag(fs.file, fmt.Sprintf("the registration of this cluster is Secret %s, and so is that of cluster %q (%s, server %s): the name is a hash of the server, and Argo CD keeps one Secret of a name; change one of the two servers' spelling, such as a trailing slash",
				name, servers[o.at].file.Name, fieldAt(root, servers[o.at].file), o.server)))
			continue
		}
		byName[name] = owner{at: i, server: s}
	}
	return out
}

// serverDiag is a diagnostic of cluster file f at its server field, or at
// its name if the file does not spell the field out.
func serverDiag(f *load.ClusterFile, msg string) diag.Diagnostic {
	d := diag.Errorf(f.Pos, f.Name, "%s", msg)
	if pos := ownField(f, serverField); pos.IsValid() {
		d.Pos, d.Path = pos.Position(), serverField
	}
	return d
}

// fieldAt is where cluster file f sets its server, or else names its
// cluster, as file:line:col relative to the module root.
func fieldAt(root string, f *load.ClusterFile) string {
	at := f.Pos.Position()
	if pos := ownField(f, serverField); pos.IsValid() {
		at = pos.Position()
	}
	rel, err := filepath.Rel(root, at.Filename)
	if err != nil {
		rel = at.Filename
	}
	return fmt.Sprintf("%s:%d:%d", filepath.ToSlash(rel), at.Line, at.Column)
}

// fleetServers pairs each cluster file with its server for
// duplicateServers, the context clusters (files[selected:]) first, so
// that a selected cluster that shares a server with another is the one
// reported.
func fleetServers(files []*load.ClusterFile, servers []string, selected int) []fleetServer {
	out := make([]fleetServer, 0, len(files))
	for i := selected; i < len(files); i++ {
		out = append(out, fleetServer{files[i], servers[i]})
	}
	for i := range selected {
		out = append(out, fleetServer{files[i], servers[i]})
	}
	return out
}

// contextClusters are the clusters of p that are not among files.
func contextClusters(p *load.Platform, files []*load.ClusterFile) []*load.ClusterFile {
	in := make(map[*load.ClusterFile]bool, len(files))
	for _, f := range files {
		in[f] = true
	}
	var out []*load.ClusterFile
	for _, f := range p.Clusters {
		if !in[f] {
			out = append(out, f)
		}
	}
	return out
}

// serverFirst replaces what CUE says about the cluster's own server,
// when the file sets it to a string that serverProblem rejects, with what
// serverProblem says: the one message a server gets, whether #Server or
// fleetc's check catches it, and one that never shows the URL's user
// information, which CUE's "invalid value" would print.
func serverFirst(f *load.ClusterFile, data cue.Value, ds diag.List) diag.List {
	own := data.LookupPath(cue.MakePath(cue.Str(load.ClustersField), cue.Str(f.Name), cue.Str(serverField)))
	s, err := own.String()
	if err != nil {
		return ds
	}
	msg := serverProblem(s)
	if msg == "" {
		return ds
	}
	out := slices.DeleteFunc(slices.Clone(ds), func(d diag.Diagnostic) bool { return d.Path == serverField })
	if len(out) == len(ds) {
		return ds // CUE said nothing about the server
	}
	d := serverDiag(f, msg)
	d.Path = serverField
	return append(out, d).Sorted()
}

// literalServer is the server that cluster file f writes out as a plain
// string, or "": what the whole fleet's checks count for a context
// cluster that does not compile.
func literalServer(f *load.ClusterFile) string {
	fd := load.Field(f.Syntax.Decls, load.ClustersField, f.Name, serverField)
	if fd == nil {
		return ""
	}
	lit, ok := fd.Value.(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return ""
	}
	s, err := literal.Unquote(lit.Value)
	if err != nil {
		return ""
	}
	return s
}

// unchecked is the error of a context cluster that does not compile and
// whose server is not written out: the selected clusters cannot be
// checked against it, and a compile does not pass what it cannot check.
func unchecked(f *load.ClusterFile) diag.Diagnostic {
	return diag.Errorf(f.Pos, f.Name, "cluster %s does not compile and does not write its server out as a string, so the selected clusters cannot be checked against it (servers and Secret names are unique in the whole fleet): fix it first; vet --cluster %s says what is wrong", f.Name, f.Name)
}
